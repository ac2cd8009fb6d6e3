package swarm

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// attacker is a peer under the test's control, connected to a node.
type attacker struct {
	nc net.Conn
}

// attack connects from ip to a node of stream ih and exchanges handshakes.
func attack(t *testing.T, ip string, to netip.AddrPort, ih transport.InfoHash) *attacker {
	t.Helper()
	nc, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP(ip)}, net.TCPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.Write(wire.Handshake{InfoHash: ih, PeerID: NewPeerID()}.Marshal())
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := wire.ReadHandshake(nc); err != nil {
		t.Fatal(err)
	}
	return &attacker{nc}
}

func (a *attacker) send(ms ...*wire.Message) {
	var b []byte
	for _, m := range ms {
		b = m.Append(b)
	}
	a.nc.Write(b)
}

// hungUp tells whether the node closed the connection within d (reading what it sends).
func (a *attacker) hungUp(d time.Duration) bool {
	a.nc.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := wire.ReadFrame(a.nc, nil); err != nil {
			ne, ok := err.(net.Error)
			return !ok || !ne.Timeout()
		}
	}
}

// feed publishes a piece every 50 ms (a keyframe every fourth) until the test ends.
func feed(t *testing.T, ctx context.Context, src *testNode, priv []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := uint32(1000); ctx.Err() == nil; n++ {
			if publish(ctx, src, priv, n, n%4 == 0) != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { <-done })
}

// Claims of pieces far beyond anything the source signed (in HELLO, WINDOW or HAVE) do not move
// a viewer's or a relay's live edge: both go on receiving every piece, and the claimant is
// disconnected and banned.
func TestPoisonedClaimsAreRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	poison := wire.WindowInfo{First: 0, Last: 0xFFFFFFF0, Keyframe: 0xFFFFFFF0}
	empty := wire.WindowInfo{Empty: true, NoKeyframe: true}
	for i, tc := range []struct {
		name string
		msgs []*wire.Message
	}{
		{"hello", []*wire.Message{{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: poison}}},
		{"window", []*wire.Message{{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: empty}, {Type: wire.Window, Window: poison}}},
		{"have", []*wire.Message{{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: empty}, {Type: wire.Have, Number: 0xFFFFFFF0, Keyframe: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f, priv := testFile(t)
			base := 20 + 5*i
			ip := func(k int) string { return "127.0.1." + strconv.Itoa(base+k) }
			src := startNode(t, ctx, ip(0), Config{Role: wire.RoleSource, File: f})
			relay := startNode(t, ctx, ip(1), Config{Role: wire.RoleSupport, File: f, Peers: []netip.AddrPort{src.addr}})
			viewer := startNode(t, ctx, ip(2), Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{src.addr}})
			feed(t, ctx, src, priv)
			readPieces(t, ctx, viewer.sess, 3)
			readPieces(t, ctx, relay.sess, 3)
			for _, target := range []*testNode{viewer, relay} {
				a := attack(t, ip(3), target.addr, f.InfoHash())
				a.send(tc.msgs...)
				if !a.hungUp(5 * time.Second) {
					t.Fatalf("role %d: the claimant was not disconnected", target.sess.cfg.Role)
				}
				again := attack(t, ip(3), target.addr, f.InfoHash())
				if !again.hungUp(3 * time.Second) {
					t.Fatalf("role %d: the claimant was not banned", target.sess.cfg.Role)
				}
			}
			for _, n := range []*testNode{viewer, relay} {
				got := readPieces(t, ctx, n.sess, 40) // 2 s of pieces after the attack, in order
				for k := 1; k < len(got); k++ {
					if got[k].Header.Number != got[k-1].Header.Number+1 {
						t.Fatalf("role %d: piece %d after %d", n.sess.cfg.Role, got[k].Header.Number, got[k-1].Header.Number)
					}
				}
			}
		})
	}
}

