package playback

import (
	"time"
)

// Status is a session's AceStream status, the same for every output (TS, HLS, the TCP API).
type Status struct {
	State, ErrMsg        string // prebuf, dl, buf or err (see Session.state)
	ClientSessionID      int
	Peers                int
	Downloaded, Uploaded int64
	SpeedDown, SpeedUp   int64 // KB/s, never negative
	First, Last, Pos     int64 // unix seconds of the live window and of what a player was last sent
	Pieces               int   // pieces held
	CacheBytes           int64 // bytes the live buffer holds
}

// BufAfter is how long a playing stream may go without a new piece before its status is "buf".
const BufAfter = 3 * time.Second

// Status reports the session.
func (s *Session) Status() Status {
	now := time.Now()
	stats := s.st.src.Stats()
	out := Status{Peers: stats.Peers, Downloaded: stats.Downloaded, Uploaded: stats.Uploaded}
	out.State, out.ErrMsg = s.state(now)
	s.mu.Lock()
	out.SpeedDown, out.SpeedUp = s.rate.update(now, stats.Downloaded, stats.Uploaded)
	out.ClientSessionID = s.csid
	s.mu.Unlock()
	out.Pos = s.position() / 1000
	if _, buf := s.st.src.File(); buf != nil {
		var first, last int64
		first, last, out.Pieces = buf.TimeRange()
		out.First, out.Last, out.CacheBytes = first/1000, last/1000, buf.Bytes()
	}
	if out.Pos == 0 {
		out.Pos = out.Last
	}
	return out
}

// position is the source time (ms) of what the session's players were last sent, or 0.
func (s *Session) position() int64 {
	if ms := s.seekPos.Load(); ms > 0 {
		return ms
	}
	if off := s.sentOff.Load(); off > 0 {
		return s.st.ring.TimeAt(off)
	}
	return 0
}

// State is the session's status alone (see state).
func (s *Session) State() (status, errMsg string) { return s.state(time.Now()) }

// state follows AceStream's state machine: "prebuf" until the stream's start point (an access
// point a player can start from; for an HLS session, its first segment) is buffered, whether or
// not a player reads yet; then "dl", or "buf" while no new piece came for BufAfter; "err" with a
// message when no start point came within the start timeout of the session's opening, or when a
// stream that played brought nothing for as long.
func (s *Session) state(now time.Time) (status, errMsg string) {
	st := s.st
	_, started := st.ring.Newest()
	s.mu.Lock()
	isHLS := s.hls
	s.mu.Unlock()
	if started && isHLS {
		seg := st.runningSegmenter()
		started = seg != nil && seg.Ready()
	}
	limit := s.c.cfg.StartTimeout
	if !started {
		if now.Sub(s.created) >= limit {
			return "err", "start timeout"
		}
		return "prebuf", ""
	}
	switch quiet := now.Sub(time.UnixMilli(st.data.Load())); {
	case quiet >= limit && now.Sub(s.created) >= limit:
		return "err", "no data from the swarm"
	case quiet >= BufAfter:
		return "buf", ""
	}
	return "dl", ""
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
