package swarm

import (
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	lookahead   = 40 // pieces behind the newest that are still worth fetching
	urgent      = 4  // pieces fetched strictly in order before rarest-first applies
	sourceGrace = 500 * time.Millisecond
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
	hi, ok := st.newest()
	if !ok || !st.chooseStart() {
		return
	}
	if hi >= lookahead && st.next < hi-lookahead {
		st.next = hi - lookahead
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

// newest is the highest piece number a peer we may download from holds.
func (st *loopState) newest() (uint32, bool) {
	var hi uint32
	ok := false
	for _, p := range st.peers {
		if p.hello && p.mayDownload && !p.window.Empty && (!ok || p.window.Last > hi) {
			hi, ok = p.window.Last, true
		}
	}
	return hi, ok
}

// chooseStart picks the newest keyframe piece any peer holds, once.
func (st *loopState) chooseStart() bool {
	if st.started {
		return true
	}
	for _, p := range st.peers {
		if p.hello && p.mayDownload && !p.window.NoKeyframe && (!st.started || p.window.Keyframe > st.next) {
			st.next, st.started = p.window.Keyframe, true
		}
	}
	return st.started
}

func (st *loopState) capacity() int {
	c := 0
	for _, p := range st.peers {
		if st.usable(p) {
			c += maxRequests - len(p.requests)
		}
	}
	return c
}

func (st *loopState) usable(p *peer) bool {
	return p.hello && p.mayDownload && !p.chokedUs && len(p.requests) < maxRequests
}

// order lists the incomplete pieces in [next, hi]: the first few in order, then rarest first.
func (st *loopState) order(buf *livebuf.Buffer, hi uint32) []uint32 {
	var first, rest []uint32
	for n := st.next; n <= hi && n >= st.next; n++ {
		if buf.Get(n) != nil {
			continue
		}
		if len(first) < urgent {
			first = append(first, n)
		} else {
			rest = append(rest, n)
		}
	}
	avail := func(n uint32) int {
		c := 0
		for _, p := range st.peers {
			if p.has(n) {
				c++
			}
		}
		return c
	}
	slices.SortStableFunc(rest, func(a, b uint32) int { return avail(a) - avail(b) })
	return append(first, rest...)
}

// fetch requests the header or the missing blocks of piece n; it returns how many requests it sent.
func (st *loopState) fetch(buf *livebuf.Buffer, n uint32) int {
	h := buf.Header(n)
	if h == nil {
		if _, pending := st.hdrPending[n]; pending {
			return 0
		}
		if p := st.pick(n); p != nil {
			p.c.send(&wire.Message{Type: wire.GetHeader, Number: n})
			st.hdrPending[n] = time.Now()
		}
		return 0
	}
	pc := buf.Incomplete(n)
	if pc == nil {
		return 0
	}
	sent := 0
	for i := range h.Blocks {
		k := blockKey{n, uint16(i)}
		if _, busy := st.requested[k]; busy || pc.HasBlock(i) {
			continue
		}
		p := st.pick(n)
		if p == nil {
			break
		}
		st.request(p, k)
		sent++
	}
	return sent
}

// pick chooses the least busy usable peer holding piece n. The source is spared: while another
// peer could serve the piece, the source is asked only once the piece has been known for
// sourceGrace and no other peer has it yet.
func (st *loopState) pick(n uint32) *peer {
	var best, bestRelay *peer
	relays := false
	for _, p := range st.peers {
		if !p.hello || !p.mayDownload || p.chokedUs {
			continue
		}
		if p.role != wire.RoleSource {
			relays = true
		}
		if len(p.requests) >= maxRequests || !p.has(n) {
			continue
		}
		if p.role != wire.RoleSource && (bestRelay == nil || len(p.requests) < len(bestRelay.requests)) {
			bestRelay = p
		}
		if best == nil || len(p.requests) < len(best.requests) {
			best = p
		}
	}
	if bestRelay != nil {
		return bestRelay
	}
	if relays && time.Since(st.seenAt(n)) < sourceGrace {
		return nil
	}
	return best
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
