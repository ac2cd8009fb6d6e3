package playback

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// Content is what a player asks to play.
type Content struct {
	InfoHash transport.InfoHash
	File     *transport.File // when the request gave the transport file
	Raw      []byte
	Trackers []string // from a magnet link
	// DirectURL is an HTTP MPEG-TS URL played as a live source, without a swarm (direct_url=);
	// InfoHash is then the SHA-1 of "direct_url:" and the URL.
	DirectURL string
}

// Source is a running swarm session, as the core uses it.
type Source interface {
	Ready() <-chan struct{}
	File() (*transport.File, *livebuf.Buffer)
	RawFile() []byte
	Stats() swarm.Stats
	// PlayAt returns when a player paced delay behind the live edge should get the bytes the
	// source made at t (see swarm.Session.PlayAt); the zero time: at once.
	PlayAt(t int64, delay time.Duration) time.Time
}

// Starter starts the swarm session of c; the session runs until ctx ends.
type Starter func(ctx context.Context, c Content) (Source, error)

// Config of the core.
type Config struct {
	StartTimeout time.Duration // a stream with no start point this long after a session opened is "err"
	Activity     time.Duration // a session with no player and no request for this long ends
	IdleStop     time.Duration // a stream stops this long after its last session ended
	WriteTimeout time.Duration // a player that takes nothing for this long is disconnected
	MaxLag       time.Duration // a player reading the live buffer itself jumps ahead this far behind
	RingSize     int64         // bytes of each stream's fan-out ring
	RingTime     time.Duration // and seconds of stream it holds at most (0: bytes only)
	// LiveDelay, when set, paces each MPEG-TS player of a live stream this far behind the live
	// edge as this engine receives it (see fanout.Client.Pace and swarm.Session.PlayAt).
	LiveDelay time.Duration
	// MemoryBase, when set, is the Go memory limit the process needs without players: the core
	// keeps the limit at MemoryBase plus RingSize a stream and PlayerMemory a player, so a
	// memory-cache node's collector does not run without pause as players join.
	MemoryBase int64
	// Started, when set, is told for each player how long its session had been open when the
	// player's first bytes went out (the startup time operators watch).
	Started func(time.Duration)
	Logger  *slog.Logger
}

// PlayerMemory is what the memory limit grants each player (see Config.MemoryBase).
const PlayerMemory = 256 << 10

// Defaults of Config.
const (
	DefaultStartTimeout = 30 * time.Second
	DefaultActivity     = 30 * time.Second
	DefaultIdleStop     = 5 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxLag       = 30 * time.Second
	// DefaultLiveDelay is the engine's --live-delay: see docs/protocol.md, Playing at a steady
	// delay.
	DefaultLiveDelay = 1300 * time.Millisecond
	DefaultRingSize  = 8 << 20
)

// ErrStopping is Open's error once the core is stopping.
var ErrStopping = errors.New("engine is stopping")

// Core holds the streams being played and their playback sessions.
type Core struct {
	cfg       Config
	start     Starter
	ctx       context.Context // streams run under it; cancelled when Run ends
	cancel    context.CancelFunc
	wg        sync.WaitGroup // streams' goroutines
	served    atomic.Int64   // stream bytes written to players
	players   atomic.Int64   // players being written to
	nstreams  atomic.Int64   // len(streams), read without mu
	stalls    atomic.Int64   // times a stream went BufAfter or more without a piece
	stalledMs atomic.Int64   // how long those stalls lasted

	mu       sync.Mutex // guards streams, sessions
	streams  map[transport.InfoHash]*stream
	sessions map[string]*Session // by sessionID
}

// New returns the core; it starts nothing (Run expires idle sessions and streams).
func New(cfg Config, start Starter) *Core {
	for p, d := range map[*time.Duration]time.Duration{&cfg.StartTimeout: DefaultStartTimeout, &cfg.Activity: DefaultActivity,
		&cfg.IdleStop: DefaultIdleStop, &cfg.WriteTimeout: DefaultWriteTimeout, &cfg.MaxLag: DefaultMaxLag} {
		if *p <= 0 {
			*p = d
		}
	}
	if cfg.RingSize <= 0 {
		cfg.RingSize = DefaultRingSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Core{cfg: cfg, start: start, ctx: ctx, cancel: cancel,
		streams: map[transport.InfoHash]*stream{}, sessions: map[string]*Session{}}
}

// Config returns the core's configuration, defaults filled in.
func (c *Core) Config() Config { return c.cfg }

// Served is the number of stream bytes written to players so far.
func (c *Core) Served() int64 { return c.served.Load() }

// Run applies the idle policy every second until ctx ends, then stops every session and stream
// and returns once their goroutines have.
func (c *Core) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.cancel()
			for _, s := range c.list() {
				s.Stop()
			}
			c.wg.Wait()
			return nil
		case now := <-t.C:
			c.expire(now)
		}
	}
}

