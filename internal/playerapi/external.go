package playerapi

import (
	"context"
	"net/url"
	"time"
)

// Session is a playback session opened by another front end (the legacy TCP engine API). Its
// players read /content/<infohash>/<key>.
type Session struct {
	h *Handler
	p *playback
}

// SessionStatus is what the TCP API reports in STATUS and EVENT livepos.
type SessionStatus struct {
	State, ErrMsg        string // prebuf, dl or err (see playback.state)
	Peers                int
	Downloaded, Uploaded int64
	SpeedDown, SpeedUp   int64 // KB/s
	First, Last, Pos     int64 // unix seconds of the live window and of the piece being played
	Pieces               int
}

// tcpSelectors maps the TCP API's selector kinds to the player API's parameters.
var tcpSelectors = map[string]string{"INFOHASH": "infohash", "PID": "content_id", "TORRENT": "url", "RAW": "data"}

// Resolve reads a selector of the TCP API: INFOHASH, PID (content id), TORRENT (URL), RAW (base64).
func (h *Handler) Resolve(ctx context.Context, kind, value string) (Content, error) {
	key, ok := tcpSelectors[kind]
	if !ok {
		return Content{}, errNoContent
	}
	return resolve(ctx, h.cfg.Client, url.Values{key: {value}})
}

// Describe returns the stream's transport file, fetching it from the swarm if needed.
func (h *Handler) Describe(ctx context.Context, c Content) (Content, error) {
	if c.File != nil {
		return c, nil
	}
	s, release, err := h.streams.Open(ctx, c)
	if err != nil {
		return c, err
	}
	defer release()
	select {
	case <-s.Ready():
	case <-time.After(h.cfg.StartTimeout):
		return c, errNoContent
	case <-ctx.Done():
		return c, ctx.Err()
	}
	c.File, _ = s.File()
	c.Raw = s.RawFile()
	return c, nil
}

// OpenSession starts a playback session with the given key.
func (h *Handler) OpenSession(ctx context.Context, c Content, key string) (*Session, error) {
	p, err := h.open(ctx, c, key, -1, false)
	if err != nil {
		return nil, err
	}
	return &Session{h: h, p: p}, nil
}

// Status reports the session.
func (s *Session) Status() SessionStatus {
	p := s.p
	st := p.stream.Stats()
	p.mu.Lock()
	down, up := p.rate.update(time.Now(), st.Downloaded, st.Uploaded)
	out := SessionStatus{Peers: st.Peers, Downloaded: st.Downloaded, Uploaded: st.Uploaded,
		SpeedDown: down, SpeedUp: up, Pos: p.pos / 1000}
	p.mu.Unlock()
	out.State, out.ErrMsg = s.h.state(p, time.Now())
	if _, buf := p.stream.File(); buf != nil {
		var first, last int64
		first, last, out.Pieces = buf.TimeRange()
		out.First, out.Last = first/1000, last/1000
	}
	if out.Pos == 0 {
		out.Pos = out.Last
	}
	return out
}

// Touch counts as player activity.
func (s *Session) Touch() { s.p.touch() }

// LiveSeek moves the session's players to the live position at unix second t.
func (s *Session) LiveSeek(t int64) {
	s.p.mu.Lock()
	s.p.seekTo, s.p.seekGen = t, s.p.seekGen+1
	s.p.mu.Unlock()
}

// Stop ends the session.
func (s *Session) Stop() { s.h.stop(s.p) }
