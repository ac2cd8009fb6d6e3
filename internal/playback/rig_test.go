package playback

import (
	"context"
	"crypto/ed25519"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/synth"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// The tests' stand-in for a swarm session: a live buffer fed with the synthetic stream, a piece
// per half second, a keyframe every other piece (synth.GOP), as the source node cuts it.

var _, testKey, _ = ed25519.GenerateKey(nil)

// countingStore counts the reads of a memory store.
type countingStore struct {
	*livebuf.MemoryStore
	reads atomic.Int64
}

func (c *countingStore) ReadAt(n uint32, off, size int) ([]byte, error) {
	c.reads.Add(1)
	return c.MemoryStore.ReadAt(n, off, size)
}

type testSource struct {
	ready chan struct{}
	store *countingStore
	buf   *livebuf.Buffer
	file  *transport.File

	mu     sync.Mutex
	pieces int
}

func newTestSource() *testSource {
	st := &countingStore{MemoryStore: livebuf.NewMemoryStore()}
	return &testSource{ready: make(chan struct{}), store: st, buf: livebuf.New(16<<10, 64<<20, st), file: &transport.File{}}
}

func (s *testSource) Ready() <-chan struct{}                   { return s.ready }
func (s *testSource) File() (*transport.File, *livebuf.Buffer) { return s.file, s.buf }
func (s *testSource) RawFile() []byte                          { return nil }
func (s *testSource) Stats() swarm.Stats                       { return swarm.Stats{Peers: 1} }

// PlayAt paces as a node whose every piece arrives the moment its source made it.
func (s *testSource) PlayAt(t int64, d time.Duration) time.Time { return time.UnixMilli(t).Add(d) }
func (s *testSource) added() int                                { s.mu.Lock(); defer s.mu.Unlock(); return s.pieces }
func (s *testSource) start()                                    { close(s.ready) }

// feed adds pieces of the synthetic stream in real time until ctx ends.
func (s *testSource) feed(ctx context.Context, t *testing.T) { s.feedFrom(ctx, t, 0) }

// feedFrom adds a piece every half GOP, numbered from first, until ctx ends.
func (s *testSource) feedFrom(ctx context.Context, t *testing.T, first uint32) {
	gen := synth.New(1_000_000)
	perPiece := synth.GOP / 2
	tick := time.NewTicker(time.Second / synth.FPS * time.Duration(perPiece))
	defer tick.Stop()
	for n := first; ; n++ {
		var data []byte
		for range perPiece {
			data = append(data, gen.Frame(time.Now())...)
		}
		kf := int32(-1)
		if n%2 == 0 {
			kf = 0
		}
		h := wire.NewHeader(testKey, [20]byte{}, n, time.Now().UnixMilli(), kf, data, 16<<10)
		if err := s.buf.AddComplete(h, data); err != nil {
			t.Error(err)
			return
		}
		s.mu.Lock()
		s.pieces++
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// rig is a core whose streams are test sources.
type rig struct {
	core *Core
	mu   sync.Mutex
	srcs map[transport.InfoHash]*testSource
	runs atomic.Int32 // sources started
}

func newRig(t *testing.T, cfg Config) *rig {
	r := &rig{srcs: map[transport.InfoHash]*testSource{}}
	r.core = New(cfg, func(ctx context.Context, c Content) (Source, error) {
		r.runs.Add(1)
		r.mu.Lock()
		defer r.mu.Unlock()
		src := r.srcs[c.InfoHash]
		if src == nil {
			src = newTestSource()
			r.srcs[c.InfoHash] = src
		}
		return src, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.core.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// live makes the stream of ih live: its source is ready and fed until the test ends.
func (r *rig) live(t *testing.T, ih transport.InfoHash) *testSource {
	r.mu.Lock()
	src := r.srcs[ih]
	if src == nil {
		src = newTestSource()
		r.srcs[ih] = src
	}
	r.mu.Unlock()
	src.start()
	go src.feed(t.Context(), t)
	return src
}

func ihOf(b byte) transport.InfoHash {
	var ih transport.InfoHash
	ih[0] = b
	return ih
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}
