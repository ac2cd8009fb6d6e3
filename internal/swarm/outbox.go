package swarm

import (
	"sync"

	"github.com/aceswarm/aceswarm/internal/fifo"
)

// outbox holds a connection's frames waiting for its writer: control messages and blocks, each
// first in first out, control messages first. Its queues hold the room they once needed, not
// their bounds (ctrlQueue, sendQueue), so the tens of connections a node holds cost memory for
// what they queue.
type outbox struct {
	mu          sync.Mutex // guards the fifos
	ctrl, block fifo.Queue[[]byte]
	ready       chan struct{} // holds a token while frames wait
}

func newOutbox() *outbox { return &outbox{ready: make(chan struct{}, 1)} }

// push queues frame b (a block when block is set) unless its queue is full: ctrlQueue control
// messages or sendQueue blocks wait already.
func (o *outbox) push(b []byte, block bool) bool {
	o.mu.Lock()
	q, limit := &o.ctrl, ctrlQueue
	if block {
		q, limit = &o.block, sendQueue
	}
	ok := q.Len() < limit
	if ok {
		q.Push(b)
	}
	o.mu.Unlock()
	if ok {
		select {
		case o.ready <- struct{}{}:
		default:
		}
	}
	return ok
}

// pop takes the oldest control message, else the oldest block; ok is false when none waits.
func (o *outbox) pop() (b []byte, block, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctrl.Len() > 0 {
		return o.ctrl.Pop(), false, true
	}
	if o.block.Len() > 0 {
		return o.block.Pop(), true, true
	}
	return nil, false, false
}
