package swarm

import (
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	lookahead = 40 // pieces behind the newest that are still worth fetching
	urgent    = 4  // pieces fetched strictly in order before rarest-first applies
)

// wanted tells whether piece n is worth keeping.
func (st *loopState) wanted(n uint32) bool {
	return st.s.cfg.Role != wire.RoleSource && (!st.started || n >= st.next)
}

// schedule sends header and block requests: deadline-first for the next pieces, then
// rarest-first further ahead.
func (st *loopState) schedule() {
	f, buf := st.s.File()
	if st.s.cfg.Role == wire.RoleSource || f == nil {
		return
	}
	if !st.chooseStart() {
		st.learnEdge(time.Now())
		return
	}

	hi, ok := st.newest()
	if !ok {
		return
	}
	if st.behind(hi) { // stalled longer than the peers' windows: learn where they are now
		st.learnEdge(time.Now())
	}
	if hi >= lookahead && st.next < hi-lookahead {
		st.skip(buf, hi-lookahead)
	}
	if first, ok := st.sourceFirst(); ok && first > st.next && st.nobodyHas(st.next, first) { // they will never come
		st.skip(buf, first)
		buf.Gone(first)
	}
	for st.next <= hi && buf.Get(st.next) != nil {
		st.next++
	}
	capacity := st.capacity()
	for _, n := range st.order(buf, hi) {
		if capacity <= 0 {
			return
		}
		capacity -= st.fetch(buf, n)
	}
}

// behind tells whether every peer this node may download from has moved past everything it may
// ask for: it stalled longer than their windows hold, and only a header beyond the verified edge
// (learnEdge) can move it on, to be skipped forward from there.
func (st *loopState) behind(hi uint32) bool {
	some := false
	for _, p := range st.peers {
		if p.hello && p.mayDownload && !p.window.Empty {
			if p.window.First <= hi {
				return false
			}
			some = true
		}
	}
	return some
}

// skip moves the next piece to fetch to n, counting the pieces before it that never came.
func (st *loopState) skip(buf *livebuf.Buffer, n uint32) {
	if n-st.next > 4096 { // far more than a window: none of them is held
		st.s.metrics.skipped.Add(int64(n - st.next))
		st.next = n
		return
	}
	for ; st.next < n; st.next++ {
		if buf.Get(st.next) == nil {
			st.s.metrics.skipped.Add(1)
		}
	}
}

// newest is the highest piece number worth asking for: what peers we may download from claim to
// hold, bounded by the verified edge (see claims.go).
func (st *loopState) newest() (uint32, bool) {
	var hi uint32
	ok := false
	if !st.hasEdge {
		return 0, false
	}
	for _, p := range st.peers {
		if p.hello && p.mayDownload && !p.window.Empty && (!ok || st.reach(p) > hi) {
			hi, ok = st.reach(p), true
		}
	}
	return hi, ok
}

// sourceFirst is the oldest piece a connected source holds, if it is at or before the verified
// edge: no older piece will come (a source keeps the longest window; after a restart it holds
// nothing from before).
func (st *loopState) sourceFirst() (uint32, bool) {
	for _, p := range st.peers {
		if p.hello && p.role == wire.RoleSource && !p.window.Empty && st.hasEdge && p.window.First <= st.edge {
			return p.window.First, true
		}
	}
	return 0, false
}

// nobodyHas tells whether no peer claims any piece in [from, to) (looking at most 64 pieces
// far): a peer that only says it is the source cannot make this node skip pieces others hold.
func (st *loopState) nobodyHas(from, to uint32) bool {
	for n := from; n < to && n < from+64; n++ {
		for _, p := range st.peers {
			if p.has(n) {
				return false
			}
		}
	}
	return to-from <= 64
}

// chooseStart picks, once, the newest keyframe piece a peer holds at or before the verified edge.
func (st *loopState) chooseStart() bool {
	if st.started || !st.hasEdge {
		return st.started
	}
	for _, p := range st.peers {
		k := p.window.Keyframe
		if p.hello && p.mayDownload && !p.window.NoKeyframe && k <= st.edge && (!st.started || k > st.next) {
			st.next, st.started, st.start = k, true, k
		}
	}
	return st.started
}

func (st *loopState) capacity() int {
	c := 0
	for _, p := range st.peers {
		if st.usable(p) {
			c += p.flow.limit() - p.inFlight()
		}
	}
	return c
}

func (st *loopState) usable(p *peer) bool {
	return p.hello && p.mayDownload && !p.chokedUs && p.inFlight() < p.flow.limit()
}

// order lists the incomplete pieces in [next, hi]: the first few in order, then rarest first.
func (st *loopState) order(buf *livebuf.Buffer, hi uint32) []uint32 {
	var first []uint32
	st.rarity = st.rarity[:0]
	for n := st.next; n <= hi && n >= st.next; n++ {
		if buf.Get(n) != nil {
			continue
		}
		if len(first) < urgent {
			first = append(first, n)
		} else {
			st.rarity = append(st.rarity, pieceCount{n: n})
		}
	}
	// how many peers have each of the rest: one pass over the peers, not one per comparison
	for _, p := range st.peers {
		for i := range st.rarity {
			if p.has(st.rarity[i].n) {
				st.rarity[i].peers++
			}
		}
	}
	slices.SortStableFunc(st.rarity, func(a, b pieceCount) int { return a.peers - b.peers })
	for _, r := range st.rarity {
		first = append(first, r.n)
	}
	return first
}

// pieceCount is a piece and how many peers have it, for order's rarest-first sort.
type pieceCount struct {
	n     uint32
	peers int
}

