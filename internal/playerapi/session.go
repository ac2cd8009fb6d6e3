package playerapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// playback is AceStream's playback session: what a getstream or manifest request starts, and
// what its stat and command URLs refer to. Any number of players may read one.
type playback struct {
	ih              transport.InfoHash
	key             string
	id              string // playback_session_id
	clientSessionID int
	stream          *swarm.Session
	release         func()
	ctx             context.Context // ends when the session is stopped
	cancel          context.CancelFunc
	created         time.Time
	hls             bool // opened for HLS: its start point is the stream's first segment

	mu      sync.Mutex // guards everything below
	active  time.Time  // last request or read
	readers int
	timeout time.Duration // player activity timeout
	playing bool          // a reader got data
	pos     int64         // source time (ms) of the piece being played
	rate    rateMeter
	seekTo  int64 // liveseek target, unix seconds; 0 none
	seekGen int
	stopped bool
}

// DefaultActivityTimeout is how long a playback session lives without a reader or a request.
const DefaultActivityTimeout = 30 * time.Second

func (p *playback) touch() {
	p.mu.Lock()
	p.active = time.Now()
	p.mu.Unlock()
}

// expired tells whether the session has had no reader and no request for its timeout.
func (p *playback) expired(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readers == 0 && now.Sub(p.active) > p.timeout
}

func (p *playback) addReader(delta int) {
	p.mu.Lock()
	p.readers += delta
	p.active = time.Now()
	p.mu.Unlock()
}

// sessions holds the playback sessions by infohash and key.
type sessions struct {
	mu   sync.Mutex // guards byID
	byID map[string]*playback
}

func sessionID(ih transport.InfoHash, key string) string { return ih.String() + "/" + key }

func newPlaybackID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// state is the session's AceStream status, the same for every output (TS, HLS, the TCP API):
// "prebuf" until the stream's start point (a complete piece with a keyframe) is buffered,
// whether or not a player reads yet; "dl" from then on; "err" with a message when no start point
// came within startTimeout.
func (p *playback) state(now time.Time, startTimeout time.Duration) (status, errMsg string) {
	if _, buf := p.stream.File(); buf != nil && !buf.Window().NoKeyframe {
		return "dl", ""
	}
	p.mu.Lock()
	playing := p.playing
	p.mu.Unlock()
	switch {
	case playing:
		return "dl", ""
	case now.Sub(p.created) >= startTimeout:
		return "err", "start timeout"
	}
	return "prebuf", ""
}

// open returns the session of (content, key), starting it when needed; restart stops the
// session of that key first (force_session_restart=1).
func (h *Handler) open(ctx context.Context, c Content, key string, clientSessionID int, restart bool) (*playback, error) {
	id := sessionID(c.InfoHash, key)
	if restart {
		if p := h.lookup(c.InfoHash, key); p != nil {
			h.stop(p)
		}
	}
	h.sess.mu.Lock()
	defer h.sess.mu.Unlock()
	if p := h.sess.byID[id]; p != nil {
		p.touch()
		if clientSessionID != -1 {
			p.mu.Lock()
			p.clientSessionID = clientSessionID
			p.mu.Unlock()
		}
		return p, nil
	}
	s, release, err := h.streams.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(h.ctx)
	p := &playback{
		ih: c.InfoHash, key: key, id: newPlaybackID(), clientSessionID: clientSessionID, stream: s, release: release,
		ctx: pctx, cancel: cancel, active: time.Now(), timeout: h.cfg.Activity, created: time.Now(),
	}
	h.sess.byID[id] = p
	return p, nil
}

// lookup returns a live session, or nil.
func (h *Handler) lookup(ih transport.InfoHash, key string) *playback {
	h.sess.mu.Lock()
	defer h.sess.mu.Unlock()
	return h.sess.byID[sessionID(ih, key)]
}

// stop ends a session: its readers stop and its stream is released.
func (h *Handler) stop(p *playback) {
	h.sess.mu.Lock()
	if h.sess.byID[sessionID(p.ih, p.key)] == p {
		delete(h.sess.byID, sessionID(p.ih, p.key))
	}
	h.sess.mu.Unlock()
	p.mu.Lock()
	already := p.stopped
	p.stopped = true
	p.mu.Unlock()
	if !already {
		p.cancel()
		p.release()
	}
}

// Run expires idle sessions until ctx ends, then stops every session.
func (h *Handler) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, p := range h.all() {
				h.stop(p)
			}
			h.expireSegmenters(time.Now(), true)
			h.wg.Wait()
			return nil
		case now := <-t.C:
			for _, p := range h.all() {
				if p.expired(now) {
					h.stop(p)
				}
			}
			h.expireSegmenters(now, false)
		}
	}
}

func (h *Handler) all() []*playback {
	h.sess.mu.Lock()
	defer h.sess.mu.Unlock()
	out := make([]*playback, 0, len(h.sess.byID))
	for _, p := range h.sess.byID {
		out = append(out, p)
	}
	return out
}

// rateMeter turns byte counters into KB/s, measured over at least a second.
type rateMeter struct {
	at       time.Time
	down, up int64
	kbDown   int64
	kbUp     int64
}

func (m *rateMeter) update(now time.Time, down, up int64) (int64, int64) {
	if m.at.IsZero() {
		m.at, m.down, m.up = now, down, up
		return 0, 0
	}
	if d := now.Sub(m.at).Seconds(); d >= 1 {
		// counters that went back (a session's stream restarted) give 0, never a negative speed
		m.kbDown = max(0, int64(float64(down-m.down)/d/1000))
		m.kbUp = max(0, int64(float64(up-m.up)/d/1000))
		m.at, m.down, m.up = now, down, up
	}
	return m.kbDown, m.kbUp
}
