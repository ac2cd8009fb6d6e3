package fanout

import (
	"errors"
	"net"
	"sort"
	"sync"
	"time"
)

// A Ring holds the newest bytes of one channel, bounded in size, in blocks that are only ever
// appended to: a reader takes slices of published bytes under the lock and writes them to its
// socket without it, so no client copies the stream and no client waits for another.
const (
	BlockSize = 64 << 10
	// A waiting reader is woken once signalBytes have arrived or signalDelay has passed since
	// the first unsignalled byte, so 500 clients make a few large writes each, not many small ones.
	signalBytes = 32 << 10
	signalDelay = 40 * time.Millisecond
)

// Errors of Read.
var (
	ErrBehind = errors.New("fell out of the buffer")
	ErrEnded  = errors.New("channel ended")
)

// RAP is a random access point: where a client may start (a video keyframe; an audio frame on a
// channel without video; a packet boundary when neither can be found).
type RAP struct {
	Off int64  // absolute offset of its first packet
	PSI []byte // PAT and PMT to send before it, or nil when they are already at off
}

// Ring is one channel's buffer; see the constants above.
type Ring struct {
	limit  int64 // bytes held at most (at least two blocks)
	maxAge int64 // with stamps: ms of stream held at most beyond the newest block (0: any)

	mu      sync.Mutex // guards everything below
	blocks  [][]byte   // oldest first; each has capacity BlockSize
	start   int64      // absolute offset of blocks[0][0]
	end     int64      // absolute offset after the newest byte
	raps    []RAP      // oldest first, all at or after start
	stamps  []stamp    // oldest first; the newest may be before start
	changed chan struct{}
	pending int         // bytes appended since the last signal
	timer   *time.Timer // signals pending bytes after signalDelay
	err     error       // set once: the channel ended
}

// stamp tells that the bytes from off on were made at t (the source's clock, ms).
type stamp struct{ off, t int64 }

// NewRing returns a ring holding at most limit bytes (at least two blocks).
func NewRing(limit int64) *Ring {
	return &Ring{limit: max(limit, 2*BlockSize), changed: make(chan struct{})}
}

// Add appends bytes; a random access point at the first of them is given as r (nil for none).
func (g *Ring) Add(b []byte, r *RAP) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return
	}
	if r != nil {
		r.Off = g.end
		g.raps = append(g.raps, *r)
	}
	for len(b) > 0 {
		n := len(g.blocks)
		if n == 0 || len(g.blocks[n-1]) == BlockSize {
			g.blocks = append(g.blocks, make([]byte, 0, BlockSize))
			n++
		}
		last := g.blocks[n-1]
		k := min(len(b), BlockSize-len(last))
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

// KeepFor bounds the ring in stream time too: once stamped, it drops a block when the bytes
// after it were made more than d before the newest and hold an access point (a viewer keeps
// seconds of stream, whatever the bitrate, and always a point to start at). Call it before the
// first Add.
func (g *Ring) KeepFor(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.maxAge = d.Milliseconds()
}

// evict drops the oldest blocks while more than limit bytes are held, or more than maxAge of
// stream and an access point would still be held after the block (a new client starts at the
// newest one, however long ago the stream's last keyframe was); g.mu is held.
func (g *Ring) evict() {
	for len(g.blocks) > 1 {
		next := g.start + int64(len(g.blocks[0]))
		over := g.end-g.start > g.limit
		stale := g.tooOld(next) && g.rapFrom(next)
		if !over && !stale {
			break
		}
		g.start += int64(len(g.blocks[0]))
		g.blocks[0] = nil
		g.blocks = g.blocks[1:]
	}
	i := 0
	for i < len(g.raps) && g.raps[i].Off < g.start {
		i++
	}
	g.raps = g.raps[i:]
	i = 0
	for i+1 < len(g.stamps) && g.stamps[i+1].off <= g.start {
		i++
	}
	g.stamps = g.stamps[i:]
}

// rapFrom tells whether an access point at or after off is held; g.mu is held.
func (g *Ring) rapFrom(off int64) bool {
	return len(g.raps) > 0 && g.raps[len(g.raps)-1].Off >= off
}

// tooOld tells whether the bytes from off on were made more than maxAge before the newest ones.
func (g *Ring) tooOld(off int64) bool {
	if g.maxAge <= 0 || len(g.stamps) == 0 {
		return false
	}
	t := g.timeAtLocked(off)
	return t != 0 && g.stamps[len(g.stamps)-1].t-t > g.maxAge
}

// Stamp tells that the bytes added from now on were made at t (ms on the source's clock).
func (g *Ring) Stamp(t int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := len(g.stamps); n > 0 && g.stamps[n-1].off == g.end {
		g.stamps[n-1].t = t
		return
	}
	g.stamps = append(g.stamps, stamp{g.end, t})
}

// TimeAt returns the time stamped on the bytes before off, or 0 when none was.
func (g *Ring) TimeAt(off int64) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.timeAtLocked(off)
}

