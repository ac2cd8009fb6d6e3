package swarm

import (
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// reqTable is the block requests in flight: at most one peer asked per block, and for each peer
// the blocks it was asked (peer.requests, which the scheduler counts against maxRequests). It
// also holds the blocks a tree parent is expected to forward unasked (peer.pushes, not counted
// against the parent's requests). It is bounded by maxRequests per connected peer and the blocks
// of the live window per parent: a peer's entries leave with it.
type reqTable struct {
	byBlock map[blockKey]reqInfo
}

type reqInfo struct {
	p      *peer
	at     time.Time
	pushed bool // expected from a tree parent, not asked
}

func newReqTable() reqTable { return reqTable{byBlock: map[blockKey]reqInfo{}} }

// ask notes that p was asked for block k.
func (t *reqTable) ask(p *peer, k blockKey, now time.Time) {
	p.requests[k] = now
	t.byBlock[k] = reqInfo{p, now, false}
}

// expect notes that tree parent p should forward block k, unless the block is being asked for.
func (t *reqTable) expect(p *peer, k blockKey, now time.Time) {
	if _, ok := t.byBlock[k]; ok {
		return
	}
	p.pushes[k] = now
	t.byBlock[k] = reqInfo{p, now, true}
}

// done ends p's request for block k (answered or rejected), or its expected forward; the block
// stays asked of another peer if it was asked again meanwhile.
func (t *reqTable) done(p *peer, k blockKey) {
	delete(p.requests, k)
	delete(p.pushes, k)
	if r, ok := t.byBlock[k]; ok && r.p == p {
		delete(t.byBlock, k)
	}
}

// clearPeer ends every request of p and every forward expected of it (choked us, or gone).
func (t *reqTable) clearPeer(p *peer) {
	for k := range p.requests {
		t.done(p, k)
	}
	for k := range p.pushes {
		t.done(p, k)
	}
}

// clearPushes ends the forwards expected of p in substream s (it is no longer our parent there).
func (t *reqTable) clearPushes(p *peer, s int) {
	for k := range p.pushes {
		if int(k.block)%wire.Substreams == s {
			t.done(p, k)
		}
	}
}

// expire ends the requests of peers older than timeout and returns the peer of each, to be
// struck; a request whose block was asked again of another peer still counts against the first
// until it answers or expires. Expected forwards that old are forgotten without a strike.
func (t *reqTable) expire(now time.Time, timeout time.Duration, peers map[[20]byte]*peer) []*peer {
	var late []*peer
	for _, p := range peers {
		for k, at := range p.requests {
			if now.Sub(at) > timeout {
				t.done(p, k)
				late = append(late, p)
			}
		}
		for k, at := range p.pushes {
			if now.Sub(at) > timeout {
				t.done(p, k)
			}
		}
	}
	return late
}

// asked returns who was asked for block k (or is expected to forward it) and when.
func (t *reqTable) asked(k blockKey) (reqInfo, bool) {
	r, ok := t.byBlock[k]
	return r, ok
}
