package swarm

import (
	"testing"
	"time"
)

func TestReqTable(t *testing.T) {
	now := time.Now()
	a := &peer{requests: map[blockKey]time.Time{}}
	b := &peer{requests: map[blockKey]time.Time{}}
	t1 := newReqTable()
	busy := func(k blockKey) bool { _, ok := t1.asked(k); return ok }
	k1, k2, k3 := blockKey{1, 0}, blockKey{1, 1}, blockKey{2, 0}
	t1.ask(a, k1, now.Add(-5*time.Second))
	t1.ask(a, k2, now)
	t1.ask(b, k3, now)
	t1.ask(b, k1, now) // asked again of b after a was slow
	if len(a.requests) != 2 {
		t.Fatalf("a's late request stopped counting against it: %d requests", len(a.requests))
	}
	t1.done(a, k1) // a's late answer does not end b's request
	if !busy(k1) || len(a.requests) != 1 {
		t.Fatalf("k1 busy %v, a has %d requests", busy(k1), len(a.requests))
	}
	k4 := blockKey{3, 0}
	t1.ask(a, k4, now) // and asked again of b: a never answers
	t1.ask(b, k4, now)
	peers := map[[20]byte]*peer{{1}: a, {2}: b}
	if late := t1.expire(now.Add(3*time.Second), 4*time.Second, peers); len(late) != 0 {
		t.Fatalf("%d requests expired early", len(late))
	}
	late := t1.expire(now.Add(5*time.Second), 4*time.Second, peers)
	if len(late) != 5 || busy(k2) || len(a.requests)+len(b.requests) != 0 {
		t.Fatalf("%d expired; k2 busy %v; %d left on peers", len(late), busy(k2), len(a.requests)+len(b.requests))
	}
	t1.ask(a, k1, now)
	t1.ask(a, k3, now)
	t1.clearPeer(a)
	if busy(k1) || busy(k3) || len(t1.byBlock) != 0 || len(a.requests) != 0 {
		t.Fatal("a peer's requests outlived it")
	}
}

// A block a tree parent is expected to forward is held for it (asked of nobody else), does not
// count against the parent's requests, gives way to a request, and leaves with the substream or
// after the timeout without striking the parent.
func TestReqTableExpectedForwards(t *testing.T) {
	now := time.Now()
	parent := &peer{requests: map[blockKey]time.Time{}, pushes: map[blockKey]time.Time{}}
	other := &peer{requests: map[blockKey]time.Time{}, pushes: map[blockKey]time.Time{}}
	tb := newReqTable()
	k0, k1, k5 := blockKey{7, 0}, blockKey{7, 1}, blockKey{7, 5} // substreams 0, 1, 1
	tb.expect(parent, k0, now)
	tb.expect(parent, k1, now)
	tb.expect(parent, k5, now)
	if r, ok := tb.asked(k0); !ok || !r.pushed || r.p != parent || parent.inFlight() != 0 {
		t.Fatalf("expected forward: %+v %v; parent has %d in flight", r, ok, parent.inFlight())
	}
	tb.ask(other, k0, now) // late: asked elsewhere
	if r, _ := tb.asked(k0); r.p != other || r.pushed {
		t.Fatalf("a request did not take over the block: %+v", r)
	}
	tb.expect(parent, k0, now) // a request in flight is not replaced by an expectation
	if r, _ := tb.asked(k0); r.p != other {
		t.Fatal("an expectation replaced a request")
	}
	tb.clearPushes(parent, 1)
	if _, ok := tb.asked(k1); ok || len(parent.pushes) != 1 {
		t.Fatalf("substream 1 left, yet %d forwards are still expected", len(parent.pushes))
	}
	peers := map[[20]byte]*peer{{1}: parent, {2}: other}
	late := tb.expire(now.Add(5*time.Second), 4*time.Second, peers)
	if len(late) != 1 || late[0] != other || len(parent.pushes) != 0 || len(tb.byBlock) != 0 {
		t.Fatalf("expired: %d struck, %d forwards left, %d blocks held", len(late), len(parent.pushes), len(tb.byBlock))
	}
}
