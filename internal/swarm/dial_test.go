package swarm

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

func TestTrackerHosts(t *testing.T) {
	got := trackerHosts([]string{
		"http://10.0.0.1:7764/announce", "https://[2001:db8::1]:443/announce", "http://tracker.example:80/announce",
		"http://10.0.0.2/announce", "udp://10.0.0.3:6969", "::bad::",
	})
	want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:7764"), netip.MustParseAddrPort("[2001:db8::1]:443")}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// countingPeer listens at ip for the node under test and answers each of its connections with
// serve (after the handshake, when handshake is set); it returns the address and the count of
// connections accepted so far.
func countingPeer(t *testing.T, ip string, ih transport.InfoHash, handshake bool, serve func(net.Conn)) (netip.AddrPort, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			t.Cleanup(func() { nc.Close() })
			go func() {
				if handshake {
					if _, err := wire.ReadHandshake(nc); err != nil {
						return
					}
					nc.Write(wire.Handshake{InfoHash: ih, PeerID: NewPeerID()}.Marshal())
				}
				serve(nc)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), &n
}

// A full node answers the handshake and ends the connection before HELLO; the node that dialed
// it leaves it alone for refuseWait (it redialed every second).
func TestFullNodesAreNotRedialedAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f, _ := testFile(t)
	full, dials := countingPeer(t, "127.0.9.1", f.InfoHash(), true, func(nc net.Conn) { nc.Close() })
	startNode(t, ctx, "127.0.9.2", Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{full}})
	waitUntil(t, 5*time.Second, "the first dial", func() bool { return dials.Load() >= 1 })
	time.Sleep(refuseWait - time.Second)
	if n := dials.Load(); n != 1 {
		t.Fatalf("a full node was dialed %d times in %v", n, refuseWait-time.Second)
	}
}

// A node that gave our connection away after neither side had been of use for uselessAfter is
// not dialed again for idleRevisit (it was redialed at once, and took another idle peer's slot).
func TestIdlePeersAreNotRedialedAtOnce(t *testing.T) {
	old := uselessAfter
	t.Cleanup(func() { uselessAfter = old }) // runs last, once the nodes have stopped
	uselessAfter = time.Second
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f, _ := testFile(t)
	idle, dials := countingPeer(t, "127.0.9.3", f.InfoHash(), true, func(nc net.Conn) {
		a := &attacker{nc}
		a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}})
		time.Sleep(uselessAfter + 500*time.Millisecond)
		nc.Close()
	})
	startNode(t, ctx, "127.0.9.4", Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{idle}})
	waitUntil(t, 5*time.Second, "the first dial", func() bool { return dials.Load() >= 1 })
	time.Sleep(uselessAfter + 3*time.Second)
	if n := dials.Load(); n != 1 {
		t.Fatalf("an idle peer that let us go was dialed %d times", n)
	}
}

// A node makes at most dialBurst connections at once, then dialsFilling a second (it dialed every
// address it knew up to its peer limit at once); dials that fail take no turn.
func TestDialsArePaced(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f, _ := testFile(t)
	var addrs []netip.AddrPort
	var counts []*atomic.Int32
	for range dialBurst + 3 { // within testConfig's peer limit of 20
		a, n := countingPeer(t, "127.0.9.5", f.InfoHash(), true, func(net.Conn) {}) // a handshake, then silence
		addrs, counts = append(addrs, a), append(counts, n)
	}
	total := func() (s int32) {
		for _, n := range counts {
			s += n.Load()
		}
		return s
	}
	startNode(t, ctx, "127.0.9.6", Config{Role: wire.RoleViewer, File: f, Peers: addrs})
	waitUntil(t, 5*time.Second, "the first dials", func() bool { return total() >= dialBurst })
	time.Sleep(500 * time.Millisecond)
	if n := total(); n > dialBurst+1 {
		t.Fatalf("%d dials at once, want at most %d and one a second", n, dialBurst)
	}
	waitUntil(t, 5*time.Second, "the next dials", func() bool { return total() >= dialBurst+2 })
}

// Junk addresses (nothing listens) are tried and forgotten at once, whatever the pace.
func TestFailedDialsTakeNoTurn(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f, _ := testFile(t)
	var junk []netip.AddrPort
	for i := range 3 * dialBurst {
		junk = append(junk, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 9, 7, byte(1 + i)}), 9))
	}
	n := startNode(t, ctx, "127.0.9.7", Config{Role: wire.RoleViewer, File: f})
	n.sess.do(ctx, func(st *loopState) { st.addKnown(junk) }) // as PEX or a tracker would hand them out
	waitUntil(t, 3*time.Second, "the junk forgotten", func() bool {
		size := -1
		n.sess.do(ctx, func(st *loopState) { size = st.book.size() })
		return size == 0
	})
}

// A tree child asks for nothing and sends nothing back, yet it is not idle: a full node gives the
// slot of an idle peer to a newcomer, never that of a peer it forwards a substream to.
func TestTreeChildrenAreNotIdle(t *testing.T) {
	now := time.Now()
	long := now.Add(-2 * uselessAfter)
	child := &peer{usefulAt: long, treeTaken: 1 << 2}
	st := &loopState{s: &Session{}, peers: map[[20]byte]*peer{{1}: child}}
	if p := st.idlest(now); p != nil {
		t.Fatal("a tree child was taken for idle")
	}
	idle := &peer{usefulAt: long.Add(time.Second)}
	st.peers[[20]byte{2}] = idle
	if p := st.idlest(now); p != idle {
		t.Fatalf("idlest %p, want the idle peer %p", p, idle)
	}
}
