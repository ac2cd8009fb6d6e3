package playback

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/fanout"
	"github.com/aceswarm/aceswarm/internal/hls"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// stream is one stream being played: its swarm session and the ring its players read. One pump
// reads each piece from the live buffer once (whatever the cache type), splices it into one
// decodable MPEG-TS and adds it to the ring; players and the HLS segmenter read the ring.
type stream struct {
	c      *Core
	ih     transport.InfoHash
	src    Source
	cancel context.CancelFunc
	ring   *fanout.Ring
	users  atomic.Int32 // sessions and Describe calls using it
	data   atomic.Int64 // unix ms of the newest piece added to the ring; 0 before the first

	mu        sync.Mutex // guards idleSince, seg
	idleSince time.Time  // when users last went to 0
	seg       *hls.Segmenter
}

func newStream(c *Core, ih transport.InfoHash, src Source, cancel context.CancelFunc) *stream {
	return &stream{c: c, ih: ih, src: src, cancel: cancel, ring: newRing(c.cfg), idleSince: time.Now()}
}

// release ends one user's use.
func (st *stream) release() {
	if st.users.Add(-1) == 0 {
		st.mu.Lock()
		st.idleSince = time.Now()
		st.mu.Unlock()
	}
}

// idleFor is how long the stream has had no user (0 while it has one).
func (st *stream) idleFor(now time.Time) time.Duration {
	if st.users.Load() > 0 {
		return 0
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return now.Sub(st.idleSince)
}

func (st *stream) stop() {
	st.cancel()
	st.ring.Close(fanout.ErrEnded)
}

// pump moves the live buffer into the ring until ctx ends. It starts a few segments back when
// the buffer holds them, so an HLS playlist of a stream that already plays is answered at once;
// players start at the newest access point whatever the pump's start.
func (st *stream) pump(ctx context.Context) {
	select {
	case <-st.src.Ready():
	case <-ctx.Done():
		return
	}
	_, buf := st.src.File()
	rd := buf.NewReader()
	if _, last, _ := buf.TimeRange(); last > 0 {
		rd.SeekTime((last - int64(hls.PlaylistSegments/2)*hls.MinSegment.Milliseconds()) / 1000)
	}
	rd.SetMaxLag(st.c.cfg.MaxLag)
	ing := fanout.NewIngest(st.ring, time.Now())
	for first := true; ; first = false {
		c, err := rd.Next(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		if c.Gap && !first {
			ing.Skip(now)
		}
		st.ring.Stamp(c.Header.Time)
		ing.Write(c.Data, now)
		if prev := st.data.Swap(now.UnixMilli()); !first && now.Sub(time.UnixMilli(prev)) >= BufAfter { // players went without
			st.c.stalls.Add(1)
			st.c.stalledMs.Add(now.Sub(time.UnixMilli(prev)).Milliseconds())
		}
	}
}

// segmenter returns the stream's HLS segmenter, starting it on the first call: it cuts the ring
// from its oldest access point on.
func (st *stream) segmenter() *hls.Segmenter {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.seg == nil {
		st.seg = hls.New()
		seg := st.seg
		st.c.wg.Go(func() {
			ctx := st.c.ctx
			if _, err := st.ring.WaitStart(ctx); err != nil {
				return
			}
			start, _ := st.ring.Oldest()
			fanout.Cut(ctx, st.ring, start, seg)
		})
	}
	return st.seg
}

// runningSegmenter returns the stream's segmenter, or nil when none runs.
func (st *stream) runningSegmenter() *hls.Segmenter {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.seg
}

// Segments returns the HLS segmenter of a stream being played, or nil.
func (c *Core) Segments(ih transport.InfoHash) *hls.Segmenter {
	c.mu.Lock()
	st := c.streams[ih]
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.runningSegmenter()
}

// newRing is a stream's fan-out ring: RingSize bytes and RingTime of stream at most.
func newRing(cfg Config) *fanout.Ring {
	r := fanout.NewRing(cfg.RingSize)
	if cfg.RingTime > 0 {
		r.KeepFor(cfg.RingTime)
	}
	return r
}
