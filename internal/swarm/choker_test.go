package swarm

import (
	"slices"
	"testing"
	"time"
)

func TestChokeSlots(t *testing.T) {
	t0 := time.Now()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	s := []slot{
		{since: at(5), unchoked: true},  // 0: holds a slot
		{since: at(1), eligible: true},  // 1: oldest waiting
		{since: at(9), unchoked: true},  // 2: newest holder
		{since: at(3), eligible: true},  // 3: waiting
		{since: at(0)},                  // 4: oldest, but no HELLO yet / not allowed by a private node
		{since: at(7), unchoked: true},  // 5
		{since: at(8), eligible: false}, // 6
	}
	choke, unchoke := chokeSlots(s, 2)
	if !slices.Equal(choke, []int{2}) || len(unchoke) != 0 {
		t.Fatalf("2 slots, 3 holders: choke %v, unchoke %v", choke, unchoke)
	}
	choke, unchoke = chokeSlots(s, 5)
	if len(choke) != 0 || !slices.Equal(unchoke, []int{1, 3}) {
		t.Fatalf("5 slots: choke %v, unchoke %v", choke, unchoke)
	}
	choke, unchoke = chokeSlots(s, 4)
	if len(choke) != 0 || !slices.Equal(unchoke, []int{1}) {
		t.Fatalf("4 slots: choke %v, unchoke %v (an unchoked peer keeps its slot against an older newcomer)", choke, unchoke)
	}
}
