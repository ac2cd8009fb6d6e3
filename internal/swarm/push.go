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
	var first, second []*peer
	for _, p := range st.peers {
		if p == from || !p.hello || !p.unchoked || p.has(n) || p.role == wire.RoleSource {
			continue
		}
		relay := p.role == wire.RoleSupport || p.role == wire.RoleStartup
		if relay == (st.s.cfg.Role == wire.RoleSource) {
			first = append(first, p)
		} else {
			second = append(second, p)
		}
	}
	byAge := func(a, b *peer) int { return a.since.Compare(b.since) }
	slices.SortFunc(first, byAge)
	slices.SortFunc(second, byAge)
	cands := append(first, second...)
	// Rotate through the preferred peers so each gets its share of first copies.
	for i := range min(k, len(cands)) {
		if i < len(first) {
			st.pushTo(first[(st.pushTurn+i)%len(first)], pc.Header)
		} else {
			st.pushTo(second[(st.pushTurn+i)%len(second)], pc.Header)
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
	}
	p.noteHave(h.Number, h.HasKeyframe())
}
