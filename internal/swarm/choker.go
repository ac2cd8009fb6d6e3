package swarm

import (
	"slices"
	"time"
)

// slot is what the choker knows of a peer: since when it is connected, whether it is unchoked
// now, and whether it may be (it said HELLO, and a private node uploads to it).
type slot struct {
	since    time.Time
	unchoked bool
	eligible bool
}

// chokeSlots decides who holds the upload slots: the oldest connections, up to slots. It returns
// the indexes of the slots to choke (the newest unchoked beyond the limit) and to unchoke (the
// oldest eligible waiting, while slots are free). An unchoked peer is not choked for a newcomer,
// so a peer's download never stops because another peer arrived.
func chokeSlots(s []slot, slots int) (choke, unchoke []int) {
	byAge := func(x, y int) int { return s[x].since.Compare(s[y].since) }
	var open, waiting []int
	for i, p := range s {
		switch {
		case p.unchoked:
			open = append(open, i)
		case p.eligible:
			waiting = append(waiting, i)
		}
	}
	slices.SortFunc(open, byAge)
	for len(open) > slots {
		choke = append(choke, open[len(open)-1])
		open = open[:len(open)-1]
	}
	slices.SortFunc(waiting, byAge)
	free := max(0, slots-len(open))
	return choke, waiting[:min(free, len(waiting))]
}
