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
	k1, k2, k3 := blockKey{1, 0}, blockKey{1, 1}, blockKey{2, 0}
	t1.ask(a, k1, now.Add(-5*time.Second))
	t1.ask(a, k2, now)
	t1.ask(b, k3, now)
	t1.ask(b, k1, now) // asked again of b after a was slow
	if len(a.requests) != 2 {
		t.Fatalf("a's late request stopped counting against it: %d requests", len(a.requests))
	}
	t1.done(a, k1) // a's late answer does not end b's request
	if !t1.busy(k1) || len(a.requests) != 1 {
		t.Fatalf("k1 busy %v, a has %d requests", t1.busy(k1), len(a.requests))
	}
	k4 := blockKey{3, 0}
	t1.ask(a, k4, now) // and asked again of b: a never answers
	t1.ask(b, k4, now)
	peers := map[[20]byte]*peer{{1}: a, {2}: b}
	if late := t1.expire(now.Add(3*time.Second), 4*time.Second, peers); len(late) != 0 {
		t.Fatalf("%d requests expired early", len(late))
	}
	late := t1.expire(now.Add(5*time.Second), 4*time.Second, peers)
	if len(late) != 5 || t1.busy(k2) || len(a.requests)+len(b.requests) != 0 {
		t.Fatalf("%d expired; k2 busy %v; %d left on peers", len(late), t1.busy(k2), len(a.requests)+len(b.requests))
	}
	t1.ask(a, k1, now)
	t1.ask(a, k3, now)
	t1.clearPeer(a)
	if t1.busy(k1) || t1.busy(k3) || len(t1.byBlock) != 0 || len(a.requests) != 0 {
		t.Fatal("a peer's requests outlived it")
	}
}
