// Package hls cuts a live MPEG-TS into HLS segments and serves the playlist and the segments.
// The viewer engine's player API and the proxy share it: each feeds it the spliced stream of a
// channel (one continuous MPEG-TS), marking where random access points start.
package hls

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
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
	dur  float64
	data []byte
	disc bool // follows a gap
}

// Segmenter cuts one stream. Write and Break are called by one goroutine; the rest by any.
type Segmenter struct {
	// the segment being cut: owned by the writer
	cur      []byte
	curStart time.Duration
	last     time.Duration
	disc     bool

	mu      sync.Mutex // guards everything below
	segs    []segment
	next    int
	target  int
	changed chan struct{}
}

// New returns an empty segmenter.
func New() *Segmenter { return &Segmenter{changed: make(chan struct{})} }

// Write adds spliced TS. keyframe tells that a random access point starts in out (at its first
// PAT packet, or at its start), at stream time t. A segment is cut there once it is long enough;
// stream times jitter by some milliseconds, so a stream with a keyframe every MinSegment gets
// MinSegment segments.
func (s *Segmenter) Write(out []byte, keyframe bool, t time.Duration) {
	if keyframe && (s.cur == nil || t-s.curStart >= MinSegment*9/10) {
		cut := patOffset(out)
		if s.cur != nil {
			s.add(append(s.cur, out[:cut]...), (t - s.curStart).Seconds(), s.disc)
			s.disc = false
		}
		s.cur, s.curStart = append([]byte(nil), out[cut:]...), t
	} else if s.cur != nil {
		s.cur = append(s.cur, out...)
	}
	s.last = t
}

// Break ends the current segment with tail (what the splicer still had at a gap); the next one
// starts with a discontinuity.
func (s *Segmenter) Break(tail []byte) {
	if s.cur == nil {
		return
	}
	s.add(append(s.cur, tail...), (s.last-s.curStart).Seconds()+0.5, s.disc)
	s.cur, s.disc = nil, true
}

// patOffset is where the first PAT packet starts in out, or 0.
func patOffset(out []byte) int {
	for i := 0; i+mpegts.PacketSize <= len(out); i += mpegts.PacketSize {
		if mpegts.Packet(out[i:i+mpegts.PacketSize]).PID() == 0 {
			return i
		}
	}
	return 0
}

// Add appends a finished segment (for tests and for callers that cut segments themselves).
func (s *Segmenter) Add(data []byte, dur float64, disc bool) { s.add(data, dur, disc) }

func (s *Segmenter) add(data []byte, dur float64, disc bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.segs = append(s.segs, segment{seq: s.next, dur: dur, data: data, disc: disc})
	s.next++
	if len(s.segs) > keptSegments {
		s.segs = s.segs[len(s.segs)-keptSegments:]
	}
	s.target = max(s.target, int(math.Ceil(dur)))
	close(s.changed)
	s.changed = make(chan struct{})
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

// Playlist is the live playlist; segment n's URL is prefix + "n.ts".
func (s *Segmenter) Playlist(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.segs[max(0, len(s.segs)-PlaylistSegments):]
	if len(list) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", s.target, list[0].seq)
	for _, sg := range list {
		if sg.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s%d.ts\n", sg.dur, prefix, sg.seq)
	}
	return b.String()
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
