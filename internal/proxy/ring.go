package proxy

import (
	"errors"
	"net"
	"sync"
	"time"
)

// The ring holds the newest bytes of one channel, bounded in size, in blocks that are only ever
// appended to: a reader takes slices of published bytes under the lock and writes them to its
// socket without it, so no client copies the stream and no client waits for another.
const (
	blockSize = 64 << 10
	// A waiting reader is woken once signalBytes have arrived or signalDelay has passed since
	// the first unsignalled byte, so 500 clients make a few large writes each, not many small ones.
	signalBytes = 32 << 10
	signalDelay = 40 * time.Millisecond
)

var (
	errBehind = errors.New("fell out of the buffer")
	errEnded  = errors.New("channel ended")
)

// rap is a random access point: where a client may start (a video keyframe; an audio frame on a
// channel without video; a packet boundary when neither can be found).
type rap struct {
	off int64  // absolute offset of its first packet
	psi []byte // PAT and PMT to send before it, or nil when they are already at off
}

type ring struct {
	limit int64 // bytes held at most (at least two blocks)

	mu      sync.Mutex // guards everything below
	blocks  [][]byte   // oldest first; each has capacity blockSize
	start   int64      // absolute offset of blocks[0][0]
	end     int64      // absolute offset after the newest byte
	raps    []rap      // oldest first, all at or after start
	changed chan struct{}
	pending int         // bytes appended since the last signal
	timer   *time.Timer // signals pending bytes after signalDelay
	err     error       // set once: the channel ended
}

func newRing(limit int64) *ring {
	return &ring{limit: max(limit, 2*blockSize), changed: make(chan struct{})}
}

// add appends bytes; a random access point at the first of them is given as r (nil for none).
func (g *ring) add(b []byte, r *rap) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return
	}
	if r != nil {
		r.off = g.end
		g.raps = append(g.raps, *r)
	}
	for len(b) > 0 {
		n := len(g.blocks)
		if n == 0 || len(g.blocks[n-1]) == blockSize {
			g.blocks = append(g.blocks, make([]byte, 0, blockSize))
			n++
		}
		last := g.blocks[n-1]
		k := min(len(b), blockSize-len(last))
		g.blocks[n-1] = append(last, b[:k]...)
		b, g.end, g.pending = b[k:], g.end+int64(k), g.pending+k
	}
	g.evict()
	switch {
	case g.pending >= signalBytes || r != nil:
		g.signal()
	case g.pending > 0 && g.timer == nil:
		g.timer = time.AfterFunc(signalDelay, g.signalLater)
	}
}

// evict drops the oldest blocks while more than limit bytes are held; g.mu is held.
func (g *ring) evict() {
	for len(g.blocks) > 1 && g.end-g.start > g.limit {
		g.start += int64(len(g.blocks[0]))
		g.blocks[0] = nil
		g.blocks = g.blocks[1:]
	}
	i := 0
	for i < len(g.raps) && g.raps[i].off < g.start {
		i++
	}
	g.raps = g.raps[i:]
}

// signal wakes the waiting readers; g.mu is held.
func (g *ring) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
	g.pending = 0
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
}

func (g *ring) signalLater() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timer = nil
	if g.pending > 0 {
		g.signal()
	}
}

// close ends the ring: readers get err once they have read everything.
func (g *ring) close(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
		g.signal()
	}
}

// read returns the bytes from off to the end as slices of the blocks (appended to bufs), the
// offset after them, and a channel that is closed when more arrive. It fails with errBehind when
// off has been evicted, and with the ring's error once everything was read after it ended.
func (g *ring) read(off int64, bufs net.Buffers) (net.Buffers, int64, <-chan struct{}, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if off < g.start {
		return bufs, off, nil, errBehind
	}
	if off >= g.end {
		return bufs, off, g.changed, g.err
	}
	// every block but the newest is full, so off's block is found by division
	i := int((off - g.start) / blockSize)
	bufs = append(bufs, g.blocks[i][(off-g.start)%blockSize:])
	bufs = append(bufs, g.blocks[i+1:]...)
	return bufs, g.end, g.changed, nil
}

// newest returns the newest random access point, and whether there is one.
func (g *ring) newest() (rap, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.raps) == 0 {
		return rap{}, false
	}
	return g.raps[len(g.raps)-1], true
}

// waitRAP returns a channel closed at the next change, the newest random access point and
// whether the ring has one, or the ring's error.
func (g *ring) waitRAP() (rap, bool, <-chan struct{}, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.raps) > 0 {
		return g.raps[len(g.raps)-1], true, nil, nil
	}
	return rap{}, false, g.changed, g.err
}

// total returns the bytes added since the channel began.
func (g *ring) total() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.end
}
