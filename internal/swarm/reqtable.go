package swarm

import "time"

// reqTable is the block requests in flight: at most one peer asked per block, and for each peer
// the blocks it was asked (peer.requests, which the scheduler counts against maxRequests). It is
// bounded by maxRequests per connected peer: a peer's requests leave with it.
type reqTable struct {
	byBlock map[blockKey]reqInfo
}

type reqInfo struct {
	p  *peer
	at time.Time
}

func newReqTable() reqTable { return reqTable{byBlock: map[blockKey]reqInfo{}} }

// ask notes that p was asked for block k.
func (t *reqTable) ask(p *peer, k blockKey, now time.Time) {
	p.requests[k] = now
	t.byBlock[k] = reqInfo{p, now}
}

// busy tells whether some peer is being asked for block k.
func (t *reqTable) busy(k blockKey) bool {
	_, ok := t.byBlock[k]
	return ok
}

// done ends p's request for block k (answered or rejected); the block stays asked of another
// peer if it was asked again meanwhile.
func (t *reqTable) done(p *peer, k blockKey) {
	delete(p.requests, k)
	if r, ok := t.byBlock[k]; ok && r.p == p {
		delete(t.byBlock, k)
	}
}

// clearPeer ends every request of p (choked us, or gone).
func (t *reqTable) clearPeer(p *peer) {
	for k := range p.requests {
		t.done(p, k)
	}
}

// expire ends the requests of peers older than timeout and returns the peer of each, to be
// struck; a request whose block was asked again of another peer still counts against the first
// until it answers or expires.
func (t *reqTable) expire(now time.Time, timeout time.Duration, peers map[[20]byte]*peer) []*peer {
	var late []*peer
	for _, p := range peers {
		for k, at := range p.requests {
			if now.Sub(at) > timeout {
				t.done(p, k)
				late = append(late, p)
			}
		}
	}
	return late
}

// asked returns who was asked for block k and when.
func (t *reqTable) asked(k blockKey) (reqInfo, bool) {
	r, ok := t.byBlock[k]
	return r, ok
}
