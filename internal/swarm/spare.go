package swarm

import (
	"math/bits"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A viewer takes one (child, substream) pair beyond its treeSlots while its uplink keeps up, so
// that orphans (their parent left) and viewers behind a NAT find a parent sooner, and sheds it when
// the uplink falls behind: five pairs on an upload of 1.5 times the bitrate made every hop late
// (docs/benchmarks.md, Viewers forwarding one stream's worth). The uplink keeps up while the blocks
// waiting in the node's connections, sampled each tick, average at most spareRoom; it falls behind
// when they average more than shedAt.
const (
	spareRoom  = 2.0 // blocks
	shedAt     = 8.0 // blocks
	queueDecay = 8   // ticks the average takes to move most of the way (2 s)
)

// slots is how many (child, substream) pairs this node takes now: treeSlots, and a viewer's spare
// one while its uplink keeps up (none when Config.TreeSlots sets the number).
func (st *loopState) slots() int {
	n := st.treeSlots()
	if st.s.cfg.Role == wire.RoleViewer && st.s.cfg.TreeSlots == 0 && st.upQueue <= spareRoom {
		n++
	}
	return n
}

// sampleUplink takes the blocks waiting in this node's connections into their average, and sheds
// a viewer's spare pair when the uplink fell behind.
func (st *loopState) sampleUplink() {
	if st.s.cfg.Role != wire.RoleViewer {
		return
	}
	n := 0
	for _, p := range st.peers {
		n += p.c.queued.len()
	}
	st.upQueue += (float64(n) - st.upQueue) / queueDecay
	if st.upQueue > shedAt && st.taken() > st.treeSlots() {
		st.shedChild()
	}
}

// shedChild stops forwarding one substream to the child that forwards least (the most free
// slots it told of), who is told at once and finds another parent: a leaf loses the least.
func (st *loopState) shedChild() {
	var leaf *peer
	for _, p := range st.peers {
		if p.treeTaken != 0 && (leaf == nil || p.free > leaf.free) {
			leaf = p
		}
	}
	if leaf != nil {
		leaf.treeTaken &^= 1 << bits.TrailingZeros16(leaf.treeTaken)
		st.tellTree(leaf, st.treeInfo(leaf), false)
	}
}
