package swarm

import (
	"encoding/binary"
	"sync"
)

// blockQueue is the set of blocks waiting in a connection's block queue, so that a CANCEL
// (the peer got the block elsewhere meanwhile) drops one before it takes the uplink's time. The
// session loop adds and cancels; the connection's writer takes each as it comes to it, and skips
// a frame whose block is no longer in the set. It holds at most sendQueue entries.
type blockQueue struct {
	mu   sync.Mutex
	keys map[blockKey]queuedBlock
}

type queuedBlock struct {
	size int  // data bytes
	fwd  bool // forwarded unasked, not an answer
}

// add notes block k queued; false if it is queued already, not to be queued twice.
func (q *blockQueue) add(k blockKey, size int, fwd bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.keys[k]; ok {
		return false
	}
	q.keys[k] = queuedBlock{size: size, fwd: fwd}
	return true
}

// len is how many blocks wait.
func (q *blockQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.keys)
}

// take removes block k and reports whether it was there: the writer writes a frame only if so
// (else it was cancelled), and a frame that failed to queue gives its place back.
func (q *blockQueue) take(k blockKey) (queuedBlock, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b, ok := q.keys[k]
	delete(q.keys, k)
	return b, ok
}

// frameBlock is the block a queued PIECE frame carries (length, type, number, block, data).
func frameBlock(f []byte) blockKey {
	return blockKey{binary.BigEndian.Uint32(f[5:]), binary.BigEndian.Uint16(f[9:])}
}
