package swarm

import (
	"math/bits"
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// Substream trees (docs/protocol.md, "Substream trees"). Block i of every piece belongs to
// substream i % wire.Substreams. Every node but the source subscribes to one parent per
// substream, and a parent forwards each block of that substream to its children the moment it
// has verified it, headers first: a fresh block crosses a hop in one link delay, where asking for
// a whole piece by HAVE and REQUEST costs a piece's length and a round trip at every hop. Blocks a
// parent is late with are asked for as before (scheduler.go), so a tree is a fast path, never the
// only one.
const (
	maxDepth      = 24                      // a parent this deep (or in a loop, counting up) is left
	pushPatience  = 1200 * time.Millisecond // a block expected from a parent is asked elsewhere after this, at most
	minPatience   = 500 * time.Millisecond  // and at least this
	askPatience   = 1500 * time.Millisecond // a SUBSCRIBE unanswered this long counts as refused
	orphanGrace   = 3 * time.Second         // a parent without a path of its own is kept this long
	refuseBackoff = 5 * time.Second         // a parent that refused is not asked again for this long
	avoidParent   = 15 * time.Second        // a parent that kept blocks back is not asked for this long
	holdParent    = 5 * time.Second         // a parent is kept at least this long before a better one replaces it
	switchMargin  = 2                       // a better parent must cost this much less (see parentCost)
	keptLimit     = 3                       // pieces in a row a parent announced and did not forward
)

const allSubstreams = 1<<wire.Substreams - 1

var noDepths = [wire.Substreams]uint8{wire.NoDepth, wire.NoDepth, wire.NoDepth, wire.NoDepth}

// treeSlots is how many (child, substream) pairs this node forwards to: Config.TreeSlots, or by
// role: the source one child per substream (a relay, while one is connected), relays two viewers
// per substream besides any relay, a viewer one stream's worth (a substream each, or several of
// one; and a spare one while its uplink keeps up, see slots). Five substreams' worth (1.25 times
// the bitrate) filled a home upload of 1.5 times: each hop queued a piece's share for every child,
// the trees came late and the blocks were asked of the relays too (docs/benchmarks.md, Viewers
// forwarding one stream's worth).
func (st *loopState) treeSlots() int {
	if st.s.cfg.TreeSlots > 0 {
		return st.s.cfg.TreeSlots
	}
	switch st.s.cfg.Role {
	case wire.RoleSource:
		return wire.Substreams
	case wire.RoleViewer:
		return wire.Substreams
	}
	return 2 * wire.Substreams
}

func isRelay(role uint8) bool { return role == wire.RoleSupport || role == wire.RoleStartup }

// children counts the peers this node forwards substream s to, and the viewers among them.
func (st *loopState) children(s int) (all, viewers int) {
	for _, p := range st.peers {
		if p.treeTaken&(1<<s) != 0 {
			all++
			if p.role == wire.RoleViewer {
				viewers++
			}
		}
	}
	return all, viewers
}

// mayTake tells whether this node takes p as a child in substream s.
func (st *loopState) mayTake(p *peer, s int) bool {
	bit := uint16(1) << s
	switch {
	case p.treeTaken&bit != 0:
		return true
	case !st.mayUpload(p) || p.role == wire.RoleSource || st.parent[s] == p || st.depth(s) == wire.NoDepth:
		return false
	}
	all, viewers := st.children(s)
	perStream := max(1, st.treeSlots()/wire.Substreams)
	switch st.s.cfg.Role {
	case wire.RoleSource:
		if all >= perStream {
			return st.evictFor(p, s)
		}
		return isRelay(p.role) || !st.hasRelay(false)
	case wire.RoleViewer:
		return st.taken() < st.slots()
	}
	return isRelay(p.role) || viewers < perStream
}

// sourceRank orders the source's would-be children: support nodes first (the relays the others
// download from), then startup nodes, then viewers.
func sourceRank(role uint8) int {
	switch role {
	case wire.RoleSupport:
		return 0
	case wire.RoleStartup:
		return 1
	}
	return 2
}

// evictFor makes room at the source for p in substream s by dropping a child of a lower rank
// (sourceRank), who is told at once and finds a parent further down; it reports whether it did.
func (st *loopState) evictFor(p *peer, s int) bool {
	bit := uint16(1) << s
	for _, q := range st.peers {
		if q.treeTaken&bit != 0 && sourceRank(q.role) > sourceRank(p.role) {
			q.treeTaken &^= bit
			st.tellTree(q, st.treeInfo(q), false)
			return true
		}
	}
	return false
}

// taken is how many (child, substream) pairs this node forwards to.
func (st *loopState) taken() int {
	n := 0
	for _, p := range st.peers {
		n += bits.OnesCount16(p.treeTaken)
	}
	return n
}

// free is what this node tells viewers looking for a parent: how many substreams it could still
// take a viewer for.
func (st *loopState) free() uint8 {
	perStream := max(1, st.treeSlots()/wire.Substreams)
	n := 0
	switch st.s.cfg.Role {
	case wire.RoleViewer:
		n = st.slots() - st.taken()
	case wire.RoleSource:
		if st.hasRelay(false) {
			return 0
		}
		for s := range wire.Substreams {
			all, _ := st.children(s)
			n += max(0, perStream-all)
		}
	default:
		for s := range wire.Substreams {
			_, v := st.children(s)
			n += max(0, perStream-v)
		}
	}
	return uint8(min(max(n, 0), 255))
}

// depth is this node's distance from the source in substream s's tree, or wire.NoDepth.
func (st *loopState) depth(s int) uint8 {
	if st.s.cfg.Role == wire.RoleSource {
		return 0
	}
	p := st.parent[s]
	if p == nil || p.treeGiven&(1<<s) == 0 || p.depths[s] >= maxDepth {
		return wire.NoDepth
	}
	return p.depths[s] + 1
}

func (st *loopState) depths() [wire.Substreams]uint8 {
	var d [wire.Substreams]uint8
	for s := range d {
		d[s] = st.depth(s)
	}
	return d
}

// treeInfo is what this node tells p of its place in the trees.
func (st *loopState) treeInfo(p *peer) treeInfo {
	return treeInfo{p.treeTaken, st.free(), st.depths()}
}

// tellTree sends p a TREE with info and remembers it, so that sendTrees sends only changes.
func (st *loopState) tellTree(p *peer, info treeInfo, reply bool) {
	if p.c.send(&wire.Message{Type: wire.Tree, Mask: info.mask, Free: info.free, Depths: info.depths, Reply: reply}) {
		p.treeSent = &info
	}
}

// sendTrees tells each peer what changed since it was last told.
func (st *loopState) sendTrees() {
	free, depths := st.free(), st.depths()
	for _, p := range st.peers {
		if info := (treeInfo{p.treeTaken, free, depths}); p.hello && (p.treeSent == nil || *p.treeSent != info) {
			st.tellTree(p, info, false)
		}
	}
}

// treeInfo is the content of a TREE message, to send only changes.
type treeInfo struct {
	mask   uint16
	free   uint8
	depths [wire.Substreams]uint8
}

// onSubscribe takes p as a child in the substreams of mask it may, drops it from the others,
// and answers with a TREE saying which were granted.
func (st *loopState) onSubscribe(p *peer, mask uint16) {
	mask &= allSubstreams
	p.treeTaken &= mask
	for s := range wire.Substreams {
		if mask&(1<<s) != 0 && st.mayTake(p, s) {
			p.treeTaken |= 1 << s
		}
	}
	st.tellTree(p, st.treeInfo(p), true)
}

// onTree notes a peer's place in the trees and what it grants this node: a substream asked of
// it and not granted, once every SUBSCRIBE sent to it was answered, is refused.
func (st *loopState) onTree(p *peer, m *wire.Message) {
	if m.Reply && p.answersDue > 0 {
		p.answersDue--
	}
	p.depths, p.free, p.treeGiven = m.Depths, m.Free, m.Mask&allSubstreams
	if p.treeGiven == 0 {
		p.fwdKnown = false // a new grant starts forwarding afresh
	}
	if p.answersDue > 0 {
		return
	}
	now := time.Now()
	for s := range wire.Substreams {
		bit := uint16(1) << s
		if st.parent[s] == p && p.treeGiven&bit == 0 {
			st.leaveParent(s, now.Add(refuseBackoff))
		}
	}
	if p.treeGiven&^p.treeAsked != 0 { // grants it thinks we still want: withdraw them
		st.sendSubscribe(p)
	}
}

// subscribe runs every tick: each substream without a parent, or whose parent lost its path,
// is given the cheapest one that may take it; a parent is replaced by one much cheaper. A node
// subscribes as soon as it knows the stream, before it chose where to start: a relay that joins
// as the stream begins has the first pieces forwarded, not pulled late.
func (st *loopState) subscribe(now time.Time) {
	if f, _ := st.s.File(); st.s.cfg.Role == wire.RoleSource || f == nil {
		return
	}
	for s := range wire.Substreams {
		cur := st.parent[s]
		if cur != nil && st.abandon(cur, s, now) {
			st.leaveParent(s, now.Add(refuseBackoff))
			cur = nil
		}
		best := st.bestParent(s, now)
		if best == nil || best == cur {
			continue
		}
		if cur != nil && (now.Sub(st.parentSince[s]) < holdParent || st.parentCost(best, s)+switchMargin > st.parentCost(cur, s)) {
			continue
		}
		if cur != nil {
			st.leaveParent(s, time.Time{})
		}
		st.parent[s], st.parentSince[s] = best, now
		best.treeAsked |= 1 << s
		st.sendSubscribe(best)
	}
}

// abandon tells whether parent p of substream s is to be left: it did not answer the SUBSCRIBE,
// is too deep (or in a loop), or has had no path of its own for orphanGrace.
func (st *loopState) abandon(p *peer, s int, now time.Time) bool {
	bit := uint16(1) << s
	switch {
	case p.treeGiven&bit == 0:
		return now.Sub(p.askedAt) > askPatience
	case p.depths[s] == wire.NoDepth:
		if p.orphaned[s].IsZero() {
			p.orphaned[s] = now
		}
		return now.Sub(p.orphaned[s]) > orphanGrace
	}
	p.orphaned[s] = time.Time{}
	return p.depths[s] >= maxDepth
}

// leaveParent ends substream s's subscription to its parent, which is not asked again before
// avoid.
func (st *loopState) leaveParent(s int, avoid time.Time) {
	p := st.parent[s]
	if p == nil {
		return
	}
	st.parent[s] = nil
	p.avoidUntil[s] = avoid
	p.treeAsked &^= 1 << s
	p.treeGiven &^= 1 << s
	p.fwdKnown = p.fwdKnown && p.treeGiven != 0
	st.reqs.clearPushes(p, s)
	st.sendSubscribe(p)
}

func (st *loopState) sendSubscribe(p *peer) {
	if p.c.send(&wire.Message{Type: wire.Subscribe, Mask: p.treeAsked}) {
		p.answersDue++
		p.askedAt = time.Now()
	}
}

// parentCost ranks a would-be parent of substream s: its depth, plus a penalty that keeps
// viewers off the servers while viewers can carry the stream.
func (st *loopState) parentCost(p *peer, s int) int {
	c := int(p.depths[s])
	if st.s.cfg.Role != wire.RoleViewer {
		return c
	}
	switch p.role {
	case wire.RoleSource:
		return c + 8
	case wire.RoleViewer:
		return c
	}
	return c + 3
}

// bestParent is the cheapest peer that may be asked to forward substream s: it has a path from
// the source, is not this node's child in s, has not refused lately, and has room (viewers look
// at free; relays take only from servers, and ask regardless of free: it counts viewers).
func (st *loopState) bestParent(s int, now time.Time) *peer {
	var best *peer
	bit := uint16(1) << s
	for _, p := range st.peers {
		if !p.hello || !p.mayDownload || p.depths[s] >= maxDepth || p.treeTaken&bit != 0 || now.Before(p.avoidUntil[s]) {
			continue
		}
		if st.s.cfg.Role != wire.RoleViewer && p.role == wire.RoleViewer {
			continue
		}
		if p != st.parent[s] && p.free == 0 && st.s.cfg.Role == wire.RoleViewer { // a relay's ask is answered by mayTake
			continue
		}
		if best == nil || st.parentCost(p, s) < st.parentCost(best, s) ||
			st.parentCost(p, s) == st.parentCost(best, s) && p.free > best.free {
			best = p
		}
	}
	return best
}

// anyFed tells whether a parent forwards some substream to this node (and so the headers).
func (st *loopState) anyFed() bool {
	for s := range wire.Substreams {
		if st.depth(s) != wire.NoDepth {
			return true
		}
	}
	return false
}

// dropTree forgets a peer that left: the substreams it fed look for a new parent.
func (st *loopState) dropTree(p *peer) {
	for s := range wire.Substreams {
		if st.parent[s] == p {
			st.parent[s] = nil
		}
	}
}

// forwarded notes a header parent p forwarded unasked: the first since it took this node as a
// child marks where its forwarding starts, and headers come down the trees in order.
func (st *loopState) forwarded(p *peer, n uint32) {
	if !p.fwdKnown {
		p.fwdFrom, p.fwdKnown = n, true
	}
	st.treeHeader = max(st.treeHeader, n)
}

// expectPushes notes the blocks of a piece whose header just arrived that the parents will
// forward: those of the parents that forward pieces from this one's number on. They are not
// asked of anyone unless late (pushOverdue). Older pieces are ones this node catches up with,
// made before a parent took it.
func (st *loopState) expectPushes(h *wire.PieceHeader, now time.Time) {
	_, buf := st.s.File()
	pc := buf.Incomplete(h.Number)
	if pc == nil {
		return
	}
	for i := range h.Blocks {
		if pc.HasBlock(i) {
			continue
		}
		s := i % wire.Substreams
		if p := st.parent[s]; p != nil && p.treeGiven&(1<<s) != 0 && p.fwdKnown && h.Number >= p.fwdFrom {
			st.reqs.expect(p, blockKey{h.Number, uint16(i)}, now)
		}
	}
}

// forwardHeader sends a header to the children that lack its piece, ahead of its blocks.
func (st *loopState) forwardHeader(h *wire.PieceHeader, from *peer) {
	m := &wire.Message{Type: wire.Header, Header: h}
	for _, p := range st.peers {
		if p.treeTaken != 0 && p != from && p.lacks(h.Number) {
			p.c.send(m)
		}
	}
}

// forwardBlock sends a block this node just verified to its children in the block's substream
// that lack the piece: first those with the fewest free slots (they forward it on to children
// of their own), so that a home upload's queue delays the leaves, not whole subtrees.
func (st *loopState) forwardBlock(n uint32, i int, data []byte, from *peer) {
	bit := uint16(1) << (i % wire.Substreams)
	kids := st.kids[:0]
	for _, p := range st.peers {
		if p.treeTaken&bit != 0 && p != from && p.lacks(n) && !p.gotBlocks[blockKey{n, uint16(i)}] {
			kids = append(kids, p)
		}
	}
	slices.SortFunc(kids, func(a, b *peer) int { return int(a.free) - int(b.free) })
	st.kids = kids
	m := &wire.Message{Type: wire.Piece, Number: n, Block: uint16(i), Data: data}
	for _, p := range kids {
		st.sendBlock(p, m, true)
	}
}

// pushOverdue tells whether the block expected as r from a parent is late: its wait exceeds the
// parent's patience (below), or lateCeiling for a piece the player needs next (urgent).
func pushOverdue(r reqInfo, now time.Time, urgent bool) bool {
	limit := r.p.patience()
	if urgent {
		limit = min(limit, lateCeiling)
	}
	return now.Sub(r.at) > limit
}

// patience is how long a block expected from parent p is waited for: three times the usual wait
// for its blocks, within [minPatience, pushPatience]. On fast links a block the parent will not
// send (it left, or lost its own path) is asked elsewhere within a fraction of a second; on home
// links a deeper parent's blocks get the time they take.
func (p *peer) patience() time.Duration {
	return min(pushPatience, max(3*p.pushWait, minPatience))
}

// pushArrived notes a block parent p forwarded, expected since at: it keeps forwarding, and
// its usual wait moves toward this one.
func (st *loopState) pushArrived(p *peer, at, now time.Time) {
	p.kept = 0
	p.pushWait += (now.Sub(at) - p.pushWait) / 8
}

// pushLate notes a block parent p was expected to forward and did not within its patience
// (pushOverdue), though it announced the piece: after keptLimit in a row, p is left in every substream.
func (st *loopState) pushLate(p *peer, n uint32, now time.Time) {
	if !p.announced(n) || n == p.keptPiece && p.kept > 0 {
		return // it has not got it yet either (its own parent is late), or this piece was counted
	}
	p.keptPiece = n
	if p.kept++; p.kept < keptLimit {
		return
	}
	p.kept = 0
	for s := range wire.Substreams {
		if st.parent[s] == p {
			st.leaveParent(s, now.Add(avoidParent))
		}
	}
}