// Connections that complete the handshake and then say nothing, or say HELLO and then nothing
// useful, cannot lock a full node: the silent are dropped after helloWait, and the idle give
// their slot to a newcomer after uselessAfter.
func TestSilentConnectionsDoNotLockNewcomersOut(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	h, u := helloWait, uselessAfter
	t.Cleanup(func() { helloWait, uselessAfter = h, u }) // runs last, once the nodes have stopped
	helloWait, uselessAfter = 3*time.Second, 4*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, priv := testFile(t)
	src := startNode(t, ctx, "127.0.1.60", Config{Role: wire.RoleSource, File: f})
	feed(t, ctx, src, priv) // MaxPeers is 20 in these tests
	var silent, idle []*attacker
	for i := range 20 {
		a := attack(t, "127.0.1."+strconv.Itoa(61+i%5), src.addr, f.InfoHash())
		if i%2 == 0 {
			a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}})
			idle = append(idle, a)
		} else {
			silent = append(silent, a)
		}
	}
	waitUntil(t, 2*time.Second, "the 20 attackers hold every peer slot", func() bool { return src.sess.Stats().Peers == 20 })
	for _, a := range silent {
		if !a.hungUp(5 * time.Second) {
			t.Fatal("a connection that sent no HELLO was kept")
		}
	}
	time.Sleep(2 * time.Second) // by now the idle ones have done nothing useful for uselessAfter
	viewers := make([]*testNode, 12)
	for i := range viewers {
		viewers[i] = startNode(t, ctx, "127.0.1."+strconv.Itoa(70+i), Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{src.addr}})
	}
	for _, v := range viewers {
		readPieces(t, ctx, v.sess, 3)
	}
	dropped := 0
	for _, a := range idle {
		if a.hungUp(100 * time.Millisecond) {
			dropped++
		}
	}
	if dropped < 2 {
		t.Fatalf("%d idle attackers gave their slot to newcomers", dropped)
	}
}

// PEX spam of 10,000 addresses (closed ports on loopback) keeps the address book within its
// bound, keeps the addresses that answered, still takes a real peer learned afterwards, and the
// viewer goes on receiving every piece.
func TestPexSpamIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx, f, src, viewer := liveViewer(t, 30*time.Second, "127.0.1.90", "127.0.1.91")
	a := attack(t, "127.0.1.92", viewer.addr, f.InfoHash())
	a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}})
	for i := range 10000 / wire.MaxPex {
		var junk []netip.AddrPort
		for j := range wire.MaxPex {
			k := i*wire.MaxPex + j
			junk = append(junk, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 3, byte(k >> 8), byte(k)}), 9))
		}
		a.send(&wire.Message{Type: wire.Pex, Peers: junk})
	}
	time.Sleep(time.Second)
	relay := startNode(t, ctx, "127.0.1.93", Config{Role: wire.RoleSupport, File: f, Peers: []netip.AddrPort{src.addr}})
	a.send(&wire.Message{Type: wire.Pex, Peers: []netip.AddrPort{relay.addr}})
	var known int
	var srcGood, relayGood bool
	waitUntil(t, 5*time.Second, "the viewer dials the relay learned after the spam", func() bool {
		viewer.sess.do(ctx, func(st *loopState) {
			known = st.book.size()
			k, r := st.book.get(src.addr), st.book.get(relay.addr)
			srcGood, relayGood = k != nil && k.good, r != nil && r.good
		})
		return relayGood
	})
	if known > maxKnown || !srcGood {
		t.Fatalf("address book: %d addresses (bound %d), the source kept and good: %v", known, maxKnown, srcGood)
	}
	got := readPieces(t, ctx, viewer.sess, 20)
	for k := 1; k < len(got); k++ {
		if got[k].Header.Number != got[k-1].Header.Number+1 {
			t.Fatalf("piece %d after %d", got[k].Header.Number, got[k-1].Header.Number)
		}
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// A flood of 20,000 HAVE messages ends the connection and bans the sender; the node's goroutines
// come back to their number before the flood, and the viewer goes on receiving every piece.
func TestMessageFloodIsCut(t *testing.T) {
	ctx, f, _, viewer := liveViewer(t, 30*time.Second, "127.0.1.100", "127.0.1.101")
	before := runtime.NumGoroutine()
	a := attack(t, "127.0.1.102", viewer.addr, f.InfoHash())
	msgs := []*wire.Message{{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}}}
	for i := range 20000 {
		msgs = append(msgs, &wire.Message{Type: wire.Have, Number: uint32(1000 + i%50)})
	}
	go a.send(msgs...)
	if !a.hungUp(5 * time.Second) {
		t.Fatal("the flood was not cut")
	}
	if again := attack(t, "127.0.1.102", viewer.addr, f.InfoHash()); !again.hungUp(3 * time.Second) {
		t.Fatal("the flooder was not banned")
	}
	waitUntil(t, 5*time.Second, "goroutines back to their number before the flood", func() bool {
		return runtime.NumGoroutine() <= before+before/10
	})
	got := readPieces(t, ctx, viewer.sess, 20)
	for k := 1; k < len(got); k++ {
		if got[k].Header.Number != got[k-1].Header.Number+1 {
			t.Fatalf("piece %d after %d", got[k].Header.Number, got[k-1].Header.Number)
		}
	}
}

