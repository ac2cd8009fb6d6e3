// Package fifo is a first-in first-out queue in one slice that keeps the room it once needed
// and no more: the queues of a node's many connections cost memory for what they hold, not for
// their bounds, as buffered channels of the same bounds would.
package fifo

// Queue is a FIFO queue; the zero value is empty and ready. It does no locking.
type Queue[T any] struct {
	q    []T
	head int
}

// Len is how many items wait.
func (f *Queue[T]) Len() int { return len(f.q) - f.head }

// Push adds v at the back.
func (f *Queue[T]) Push(v T) {
	if f.head > 0 && len(f.q) == cap(f.q) { // no room at the end: move the waiting items to the front
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	f.q = append(f.q, v)
}

// Pop removes and returns the item at the front; the queue must not be empty.
func (f *Queue[T]) Pop() T {
	var zero T
	v := f.q[f.head]
	f.q[f.head] = zero // the slot no longer holds it for the collector
	f.head++
	if f.head == len(f.q) {
		f.q, f.head = f.q[:0], 0
	}
	return v
}
