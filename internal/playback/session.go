package playback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/hls"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// Session is AceStream's playback session: what a getstream or manifest request (or a TCP API
// START) opens, and what its stat, command and event URLs refer to. Any number of players may
// read one; it ends on Stop or after its activity timeout with no player and no request.
type Session struct {
	c       *Core
	st      *stream
	ih      transport.InfoHash
	key     string
	id      string // playback_session_id
	created time.Time
	ctx     context.Context // ends when the session stops
	cancel  context.CancelFunc

	// Where its players are, written on every write without a lock; the position stat reports is
	// derived from it when asked.
	sentOff atomic.Int64 // ring offset after the last bytes a player at the live edge was sent
	seekPos atomic.Int64 // source time (ms) of the last piece sent to a player sent back by liveseek
	seekGen atomic.Int64 // liveseeks so far

	mu      sync.Mutex // guards everything below
	csid    int        // client_session_id
	hls     bool       // opened for HLS: "dl" once the stream's first segment is cut
	active  time.Time  // last request, or a player's leaving
	readers int
	timeout time.Duration // player activity timeout
	rate    rateMeter
	seekTo  int64 // liveseek target, unix seconds
	stopped bool
}

// Options of Open.
type Options struct {
	ClientSessionID int  // echoed in stat (AceStream's default is -1)
	Restart         bool // force_session_restart: a session of this key is stopped first
	HLS             bool // the session plays HLS
}

func sessionID(ih transport.InfoHash, key string) string { return ih.String() + "/" + key }

// Open returns the playback session (content, key), opening it and starting its stream when
// needed. An existing session keeps its playback_session_id; it takes o's client session id when
// one is given and becomes an HLS session when o.HLS.
func (c *Core) Open(content Content, key string, o Options) (*Session, error) {
	if o.Restart {
		if s := c.Lookup(content.InfoHash, key); s != nil {
			s.Stop()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := sessionID(content.InfoHash, key)
	s := c.sessions[id]
	if s == nil {
		st, err := c.acquire(content)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		ctx, cancel := context.WithCancel(c.ctx)
		s = &Session{c: c, st: st, ih: content.InfoHash, key: key, id: newPlaybackID(), created: now, ctx: ctx, cancel: cancel,
			csid: o.ClientSessionID, active: now, timeout: c.cfg.Activity}
		c.sessions[id] = s
	}
	s.mu.Lock()
	s.active = time.Now()
	if o.ClientSessionID != -1 {
		s.csid = o.ClientSessionID
	}
	s.hls = s.hls || o.HLS
	s.mu.Unlock()
	if o.HLS { // segments are cut from now on, so the playlist is ready when stat says dl
		s.st.segmenter()
	}
	return s, nil
}

// Lookup returns a live session, or nil.
func (c *Core) Lookup(ih transport.InfoHash, key string) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[sessionID(ih, key)]
}

func newPlaybackID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// InfoHash, Key and ID name the session (its URLs' parts and playback_session_id).
func (s *Session) InfoHash() transport.InfoHash { return s.ih }
func (s *Session) Key() string                  { return s.key }
func (s *Session) ID() string                   { return s.id }

// Done is closed when the session stops.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Touch counts as player activity.
func (s *Session) Touch() {
	s.mu.Lock()
	s.active = time.Now()
	s.mu.Unlock()
}

// SetActivityTimeout sets how long the session lives with no player and no request.
func (s *Session) SetActivityTimeout(d time.Duration) {
	s.mu.Lock()
	s.timeout = d
	s.mu.Unlock()
}

// LiveSeek moves the session's players to the live position at unix second t.
func (s *Session) LiveSeek(t int64) {
	s.mu.Lock()
	s.seekTo = t
	s.mu.Unlock()
	s.seekGen.Add(1)
}

// Segments returns the stream's HLS segmenter, starting it when needed.
func (s *Session) Segments() *hls.Segmenter {
	s.mu.Lock()
	s.hls = true
	s.mu.Unlock()
	return s.st.segmenter()
}

// Stop ends the session: its players stop, and its stream is released.
func (s *Session) Stop() {
	s.c.mu.Lock()
	if id := sessionID(s.ih, s.key); s.c.sessions[id] == s {
		delete(s.c.sessions, id)
	}
	s.c.mu.Unlock()
	s.mu.Lock()
	already := s.stopped
	s.stopped = true
	s.mu.Unlock()
	if !already {
		s.cancel()
		s.st.release()
	}
}

// expired tells whether the session has had no player and no request for its timeout.
func (s *Session) expired(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readers == 0 && now.Sub(s.active) > s.timeout
}

func (s *Session) addReader(delta int) {
	s.mu.Lock()
	s.readers += delta
	s.active = time.Now()
	s.mu.Unlock()
	s.c.players.Add(int64(delta))
	s.c.account()
}