func (g *Ring) timeAtLocked(off int64) int64 {
	i := sort.Search(len(g.stamps), func(i int) bool { return g.stamps[i].off >= off })
	if i == 0 {
		return 0
	}
	return g.stamps[i-1].t
}

// Stamp is the source time t (ms) of the bytes from Off on.
type Stamp struct{ Off, T int64 }

// Stamps appends to ts the stamps on the bytes from off to end (each with Off in [off, end)). It
// reports false, and appends nothing, when off has been evicted since it was read: the stamps of
// those bytes may be gone with them.
func (g *Ring) Stamps(off, end int64, ts []Stamp) ([]Stamp, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if off < g.start {
		return ts, false
	}
	i := sort.Search(len(g.stamps), func(i int) bool { return g.stamps[i].off >= off })
	for ; i < len(g.stamps) && g.stamps[i].off < end; i++ {
		ts = append(ts, Stamp{g.stamps[i].off, g.stamps[i].t})
	}
	return ts, true
}

// signal wakes the waiting readers; g.mu is held.
func (g *Ring) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
	g.pending = 0
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
}

func (g *Ring) signalLater() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timer = nil
	if g.pending > 0 {
		g.signal()
	}
}

// Close ends the ring: readers get err once they have read everything.
func (g *Ring) Close(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
		g.signal()
	}
}

// Read returns the bytes from off to the end as slices of the blocks (appended to bufs), the
// offset after them, and a channel that is closed when more arrive. It fails with ErrBehind when
// off has been evicted, and with the ring's error once everything was read after it ended.
func (g *Ring) Read(off int64, bufs net.Buffers) (net.Buffers, int64, <-chan struct{}, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if off < g.start {
		return bufs, off, nil, ErrBehind
	}
	if off >= g.end {
		return bufs, off, g.changed, g.err
	}
	// every block but the newest is full, so off's block is found by division
	i := int((off - g.start) / BlockSize)
	bufs = append(bufs, g.blocks[i][(off-g.start)%BlockSize:])
	bufs = append(bufs, g.blocks[i+1:]...)
	return bufs, g.end, g.changed, nil
}

// Newest returns the newest random access point, and whether there is one.
func (g *Ring) Newest() (RAP, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.raps) == 0 {
		return RAP{}, false
	}
	return g.raps[len(g.raps)-1], true
}

// Oldest returns the oldest random access point, and whether there is one.
func (g *Ring) Oldest() (RAP, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.raps) == 0 {
		return RAP{}, false
	}
	return g.raps[0], true
}

// WaitRAP returns a channel closed at the next change, the newest random access point and
// whether the ring has one, or the ring's error.
func (g *Ring) WaitRAP() (RAP, bool, <-chan struct{}, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.raps) > 0 {
		return g.raps[len(g.raps)-1], true, nil, nil
	}
	return RAP{}, false, g.changed, g.err
}

// Total returns the bytes added since the channel began.
func (g *Ring) Total() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.end
}
