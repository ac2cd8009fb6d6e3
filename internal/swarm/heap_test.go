package swarm

import (
	"net"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// liveHeap is the heap the last collection found live, after forcing one.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// settled waits until the heap and the goroutines are back within 10% of before, and reports
// the figures it saw last.
func settled(before uint64, goroutines int, d time.Duration) (heap uint64, g int, ok bool) {
	for end := time.Now().Add(d); ; time.Sleep(200 * time.Millisecond) {
		heap, g = liveHeap(), runtime.NumGoroutine()
		if heap <= before+before/10 && g <= goroutines+goroutines/10 {
			return heap, g, true
		}
		if time.Now().After(end) {
			return heap, g, false
		}
	}
}

// After each flood a node is sent (HAVE, REQUEST and REJECT floods, PEX spam of 10,000
// addresses, 1,000 connections at once), its heap, as runtime/metrics counts it after a
// collection, and its goroutines come back within 10% of their figures before the flood. The
// live window is kept small (256 KiB) so that the baseline does not grow as pieces arrive. Each
// attack is first made once at a hundredth of its size, so that what is set up once per process
// (the ban list, loggers, the runtime's own tables) is in the baseline; the connection flood's
// warm-up is whole, since the Go runtime keeps the descriptor of every goroutine it ran (about
// 0.5 KiB) for reuse.
func TestFloodsLeaveNoHeapBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx, f, src, viewer := liveViewerCache(t, 150*time.Second, "127.0.1.130", "127.0.1.131", 256<<10)
	readPieces(t, ctx, viewer.sess, 60) // 3 s: both windows are full
	hello := &wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}}
	flood := func(n int, m func(i int) *wire.Message) func(a *attacker, div int) {
		return func(a *attacker, div int) {
			b := hello.Append(nil)
			for i := range n / div {
				b = m(i).Append(b)
			}
			a.nc.Write(b)
		}
	}
	pex := func(i int) *wire.Message {
		var junk []netip.AddrPort
		for j := range wire.MaxPex {
			k := i*wire.MaxPex + j
			junk = append(junk, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 4, byte(k >> 8), byte(k)}), 9))
		}
		return &wire.Message{Type: wire.Pex, Peers: junk}
	}
	conns := func(_ *attacker, _ int) {
		var open []net.Conn
		for i := range 1000 {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.3." + strconv.Itoa(1+i%20))}}
			if c, err := d.Dial("tcp", viewer.addr.String()); err == nil {
				open = append(open, c)
			}
		}
		time.Sleep(time.Second)
		for _, c := range open {
			c.Close()
		}
	}
	attacks := []struct {
		name string
		run  func(a *attacker, div int)
		warm int // the warm-up's divisor
	}{
		{"HAVE flood", flood(20000, func(i int) *wire.Message { return &wire.Message{Type: wire.Have, Number: uint32(1000 + i%50)} }), 100},
		{"REQUEST flood", flood(20000, func(i int) *wire.Message {
			return &wire.Message{Type: wire.Request, Number: uint32(1000 + i%50), Block: uint16(i % 4)}
		}), 100},
		{"REJECT flood", flood(20000, func(i int) *wire.Message { return &wire.Message{Type: wire.Reject, Number: uint32(1000 + i%50)} }), 100},
		{"PEX spam", flood(10000/wire.MaxPex, pex), 100},
		{"1,000 connections", conns, 1},
	}
	ip := 132
	hit := func(run func(*attacker, int), div int) {
		a := attack(t, "127.0.1."+strconv.Itoa(ip), viewer.addr, f.InfoHash())
		ip++
		run(a, div)
		a.hungUp(5 * time.Second)
		a.nc.Close()
	}
	for _, tc := range attacks {
		hit(tc.run, tc.warm)
	}
	for _, tc := range attacks {
		heap, g := liveHeap(), runtime.NumGoroutine()
		hit(tc.run, 1)
		afterHeap, afterG, ok := settled(heap, g, 30*time.Second) // the junk of PEX spam is forgotten as its dials fail
		t.Logf("%s: heap %d KiB before, %d KiB after; goroutines %d before, %d after", tc.name, heap>>10, afterHeap>>10, g, afterG)
		if !ok {
			t.Errorf("%s: heap or goroutines not back within 10%%", tc.name)
		}
	}
	for _, n := range []*testNode{viewer, src} {
		n.sess.do(ctx, func(st *loopState) {
			t.Logf("role %d: next %d edge %d started %v, %d peers, book %d, in flight %d, requested %d", st.s.cfg.Role, st.next, st.edge, st.started, len(st.peers), st.book.size(), st.book.inFlight(), len(st.reqs.byBlock))
			for _, p := range st.peers {
				t.Logf("  peer %v listen %v role %d hello %v window %+v chokedUs %v unchoked %v requests %d strikes %d", p.c.remote, p.listen, p.role, p.hello, p.window, p.chokedUs, p.unchoked, len(p.requests), p.strikes)
			}
		})
	}
	got := readPieces(t, ctx, viewer.sess, 20)
	for k := 1; k < len(got); k++ {
		if got[k].Header.Number != got[k-1].Header.Number+1 {
			t.Fatalf("piece %d after %d", got[k].Header.Number, got[k-1].Header.Number)
		}
	}
}
