package hls

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// Segments start at a keyframe with PAT and PMT and last at least MinSegment; the playlist lists
// the newest PlaylistSegments.
const (
	MinSegment       = 2 * time.Second
	PlaylistSegments = 6
	keptSegments     = 10
)

type segment struct {
	seq  int
	dur  time.Duration
	data []byte
	disc bool // follows a gap
}

// Segmenter cuts one stream. Write and Break are called by one goroutine; the rest by any.
type Segmenter struct {
	cut cutter // owned by the writer

	mu      sync.Mutex // guards everything below
	segs    []segment
	next    int
	target  int // seconds, fixed by the first segment
	changed chan struct{}
}

// New returns an empty segmenter.
func New() *Segmenter { return &Segmenter{changed: make(chan struct{})} }

// Write adds spliced MPEG-TS: whole packets of one continuous stream. Segments are cut at its
// keyframes (see cutter).
func (s *Segmenter) Write(out []byte) {
	s.cut.write(out, s.add)
}

// Break ends the current segment with tail (what a splicer still had at a gap); the next one
// starts at the next keyframe, with a discontinuity.
func (s *Segmenter) Break(tail []byte) {
	s.cut.gap(tail, s.add)
}

// Add appends a finished segment (for tests and for callers that cut segments themselves).
func (s *Segmenter) Add(data []byte, dur time.Duration, disc bool) { s.add(data, dur, disc) }

// add appends a segment. The target duration is set by the first one, one second above its
// length rounded up, and never changes (RFC 8216 4.3.3.1); the cutter keeps later segments within
// it.
func (s *Segmenter) add(data []byte, dur time.Duration, disc bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.target == 0 {
		s.target = int(math.Ceil(max(dur, MinSegment).Seconds())) + 1
		s.cut.limit = time.Duration(s.target) * time.Second
	}
	s.segs = append(s.segs, segment{seq: s.next, dur: dur, data: data, disc: disc})
	s.next++
	if len(s.segs) > keptSegments {
		s.segs = s.segs[len(s.segs)-keptSegments:]
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// Ready tells whether the first segment is cut (a playlist can be answered at once).
func (s *Segmenter) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next > 0
}

// Wait waits until the segmenter has a segment numbered at least seq.
func (s *Segmenter) Wait(ctx context.Context, seq int) bool {
	for {
		s.mu.Lock()
		ok, ch := s.next > seq, s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Playlist is the live playlist (written by gohlslib's playlist package); segment n's URL is
// prefix + "n.ts".
func (s *Segmenter) Playlist(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.segs[max(0, len(s.segs)-PlaylistSegments):]
	if len(list) == 0 {
		return ""
	}
	m := playlist.Media{Version: 3, TargetDuration: s.target, MediaSequence: list[0].seq}
	for _, sg := range list {
		m.Segments = append(m.Segments, &playlist.MediaSegment{Duration: sg.dur, URI: prefix + strconv.Itoa(sg.seq) + ".ts", Discontinuity: sg.disc})
	}
	b, err := m.Marshal()
	if err != nil {
		return ""
	}
	return string(b)
}

// ServePlaylist waits up to wait for the first segment and writes the playlist, or 500 "start
// timeout" as AceStream does.
func (s *Segmenter) ServePlaylist(w http.ResponseWriter, r *http.Request, prefix string, wait time.Duration) {
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	if !s.Wait(ctx, 0) {
		if r.Context().Err() == nil {
			http.Error(w, "start timeout", http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(s.Playlist(prefix)))
}

// ServeSegment writes segment seq, honouring Range requests (players resume with them). A
// segment being cut (or the one after) is waited for, up to three target durations. It returns
// the bytes written.
func (s *Segmenter) ServeSegment(w http.ResponseWriter, r *http.Request, seq int) int64 {
	s.mu.Lock()
	soon := seq <= s.next+1
	wait := 3*max(time.Duration(s.target)*time.Second, MinSegment) + time.Second
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	if soon {
		s.Wait(ctx, seq)
	}
	s.mu.Lock()
	var data []byte
	for _, sg := range s.segs {
		if sg.seq == seq {
			data = sg.data
		}
	}
	s.mu.Unlock()
	if data == nil {
		http.Error(w, "unknown segment", http.StatusNotFound)
		return 0
	}
	w.Header().Set("Content-Type", "video/mp2t")
	cw := &countingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(data))
	return cw.n
}

// countingWriter counts what it writes.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	k, err := c.ResponseWriter.Write(b)
	c.n += int64(k)
	return k, err
}
