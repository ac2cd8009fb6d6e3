package swarm

import (
	"encoding/binary"
	"sync"
)

// blockQueue is the set of blocks waiting in a connection's block queue, so that a CANCEL
// (the peer got the block elsewhere meanwhile) drops one before it takes the uplink's time. The
// session loop adds and cancels; the connection's writer takes each as it comes to it. It holds
// at most sendQueue entries.
type blockQueue struct {
	mu   sync.Mutex
	keys map[blockKey]queuedBlock
}

type queuedBlock struct {
	size      int  // data bytes
	fwd       bool // forwarded unasked, not an answer
	cancelled bool
}

// add notes block k queued; false if it is queued already (and not cancelled), not to be queued twice.
func (q *blockQueue) add(k blockKey, size int, fwd bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if b, ok := q.keys[k]; ok && !b.cancelled {
		return false
	}
	q.keys[k] = queuedBlock{size: size, fwd: fwd}
	return true
}

// take removes block k, as the writer comes to it (or as it failed to queue).
func (q *blockQueue) take(k blockKey) (queuedBlock, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b, ok := q.keys[k]
	delete(q.keys, k)
	return b, ok
}

// cancel marks block k, if it is still waiting, not to be written; it returns the block.
func (q *blockQueue) cancel(k blockKey) (queuedBlock, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b, ok := q.keys[k]
	if !ok || b.cancelled {
		return queuedBlock{}, false
	}
	b.cancelled = true
	q.keys[k] = b
	return b, true
}

// frameBlock is the block a queued PIECE frame carries (length, type, number, block, data).
func frameBlock(f []byte) blockKey {
	return blockKey{binary.BigEndian.Uint32(f[5:]), binary.BigEndian.Uint16(f[9:])}
}
