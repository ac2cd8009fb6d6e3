package swarm

import (
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A peer that answers within flowTarget is given more requests in flight, up to maxRequests; one
// that answers late has its window cut, at most once per sojourn; a timeout leaves one request.
func TestFlowWindow(t *testing.T) {
	now := time.Now()
	f := newFlow()
	for range 100 {
		f.answered(50*time.Millisecond, now)
	}
	if f.limit() != maxRequests {
		t.Fatalf("after on-time blocks: window %d, want %d", f.limit(), maxRequests)
	}
	now = now.Add(time.Second)
	f.answered(2*time.Second, now)
	cut := f.limit()
	if cut >= maxRequests {
		t.Fatalf("a late block left the window at %d", cut)
	}
	f.answered(2*time.Second, now.Add(time.Millisecond)) // the same burst of late blocks
	if f.limit() != cut {
		t.Fatalf("a second late block of the same burst cut the window again: %d, then %d", cut, f.limit())
	}
	f.timedOut(now)
	if f.limit() != 1 {
		t.Fatalf("after a timeout: window %d, want 1", f.limit())
	}
}

// The peer expected to answer soonest is the one with the shorter queue for its speed.
func TestFlowExpect(t *testing.T) {
	fast, slow := newFlow(), newFlow()
	fast.sojourn, slow.sojourn = 100*time.Millisecond, time.Second
	if fast.expect(3) >= slow.expect(0) {
		t.Fatalf("fast peer with 3 in flight %v, slow idle peer %v", fast.expect(3), slow.expect(0))
	}
	if fast.expect(0) >= fast.expect(3) {
		t.Fatal("more requests in flight do not make a peer answer later")
	}
}

// A peer that claims the next pieces (a viewer, so it is asked first) but never answers costs a
// viewer a fraction of a second, not requestTimeout: the late blocks are asked of the source,
// and the pieces keep coming in order.
func TestLateBlocksAreAskedElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx, f, src, viewer := liveViewer(t, 40*time.Second, "127.0.3.1", "127.0.3.2")
	got := readPieces(t, ctx, viewer.sess, 1)
	next := got[0].Header.Number + 1
	a := attack(t, "127.0.3.3", viewer.addr, f.InfoHash())
	a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9,
		Window: wire.WindowInfo{First: next - 4, Last: next + aheadSlack - 1, Keyframe: next - 4}}, &wire.Message{Type: wire.Unchoke})
	go a.hungUp(40 * time.Second) // reads what the viewer sends, answers nothing
	pieces := readPieces(t, ctx, viewer.sess, 40)
	for k := 1; k < len(pieces); k++ {
		if pieces[k].Header.Number != pieces[k-1].Header.Number+1 {
			t.Fatalf("piece %d after %d; %+v", pieces[k].Header.Number, pieces[k-1].Header.Number, viewer.sess.Metrics())
		}
	}
	if r := viewer.sess.Metrics().ReaskedBlocks; r == 0 {
		t.Fatal("no block was asked again elsewhere")
	}
	_ = src
}