// What breaks the protocol, a forged header and replayed headers (more stale ones than an honest
// peer sends) end the connection and ban the sender; the viewer plays on.
func TestBrokenFramesAndBadHeadersBan(t *testing.T) {
	ctx, f, src, viewer := liveViewer(t, 40*time.Second, "127.0.1.110", "127.0.1.111")
	old := goneHeader(t, src)
	_, sbuf := src.sess.File()
	forged := *sbuf.Newest()
	forged.Signature[0] ^= 0xff
	hello := &wire.Message{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}}
	for i, tc := range []struct {
		name string
		raw  []byte
	}{
		{"oversized frame", []byte{0x7f, 0xff, 0xff, 0xff}},
		{"unparsable message", []byte{0, 0, 0, 2, byte(wire.Have), 1}},
		{"forged header", (&wire.Message{Type: wire.Header, Header: &forged}).Append(nil)},
		{"replayed headers", bytes.Repeat((&wire.Message{Type: wire.Header, Header: old}).Append(nil), replayLimit+1)},
	} {
		ip := "127.0.1." + strconv.Itoa(112+i)
		a := attack(t, ip, viewer.addr, f.InfoHash())
		a.send(hello)
		a.nc.Write(tc.raw)
		if !a.hungUp(5 * time.Second) {
			t.Fatalf("%s: not hung up", tc.name)
		}
		if again := attack(t, ip, viewer.addr, f.InfoHash()); !again.hungUp(3 * time.Second) {
			t.Fatalf("%s: not banned", tc.name)
		}
	}
	got := readPieces(t, ctx, viewer.sess, 20)
	for k := 1; k < len(got); k++ {
		if got[k].Header.Number != got[k-1].Header.Number+1 {
			t.Fatalf("piece %d after %d", got[k].Header.Number, got[k-1].Header.Number)
		}
	}
}

// liveViewer starts a source publishing (see feed) and a viewer playing from it, for a test that
// lasts at most d.
func liveViewer(t *testing.T, d time.Duration, srcIP, viewerIP string) (context.Context, *transport.File, *testNode, *testNode) {
	return liveViewerCache(t, d, srcIP, viewerIP, 0)
}

// liveViewerCache is liveViewer with both nodes' live caches of cache bytes (0: the tests'
// default).
func liveViewerCache(t *testing.T, d time.Duration, srcIP, viewerIP string, cache int64) (context.Context, *transport.File, *testNode, *testNode) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	f, priv := testFile(t)
	src := startNode(t, ctx, srcIP, Config{Role: wire.RoleSource, File: f, CacheSize: cache})
	viewer := startNode(t, ctx, viewerIP, Config{Role: wire.RoleViewer, File: f, CacheSize: cache, Peers: []netip.AddrPort{src.addr}})
	feed(t, ctx, src, priv)
	t.Cleanup(cancel) // first of the clean-ups: the nodes and the feed end with ctx
	readPieces(t, ctx, viewer.sess, 3)
	return ctx, f, src, viewer
}

// 1,000 connections opened at once to a source's port (from 20 addresses; beyond 64 an address's
// are closed at once) leave it serving: a viewer that joins meanwhile plays, and once they are
// gone the goroutines come back to their number before.
func TestThousandConnectionsAtOnce(t *testing.T) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Max < 4096 {
		t.Skipf("this machine allows %d open files: both ends of 1,000 connections do not fit", lim.Max)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, priv := testFile(t)
	src := startNode(t, ctx, "127.0.1.120", Config{Role: wire.RoleSource, File: f})
	feed(t, ctx, src, priv)
	time.Sleep(300 * time.Millisecond)
	before := runtime.NumGoroutine()
	var conns []net.Conn
	for i := range 1000 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.2." + strconv.Itoa(1+i%20))}}
		if c, err := d.Dial("tcp", src.addr.String()); err == nil {
			conns = append(conns, c)
		}
	}
	viewer := startNode(t, ctx, "127.0.1.121", Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{src.addr}})
	readPieces(t, ctx, viewer.sess, 10)
	for _, c := range conns {
		c.Close()
	}
	waitUntil(t, 10*time.Second, "goroutines back to their number before the connections", func() bool {
		return runtime.NumGoroutine() <= before+before/10+20 // the viewer's own, started since
	})
	t.Logf("%d connections opened; goroutines %d before, %d after", len(conns), before, runtime.NumGoroutine())
}

