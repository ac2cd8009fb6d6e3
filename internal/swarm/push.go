package swarm

import (
	"slices"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// push sends a fresh piece, unasked, to PushFanout peers that do not have it. The source pushes
// each piece to one relay, which pushes it on to one viewer (a relay passes on only the pieces
// pushed to it): each piece enters the viewers' mesh once and the viewers spread it, instead of
// every viewer asking a server. Peers are taken in turn; a source serves relays first, a relay
// serves viewers first.
func (st *loopState) push(n uint32, from *peer) {
	k := st.s.cfg.PushFanout
	_, buf := st.s.File()
	if k <= 0 || buf == nil {
		return
	}
	pc := buf.Get(n)
	if pc == nil {
		return
	}
	var cands []*peer
	for _, p := range st.peers {
		if p != from && p.hello && p.unchoked && !p.has(n) && p.role != wire.RoleSource {
			cands = append(cands, p)
		}
	}
	slices.SortFunc(cands, func(a, b *peer) int {
		if d := st.pushRank(a) - st.pushRank(b); d != 0 {
			return d
		}
		return a.since.Compare(b.since)
	})
	if len(cands) == 0 {
		return
	}
	// Rotate within the best rank so each of its peers gets its share of first copies.
	best := 0
	for best < len(cands) && st.pushRank(cands[best]) == st.pushRank(cands[0]) {
		best++
	}
	for i := range min(k, len(cands)) {
		if i < best {
			st.pushTo(cands[(st.pushTurn+i)%best], pc.Header)
		} else {
			st.pushTo(cands[i], pc.Header)
		}
	}
	st.pushTurn++
}

func (st *loopState) pushTo(p *peer, h *wire.PieceHeader) {
	_, buf := st.s.File()
	if !p.c.send(&wire.Message{Type: wire.Header, Header: h}) {
		return
	}
	for i := range h.Blocks {
		data, err := buf.Block(h.Number, i)
		if err != nil || !p.c.send(&wire.Message{Type: wire.Piece, Number: h.Number, Block: uint16(i), Data: data}) {
			return
		}
		st.s.sentMedia.Add(int64(len(data)))
		p.uploaded += int64(len(data))
		st.s.metrics.addMedia(p.role, false, len(data))
	}
	p.noteHave(h.Number, h.HasKeyframe())
}

// pushRank orders push candidates: a source seeds support nodes first (the nodes other relays
// download from), then startup nodes, then viewers; a relay seeds viewers first.
func (st *loopState) pushRank(p *peer) int {
	if st.s.cfg.Role == wire.RoleSource {
		switch p.role {
		case wire.RoleSupport:
			return 0
		case wire.RoleStartup:
			return 1
		}
		return 2
	}
	if p.role == wire.RoleViewer {
		return 0
	}
	return 1
}