// expire ends the sessions with no player and no request for their activity timeout, and stops
// the streams that had no session for IdleStop. It is the core's one idle policy.
func (c *Core) expire(now time.Time) {
	for _, s := range c.list() {
		if s.expired(now) {
			s.Stop()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for ih, st := range c.streams {
		if st.idleFor(now) >= c.cfg.IdleStop {
			delete(c.streams, ih)
			st.stop()
			c.nstreams.Add(-1)
			c.account()
			c.cfg.Logger.Info("stream stopped", "infohash", ih.String())
		}
	}
}

// Active lists the streams being played.
func (c *Core) Active() []transport.InfoHash {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Collect(maps.Keys(c.streams))
}

func (c *Core) list() []*Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Collect(maps.Values(c.sessions))
}

// acquire returns the stream of content, starting it when needed, with one more user; c.mu is
// held.
func (c *Core) acquire(content Content) (*stream, error) {
	if c.ctx.Err() != nil {
		return nil, ErrStopping
	}
	st := c.streams[content.InfoHash]
	if st == nil {
		ctx, cancel := context.WithCancel(c.ctx)
		src, err := c.start(ctx, content)
		if err != nil {
			cancel()
			return nil, err
		}
		st = newStream(c, content.InfoHash, src, cancel)
		c.streams[content.InfoHash] = st
		c.wg.Go(func() { st.pump(ctx) })
		c.nstreams.Add(1)
		c.account()
		c.cfg.Logger.Info("stream started", "infohash", content.InfoHash.String())
	}
	st.users.Add(1)
	return st, nil
}

// Describe returns content with its transport file, fetching it from the swarm if needed.
func (c *Core) Describe(ctx context.Context, content Content) (Content, error) {
	if content.File != nil {
		return content, nil
	}
	c.mu.Lock()
	st, err := c.acquire(content)
	c.mu.Unlock()
	if err != nil {
		return content, err
	}
	defer st.release()
	select {
	case <-st.src.Ready():
	case <-time.After(c.cfg.StartTimeout):
		return content, errors.New("no transport file from the swarm")
	case <-ctx.Done():
		return content, ctx.Err()
	}
	content.File, _ = st.src.File()
	content.Raw = st.src.RawFile()
	return content, nil
}

// Counts are the streams running and the players reading now.
func (c *Core) Counts() (streams, players int64) { return c.nstreams.Load(), c.players.Load() }

// HLSPlayers counts the sessions opened for HLS that a player asked something of in the last
// hlsActive: an HLS player fetches its playlist every few seconds, and holds no connection.
func (c *Core) HLSPlayers(now time.Time) int64 {
	var n int64
	for _, s := range c.list() {
		s.mu.Lock()
		if s.hls && now.Sub(s.active) < hlsActive {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

const hlsActive = 10 * time.Second

// Stalls are how many times a stream went BufAfter or more without a new piece (its players
// waited; the status was "buf"), and for how long in all.
func (c *Core) Stalls() (n int64, total time.Duration) {
	return c.stalls.Load(), time.Duration(c.stalledMs.Load()) * time.Millisecond
}

// Lags returns, for each session with a player, how far behind the newest piece of its stream
// what the player was last sent is (source time).
func (c *Core) Lags() []time.Duration {
	var out []time.Duration
	for _, s := range c.list() {
		s.mu.Lock()
		readers := s.readers
		s.mu.Unlock()
		pos := s.position()
		_, buf := s.st.src.File()
		if readers == 0 || pos == 0 || buf == nil {
			continue
		}
		if _, last, _ := buf.TimeRange(); last >= pos {
			out = append(out, time.Duration(last-pos)*time.Millisecond)
		}
	}
	return out
}

// CountServed adds bytes served to players outside Play (HLS segments).
func (c *Core) CountServed(n int64) { c.served.Add(n) }

// account sets the memory limit for the streams and players there are (see Config.MemoryBase);
// it takes no lock.
func (c *Core) account() {
	if c.cfg.MemoryBase <= 0 {
		return
	}
	debug.SetMemoryLimit(c.cfg.MemoryBase + c.nstreams.Load()*c.cfg.RingSize + c.players.Load()*PlayerMemory)
}