// A header the source's key signed but stamped 5 minutes ahead of the source's clock (made ahead
// of time by a key holder) does not move a viewer's live edge; the relayer is not banned for it,
// since the signature is good, and the viewer plays on.
func TestHeaderFromTheFutureIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	f, priv := testFile(t)
	src := startNode(t, ctx, "127.0.1.140", Config{Role: wire.RoleSource, File: f})
	viewer := startNode(t, ctx, "127.0.1.141", Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{src.addr}})
	feed(t, ctx, src, priv)
	t.Cleanup(cancel)
	readPieces(t, ctx, viewer.sess, 10)
	edge := func() (e uint32) {
		viewer.sess.do(ctx, func(st *loopState) { e = st.edge })
		return e
	}
	far := edge() + 1000
	data := bytes.Repeat([]byte{0x47}, 188*50)
	h := wire.NewHeader(priv, f.InfoHash(), far, time.Now().Add(5*time.Minute).UnixMilli(), 0, data, int(f.Info.BlockLength))
	a := attack(t, "127.0.1.142", viewer.addr, f.InfoHash())
	a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}},
		&wire.Message{Type: wire.Header, Header: h})
	if a.hungUp(time.Second) {
		t.Fatal("the relayer of a genuinely signed header was hung up on")
	}
	if e := edge(); e >= far {
		t.Fatalf("the live edge moved to %d on a header from the future", e)
	}
	got := readPieces(t, ctx, viewer.sess, 20)
	for k := 1; k < len(got); k++ {
		if got[k].Header.Number != got[k-1].Header.Number+1 {
			t.Fatalf("piece %d after %d", got[k].Header.Number, got[k-1].Header.Number)
		}
	}
}

// A viewer that stalls longer than its peers' windows hold (its loop blocked 3 s against a source
// keeping 1.3 s) learns where they are from a header beyond its verified edge, skips forward and
// plays on, instead of waiting for ever for pieces nobody holds.
func TestViewerBehindTheWindowCatchesUp(t *testing.T) {
	ctx, _, src, viewer := liveViewerCache(t, 30*time.Second, "127.0.1.150", "127.0.1.151", 256<<10)
	readPieces(t, ctx, viewer.sess, 10)
	viewer.sess.do(ctx, func(*loopState) { time.Sleep(3 * time.Second) })
	_, buf := viewer.sess.File()
	before := buf.Newest().Number
	waitUntil(t, 10*time.Second, "the viewer has pieces the source made after the stall", func() bool {
		_, sbuf := src.sess.File()
		return buf.Newest().Number > before+60 && buf.Newest().Number+40 > sbuf.Newest().Number
	})
}

// A few stale headers, as honest peers send (an answer that came late, forwards in flight as a
// child leaves its parent, a parent that lags), are dropped without a ban: replayLimit of them at
// once leave the connection open (one more bans, above).
func TestAFewStaleHeadersAreDropped(t *testing.T) {
	_, f, src, viewer := liveViewer(t, 40*time.Second, "127.0.1.130", "127.0.1.131")
	old := goneHeader(t, src)
	a := attack(t, "127.0.1.132", viewer.addr, f.InfoHash())
	a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}})
	a.nc.Write(bytes.Repeat((&wire.Message{Type: wire.Header, Header: old}).Append(nil), replayLimit))
	if a.hungUp(3 * time.Second) {
		t.Fatal("the viewer hung up on a peer for a few stale headers")
	}
}

// goneHeader waits until the test feed's first piece is long out of the viewers' window (60
// pieces later) and returns its header, which the source still holds.
func goneHeader(t *testing.T, src *testNode) *wire.PieceHeader {
	t.Helper()
	time.Sleep(3 * time.Second)
	_, sbuf := src.sess.File()
	old := sbuf.Get(1000)
	if old == nil {
		t.Fatal("the source no longer holds piece 1000")
	}
	return old.Header
}
