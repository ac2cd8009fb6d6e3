package swarm

import (
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// futureSlack is how far ahead of the source's clock, as a node estimates it, the time in a
// signed piece header may be before the header is refused: a key holder's headers made ahead of
// time cannot move the live edge beyond what the source has sent.
const futureSlack = 30 * time.Second

// sourceClock estimates the source's clock from the verified headers a node accepted: the source
// stamps each header with its wall clock (unix milliseconds), so header time minus arrival time is
// the source's clock offset less the header's delay; the largest value seen, from the least
// delayed header, is the estimate. After clockStale without an accepted header (a stalled or
// restarted source, whose clock may have been stepped) the estimate is forgotten and the next
// header sets it again.
type sourceClock struct {
	known  bool
	ahead  int64 // milliseconds the source's clock runs ahead of ours, at most
	lastAt time.Time
}

const clockStale = 30 * time.Second

// future tells whether h claims a time beyond the estimate by more than futureSlack.
func (c *sourceClock) future(h *wire.PieceHeader, now time.Time) bool {
	if !c.known || now.Sub(c.lastAt) > clockStale {
		return false
	}
	return h.Time-now.UnixMilli() > c.ahead+futureSlack.Milliseconds()
}

// note takes an accepted header into the estimate.
func (c *sourceClock) note(h *wire.PieceHeader, now time.Time) {
	ahead := h.Time - now.UnixMilli()
	if !c.known || now.Sub(c.lastAt) > clockStale || ahead > c.ahead {
		c.ahead, c.known = ahead, true
	}
	c.lastAt = now
}

// age is how long ago, by the source's clock as estimated, the source made the piece of h.
func (c *sourceClock) age(h *wire.PieceHeader, now time.Time) time.Duration {
	if !c.known {
		return 0
	}
	return time.Duration(now.UnixMilli()+c.ahead-h.Time) * time.Millisecond
}

// noteClock takes an accepted header into the estimate and publishes it for PlayAt.
func (st *loopState) noteClock(h *wire.PieceHeader, now time.Time) {
	st.clock.note(h, now)
	st.s.ahead.Store(st.clock.ahead)
	st.s.aheadKnown.Store(true)
}

// PlayAt returns when a player that plays delay behind the live edge should get the bytes the
// source made at t (unix ms on the source's clock): delay after this node could first have had
// them, by the fastest delivery of a piece header it has seen (sourceClock). Every header noted
// arrived no sooner than that, so a piece is held at most delay after it arrived here. The zero
// time before the first header.
func (s *Session) PlayAt(t int64, delay time.Duration) time.Time {
	if !s.aheadKnown.Load() {
		return time.Time{}
	}
	return time.UnixMilli(t - s.ahead.Load()).Add(delay)
}