// fetch requests the header or the missing blocks of piece n; it returns how many requests it sent.
func (st *loopState) fetch(buf *livebuf.Buffer, n uint32) int {
	h := buf.Header(n)
	if h == nil {
		if _, pending := st.hdrPending[n]; pending {
			return 0
		}
		if st.anyFed() && n > st.treeHeader && time.Since(st.seenAt(n)) < lateAge {
			return 0 // a tree parent forwards it, ahead of its blocks
		}
		if p := st.pick(n, -1); p != nil {
			st.askHeader(p, n, time.Now())
		}
		return 0
	}
	pc := buf.Incomplete(n)
	if pc == nil {
		return 0
	}
	sent := 0
	now := time.Now()
	for i := range h.Blocks {
		k := blockKey{n, uint16(i)}
		if pc.HasBlock(i) {
			continue
		}
		if r, ok := st.reqs.asked(k); ok {
			if !r.pushed || !pushOverdue(r, now, false) {
				continue
			}
			st.reqs.done(r.p, k) // its parent is late with it
			st.pushLate(r.p, n, now)
		}
		p := st.pick(n, i%wire.Substreams)
		if p == nil {
			break
		}
		st.request(p, k)
		sent++
	}
	return sent
}

// tier ranks peers by how much this node prefers to download from them: other viewers (and
// relays, for a relay) first, then support and startup nodes, then the source. Servers are spared
// so that the viewers' own upload carries the stream.
func (st *loopState) tier(p *peer) int {
	switch {
	case p.role == wire.RoleSource:
		return 2
	case st.s.cfg.Role == wire.RoleViewer && p.role != wire.RoleViewer:
		return 1
	}
	return 0
}

// tierWait is how long a piece must have been known before a peer of that tier is asked for it
// while a peer of a better tier might still get it.
var tierWait = [3]time.Duration{0, 700 * time.Millisecond, 1000 * time.Millisecond}

// pick chooses the least busy usable peer holding piece n in the best tier that has it, unless a
// better tier could still get the piece soon (see tierWait); s is the substream of the block to
// ask for, or -1 for the header.
func (st *loopState) pick(n uint32, s int) *peer {
	if st.late(n, s) { // the player needs it soon: whoever answers soonest
		return st.soonest(n, nil, false)
	}
	now := time.Now()
	var best [3]*peer
	bestPossible := 3 // the best tier with any usable peer
	for _, p := range st.peers {
		if !p.hello || !p.mayDownload || p.chokedUs {
			continue
		}
		t := st.tier(p)
		if p.flow.healthy() { // a peer late lately does not keep its tier waiting for it
			bestPossible = min(bestPossible, t)
		}
		if p.inFlight() >= p.flow.limit() || !p.has(n) {
			continue
		}
		best[t] = sooner(best[t], p)
	}
	age := now.Sub(st.seenAt(n))
	for t, p := range best {
		if p != nil && (t == bestPossible || age >= tierWait[t]) {
			return p
		}
	}
	return nil
}

// A piece is late when it was made more than lateAge ago by the source's clock (fedLateAge, for a
// block of a substream a tree parent forwards), or is one of the first startPieces a node
// fetches: a newcomer catching up, or a piece a player is about to need, not a fresh piece the
// viewers can still spread among themselves. A late piece is asked of whichever peer should
// answer soonest, relays included, without waiting for a better tier. fedLateAge leaves a tree
// block most of a second to come another way before a player paced at the engine's default
// --live-delay (1.3 s) plus its own buffer (about 1 s) needs it.
const (
	lateAge     = time.Second
	fedLateAge  = 1500 * time.Millisecond
	startPieces = 3
)

// late tells whether piece n (its substream s, or -1 for its header) is late, or one of the first
// startPieces a player waits for.
func (st *loopState) late(n uint32, s int) bool {
	if n-st.start < startPieces {
		return true
	}
	limit := lateAge
	if s >= 0 && st.depth(s) != wire.NoDepth {
		limit = fedLateAge // the tree brings it, later the deeper this node is
	}
	a, _ := st.age(n) // a piece whose header is unknown is not late by its age
	return a > limit
}

// old tells whether piece n was made more than lateAge ago, by the source's clock, or, its
// header unknown, was first heard of that long ago (no later than it was made). Without the
// latter a header no relay could give (the source made the piece before its tree to the relays
// formed) was never asked of the source, and every player skipped the piece.
func (st *loopState) old(n uint32) bool {
	if a, known := st.age(n); known {
		return a > lateAge
	}
	return time.Since(st.seenAt(n)) > lateAge
}

// age is how long ago piece n was made, by the source's clock, and whether its header is known.
func (st *loopState) age(n uint32) (time.Duration, bool) {
	_, buf := st.s.File()
	if h := buf.Header(n); h != nil {
		return st.clock.age(h, time.Now()), true
	}
	return 0, false
}

// seenAt is when this node first heard of piece n.
func (st *loopState) seenAt(n uint32) time.Time {
	t, ok := st.seen[n]
	if !ok {
		t = time.Now()
		st.seen[n] = t
	}
	return t
}

// askHeader asks p for the header of piece n.
func (st *loopState) askHeader(p *peer, n uint32, now time.Time) {
	if p.c.send(&wire.Message{Type: wire.GetHeader, Number: n}) {
		st.hdrPending[n] = reqInfo{p: p, at: now}
		p.headers++
	}
}

// headerDone ends the request for the header of piece n, if any.
func (st *loopState) headerDone(n uint32) {
	if r, ok := st.hdrPending[n]; ok {
		r.p.headers--
		delete(st.hdrPending, n)
	}
}
