package swarm

import (
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// flow is the requester's view of how fast a peer answers, and how many block requests it may
// have in flight: a peer behind a small upload (a home link) answers a deep queue of requests
// seconds late, long after the player needed the blocks, and meanwhile nobody else is asked. So
// the number in flight grows while blocks arrive within flowTarget and shrinks when they do not
// (additive increase, multiplicative decrease, as TCP sizes its window), and the scheduler asks
// the peer that should answer soonest.
type flow struct {
	window  float64       // requests it may have in flight, 1 to maxRequests
	sojourn time.Duration // moving average of the time from request to block
	cut     time.Time     // when the window was last cut: at most one cut per sojourn
	failing bool          // late or timed out, and no block on time since
}

const (
	flowTarget  = 500 * time.Millisecond // a block should arrive this soon after it is asked for
	flowInitial = 4                      // requests in flight to a new peer
)

func newFlow() flow { return flow{window: flowInitial, sojourn: flowTarget / 2} }

// limit is how many requests the peer may have in flight now.
func (f *flow) limit() int { return int(f.window) }

// healthy tells whether the peer answered on time since it was last late or timed out: a peer
// that is not is not waited for (scheduler.go, pick).
func (f *flow) healthy() bool { return !f.failing }

// answered notes a block that took d from request to arrival.
func (f *flow) answered(d time.Duration, now time.Time) {
	f.sojourn += (d - f.sojourn) / 4
	switch {
	case d <= flowTarget:
		f.window = min(f.window+0.5, maxRequests)
		f.failing = false
	case now.Sub(f.cut) > f.sojourn:
		f.window = max(f.window*0.7, 1)
		f.cut = now
	}
}

// timedOut notes a request left unanswered: one request at a time until blocks come again.
func (f *flow) timedOut(now time.Time) {
	f.window, f.cut, f.failing = 1, now, true
	f.sojourn = max(f.sojourn, requestTimeout)
}

// expect is when a new request to a peer with inFlight requests outstanding should be answered.
func (f *flow) expect(inFlight int) time.Duration {
	return f.sojourn * time.Duration(inFlight+1) / time.Duration(max(f.limit(), 1))
}

// reaskLate asks another peer for the blocks and headers of the next pieces the player needs
// that their peer is late with (isLate), so that a slow or stalled peer costs a fraction of a
// second, not requestTimeout. The peer asked is the one expected to
// answer soonest, of any kind: at this point a server is better than a stall.
func (st *loopState) reaskLate(now time.Time) {
	if !st.started {
		return
	}
	_, buf := st.s.File()
	if buf == nil {
		return
	}
	for n := st.next; n < st.next+urgentPieces; n++ {
		h := buf.Header(n)
		if h == nil {
			st.reaskHeader(n, now)
			continue
		}
		pc := buf.Incomplete(n)
		if pc == nil {
			continue
		}
		for i := range h.Blocks {
			k := blockKey{n, uint16(i)}
			r, ok := st.reqs.asked(k)
			if !ok || pc.HasBlock(i) || !st.isLate(r, n, now) {
				continue
			}
			if q := st.soonest(n, r.p, true); q != nil {
				if r.pushed {
					st.reqs.done(r.p, k)
					st.pushLate(r.p, n, now)
				} else {
					r.p.flow.late(now, now.Sub(r.at))
				}
				st.request(q, k) // the late peer's request still counts against it
				st.s.metrics.reasked.Add(1)
			}
		}
	}
}

// reaskHeader asks another peer for the header of piece n when the peer asked is late with it.
func (st *loopState) reaskHeader(n uint32, now time.Time) {
	r, ok := st.hdrPending[n]
	if !ok || !r.p.flow.isLate(now.Sub(r.at)) {
		return
	}
	if q := st.soonest(n, r.p, true); q != nil {
		r.p.flow.late(now, now.Sub(r.at))
		st.headerDone(n)
		st.askHeader(q, n, now)
		st.s.metrics.reasked.Add(1)
	}
}

// isLate tells whether the block asked of (or expected from a tree parent) as r is late for a
// piece the player needs next: a forward after lateCeiling, an answer by flow.isLate.
func (st *loopState) isLate(r reqInfo, n uint32, now time.Time) bool {
	if r.pushed {
		return pushOverdue(r, now, true)
	}
	return r.p.flow.isLate(now.Sub(r.at))
}

// isLate tells whether an urgent answer waited for d is late: more than twice the peer's usual
// time, but at least lateFloor and at most lateCeiling; from a failing peer, after lateFloor.
func (f *flow) isLate(d time.Duration) bool {
	if f.failing {
		return d > lateFloor
	}
	return d > min(max(2*f.sojourn, lateFloor), lateCeiling)
}

const (
	urgentPieces = 2                      // pieces from the next one whose late blocks are asked again
	lateFloor    = 400 * time.Millisecond // a block is never late sooner than this
	lateCeiling  = time.Second            // nor later than this
)

// soonest is the usable peer other than not holding piece n that should answer soonest; the
// source only when no other peer holds the piece, and then only when the piece is old or
// sourceOK (the swarm spares the source's upload: a fresh piece is being pushed to a relay).
// For a viewer's first startPieces a relay comes before any viewer: its player waits for them,
// and in a crowd of newcomers (a stream's start, a match's kick-off) every viewer holding them
// has a home upload the others' requests queue behind, where a relay's is large (200 newcomers
// at a stream's start got their start piece 3.7 s after joining, p95 in the simulation, with
// viewers asked as readily; 2.1 s with relays first).
func (st *loopState) soonest(n uint32, not *peer, sourceOK bool) *peer {
	var best, relay, source *peer
	others := false
	for _, p := range st.peers {
		if p == not || !p.has(n) || !p.hello || !p.mayDownload {
			continue
		}
		if p.role == wire.RoleSource {
			if st.usable(p) {
				source = p
			}
			continue
		}
		others = true
		if st.usable(p) {
			best = sooner(best, p)
			if isRelay(p.role) {
				relay = sooner(relay, p)
			}
		}
	}
	if relay != nil && n-st.start < startPieces && st.s.cfg.Role == wire.RoleViewer {
		return relay
	}
	if others || !sourceOK && !st.old(n) && st.hasRelay(true) { // a fresh piece only the source holds: its tree brings it to a relay
		return best
	}
	return source
}

// sooner is whichever of a (nil: none yet) and p should answer a new request soonest.
func sooner(a, p *peer) *peer {
	if a == nil || p.flow.expect(p.inFlight()) < a.flow.expect(a.inFlight()) {
		return p
	}
	return a
}

// hasRelay tells whether a support or startup node is connected (if serving, one that holds
// pieces or has a path in a substream tree): a source forwards fresh pieces to one.
func (st *loopState) hasRelay(serving bool) bool {
	for _, p := range st.peers {
		if p.hello && isRelay(p.role) && (!serving || !p.window.Empty || p.depths != noDepths) {
			return true
		}
	}
	return false
}

// late notes a request asked again elsewhere after waiting d: the peer is taken to answer that
// slowly, and its window is cut.
func (f *flow) late(now time.Time, d time.Duration) {
	f.sojourn = max(f.sojourn, d)
	f.failing = true
	if now.Sub(f.cut) > f.sojourn {
		f.window = max(f.window*0.7, 1)
		f.cut = now
	}
}
