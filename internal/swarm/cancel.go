package swarm

import "github.com/aceswarm/aceswarm/internal/wire"

// CANCEL (docs/protocol.md, Messages): a node that got a block tells the others it asked
// for it, and its tree parent in the block's substream, that it holds it. Without it every block
// a tree parent was late with, or that two peers were asked for, crossed a home uplink twice
// (24% more blocks than the viewers needed, in a 50-viewer simulation).

// maxGotBlocks bounds the blocks a peer's CANCELs are remembered for (peer.gotBlocks).
const maxGotBlocks = 4096

// cancelElsewhere tells every peer other than from that was asked for block k, or is expected
// to forward it, or is its substream's tree parent, that k came: a copy still waiting in their
// queue is dropped, and a parent that gets it later does not forward it.
func (st *loopState) cancelElsewhere(from *peer, k blockKey) {
	s := int(k.block) % wire.Substreams
	parent := st.parent[s]
	if parent != nil && parent.treeGiven&(1<<s) == 0 {
		parent = nil // it does not forward to this node (yet)
	}
	var m *wire.Message
	for _, q := range st.peers {
		if q == from {
			continue
		}
		_, asked := q.requests[k]
		_, pushed := q.pushes[k]
		if !asked && !pushed && q != parent {
			continue
		}
		st.reqs.done(q, k)
		if m == nil {
			m = &wire.Message{Type: wire.Cancel, Number: k.n, Block: k.block}
		}
		q.c.send(m)
	}
}

// onCancel: p holds block k. A copy still waiting in p's queue is not written (nor counted as
// sent), and a block p's parent here gets later is not forwarded to it.
func (st *loopState) onCancel(p *peer, k blockKey) {
	if b, ok := p.c.queued.take(k); ok { // still waiting: the writer will skip it
		st.countSent(p, -b.size, b.fwd)
	}
	if p.treeTaken != 0 && st.nearEdge(k.n) && len(p.gotBlocks) < maxGotBlocks {
		p.gotBlocks[k] = true
	}
}
