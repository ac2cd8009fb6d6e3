package swarm

import (
	"fmt"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
	"golang.org/x/time/rate"
)

// What a peer says it holds (HELLO and WINDOW windows, HAVE) is a hint, never the truth: only a
// header the source signed moves this node's idea of the live edge. The scheduler looks at most
// aheadSlack pieces beyond the newest verified header (asking for the headers there, which verify
// or not), and starts only at a keyframe at or before it. A claim more than maxClaimAhead pieces
// beyond it (hours of stream) is absurd: the claimant is banned. A peer whose requests go
// unanswered (strikes) is left alone for strikeCool, and dropped after maxStrikes without having
// delivered anything.
const (
	aheadSlack    = 16
	maxClaimAhead = 1 << 16
	strikeCool    = 5 * time.Second
	maxStrikes    = 8
	maxSeen       = 4096 // pieces remembered as announced before a start was chosen
)

// verified notes that the header of piece n was verified (or made, on the source).
func (st *loopState) verified(n uint32) {
	if !st.hasEdge || n > st.edge {
		st.edge, st.hasEdge = n, true
	}
}

// claim checks a peer's claim to hold piece n; an absurd one bans the peer (false).
func (st *loopState) claim(p *peer, n uint32) bool {
	if st.hasEdge && n > st.edge && n-st.edge > maxClaimAhead {
		st.ban(p, BanClaim, fmt.Errorf("claims piece %d; the newest piece the source signed is %d", n, st.edge))
		return false
	}
	return true
}

// claimWindow checks a window a peer announced.
func (st *loopState) claimWindow(p *peer, w wire.WindowInfo) bool {
	switch {
	case w.Empty:
		return true
	case w.First > w.Last:
		st.ban(p, BanClaim, fmt.Errorf("window %d–%d", w.First, w.Last))
		return false
	}
	return st.claim(p, w.Last) && (w.NoKeyframe || st.claim(p, w.Keyframe))
}

// reach is the newest piece worth asking a peer for: its claim, bounded by the verified edge.
func (st *loopState) reach(p *peer) uint32 {
	return min(p.window.Last, st.edge+aheadSlack)
}

// strike notes a request p left unanswered; a peer that never delivered is dropped after
// maxStrikes.
func (st *loopState) strike(p *peer, now time.Time) {
	p.strikes++
	p.struck = now
	if p.strikes >= maxStrikes && p.downloaded == 0 && st.byConn[p.c] == p {
		st.s.log.Info("peer dropped: requests unanswered", "peer", p.c.remote.String())
		st.dropPeer(p)
	}
}

// A peer that has not sent HELLO within helloWait is dropped; a peer that has done nothing useful
// (sent a request, or a header or block that verified) for uselessAfter, and takes no substream
// from this node, gives its slot to a newcomer when the node is full. Variables, so that tests can
// shorten them.
var (
	helloWait    = 5 * time.Second
	uselessAfter = 20 * time.Second
)

// useful notes that p did something useful now.
func (p *peer) useful(now time.Time) { p.usefulAt = now }

// idle tells whether p has done nothing useful for uselessAfter. A tree child is never idle: it
// asks for nothing and sends nothing back (the blocks are forwarded unasked), and the children
// below it depend on it, so a full source gave a swarm's main relay away 20 s into a stream.
func (p *peer) idle(now time.Time) bool {
	return p.treeTaken == 0 && now.Sub(p.usefulAt) > uselessAfter
}

// dropSilent drops the peers that sent no HELLO within helloWait.
func (st *loopState) dropSilent(now time.Time) {
	for _, p := range st.peers {
		if !p.hello && now.Sub(p.since) > helloWait {
			st.s.log.Debug("peer dropped: no HELLO", "peer", p.c.remote.String())
			st.dropPeer(p)
		}
	}
}

// idlest returns the peer that has done nothing useful for longest, if that is over uselessAfter;
// the nodes of --download-from are never chosen.
func (st *loopState) idlest(now time.Time) *peer {
	var victim *peer
	for _, p := range st.peers {
		if len(st.s.cfg.DownloadFrom) > 0 && st.mayDownloadFrom(p.listen) {
			continue
		}
		if p.idle(now) && (victim == nil || p.usefulAt.Before(victim.usefulAt)) {
			victim = p
		}
	}
	return victim
}

// cooling tells whether p recently left a request unanswered.
func (p *peer) cooling(now time.Time) bool {
	return !p.struck.IsZero() && now.Sub(p.struck) < strikeCool
}

// learnEdge asks peers we may download from for the headers that tell where to start: the
// newest keyframe piece each claims beyond the verified edge (or, with no keyframe claimed, its
// newest piece, while nothing is verified). The answers that verify move the edge. These asks are
// kept apart from the scheduler's (hdrPending), so that a header pushed meanwhile still counts as
// pushed and is passed on.
func (st *loopState) learnEdge(now time.Time) {
	for _, p := range st.peers {
		if !p.hello || !p.mayDownload || p.window.Empty || p.cooling(now) {
			continue
		}
		n := p.window.Last
		switch {
		case !p.window.NoKeyframe && (!st.hasEdge || p.window.Keyframe > st.edge):
			n = p.window.Keyframe
		case st.hasEdge:
			continue
		}
		if _, pending := st.edgeAsked[n]; !pending {
			p.c.send(&wire.Message{Type: wire.GetHeader, Number: n})
			st.edgeAsked[n] = reqInfo{p: p, at: now}
		}
	}
}

// replayed tells whether a HEADER message, pushed or answered, is for a piece so old that this
// node will not use it: one lookahead behind where it fetches, and not asked for. Honest peers
// send a few (an answer that came late, forwards in flight as a child left its parent, a parent
// that lags), so such headers are dropped unread; a peer that sends them faster than its replay
// budget allows (mayReplay) replays them and is banned. (A HELLO's header is not counted.)
func (st *loopState) replayed(h *wire.PieceHeader) bool {
	if _, asked := st.hdrPending[h.Number]; asked {
		return false
	}
	if _, asked := st.edgeAsked[h.Number]; asked {
		return false
	}
	return st.started && h.Number+lookahead < st.next
}

// A peer may send replayLimit stale headers at once, and one more every replayRefill; beyond
// that it counts as replaying.
const (
	replayLimit  = 32
	replayRefill = 10 * time.Second
)

// mayReplay spends one of p's stale headers, and tells whether it had one left.
func (p *peer) mayReplay() bool {
	if p.replays == nil {
		p.replays = rate.NewLimiter(rate.Every(replayRefill), replayLimit)
	}
	return p.replays.Allow()
}

// nearEdge tells whether piece n is within what the loop remembers of a peer exactly (its HAVEs,
// its CANCELs): from haveSpan behind the verified edge to aheadSlack beyond it.
func (st *loopState) nearEdge(n uint32) bool {
	return st.hasEdge && n <= st.edge+aheadSlack && n+haveSpan >= st.edge
}
