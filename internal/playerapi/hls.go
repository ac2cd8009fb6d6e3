package playerapi

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// HLS: one segmenter per stream cuts the stream (through one Splicer, so the segments form one
// continuous MPEG-TS) into segments that each start at a keyframe with PAT and PMT and last at
// least MinSegment. The playlist lists the newest PlaylistSegments.
const (
	MinSegment       = 2 * time.Second
	PlaylistSegments = 6
	keptSegments     = 10
	segmenterIdle    = 60 * time.Second
)

type segment struct {
	seq  int
	dur  float64
	data []byte
	disc bool // follows a gap
}

type segmenters struct {
	mu   sync.Mutex // guards byIH
	byIH map[transport.InfoHash]*segmenter
}

type segmenter struct {
	ih      transport.InfoHash
	stream  *swarm.Session
	release func()
	cancel  context.CancelFunc

	mu      sync.Mutex // guards everything below
	segs    []segment
	next    int
	target  int
	used    time.Time
	changed chan struct{}
}

// segmenterFor returns the stream's segmenter, starting it when needed.
func (h *Handler) segmenterFor(ctx context.Context, ih transport.InfoHash) (*segmenter, error) {
	h.hls.mu.Lock()
	defer h.hls.mu.Unlock()
	if sg := h.hls.byIH[ih]; sg != nil {
		sg.touch()
		return sg, nil
	}
	s, release, err := h.streams.Open(ctx, Content{InfoHash: ih})
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(h.ctx)
	sg := &segmenter{ih: ih, stream: s, release: release, cancel: cancel, used: time.Now(), changed: make(chan struct{})}
	h.hls.byIH[ih] = sg
	h.wg.Go(func() { sg.run(sctx) })
	return sg, nil
}

func (sg *segmenter) touch() {
	sg.mu.Lock()
	sg.used = time.Now()
	sg.mu.Unlock()
}

// expireSegmenters stops segmenters nobody asked for in segmenterIdle.
func (h *Handler) expireSegmenters(now time.Time, all bool) {
	h.hls.mu.Lock()
	defer h.hls.mu.Unlock()
	for ih, sg := range h.hls.byIH {
		sg.mu.Lock()
		idle := now.Sub(sg.used) > segmenterIdle
		sg.mu.Unlock()
		if idle || all {
			delete(h.hls.byIH, ih)
			sg.cancel()
			sg.release()
		}
	}
}

// run reads the stream and cuts segments until ctx ends.
func (sg *segmenter) run(ctx context.Context) {
	select {
	case <-sg.stream.Ready():
	case <-ctx.Done():
		return
	}
	_, buf := sg.stream.File()
	rd := buf.NewReader()
	sp := mpegts.NewSplicer()
	var cur []byte
	var curStart, last int64
	disc := false
	for {
		c, err := rd.Next(ctx)
		if err != nil {
			return
		}
		var out []byte
		if c.Gap && cur != nil {
			cur = sp.Gap(cur)
			sg.add(cur, float64(last-curStart)/1000+0.5, disc)
			cur, disc = nil, true
		}
		out = sp.Write(out, c.Data)
		// Cut at a keyframe once the segment is long enough; piece times jitter by some
		// milliseconds, so a stream with a keyframe every MinSegment gets MinSegment segments.
		if c.Header.HasKeyframe() && (cur == nil || time.Duration(c.Header.Time-curStart)*time.Millisecond >= MinSegment*9/10) {
			cut := patOffset(out)
			if cur != nil {
				sg.add(append(cur, out[:cut]...), float64(c.Header.Time-curStart)/1000, disc)
				disc = false
			}
			cur, curStart = append([]byte(nil), out[cut:]...), c.Header.Time
		} else if cur != nil {
			cur = append(cur, out...)
		}
		last = c.Header.Time
	}
}

// patOffset is where the first PAT packet starts in out (the source puts one before each
// keyframe), or 0.
func patOffset(out []byte) int {
	for i := 0; i+mpegts.PacketSize <= len(out); i += mpegts.PacketSize {
		if mpegts.Packet(out[i:i+mpegts.PacketSize]).PID() == 0 {
			return i
		}
	}
	return 0
}

func (sg *segmenter) add(data []byte, dur float64, disc bool) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	sg.segs = append(sg.segs, segment{seq: sg.next, dur: dur, data: data, disc: disc})
	sg.next++
	if len(sg.segs) > keptSegments {
		sg.segs = sg.segs[len(sg.segs)-keptSegments:]
	}
	sg.target = max(sg.target, int(math.Ceil(dur)))
	close(sg.changed)
	sg.changed = make(chan struct{})
}

// waitSegments waits until the segmenter has a segment numbered at least seq.
func (sg *segmenter) waitSegments(ctx context.Context, seq int) bool {
	for {
		sg.mu.Lock()
		ok, ch := sg.next > seq, sg.changed
		sg.mu.Unlock()
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

// playlist is /ace/m/<infohash>/<key>.m3u8.
func (h *Handler) playlist(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutSuffix(r.PathValue("file"), ".m3u8")
	p, ih, found := h.session(r, key)
	if !ok || ih == (transport.InfoHash{}) {
		http.Error(w, "unknown playback session id", http.StatusNotFound)
		return
	}
	if !found {
		var err error
		if p, err = h.open(r.Context(), Content{InfoHash: ih}, key, -1); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	p.touch()
	sg, err := h.segmenterFor(r.Context(), ih)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.StartTimeout)
	defer cancel()
	if !sg.waitSegments(ctx, 0) {
		http.Error(w, "start timeout", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(sg.m3u8("http://" + r.Host + "/ace/c/" + ih.String() + "/")))
}

func (sg *segmenter) m3u8(prefix string) string {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	list := sg.segs[max(0, len(sg.segs)-PlaylistSegments):]
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", sg.target, list[0].seq)
	for _, s := range list {
		if s.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s%d.ts\n", s.dur, prefix, s.seq)
	}
	return b.String()
}

// segment is /ace/c/<infohash>/<n>.ts.
func (h *Handler) segment(w http.ResponseWriter, r *http.Request) {
	ih, err := transport.ParseInfoHash(strings.ToLower(r.PathValue("infohash")))
	name, ok := strings.CutSuffix(r.PathValue("file"), ".ts")
	seq, serr := strconv.Atoi(name)
	h.hls.mu.Lock()
	sg := h.hls.byIH[ih]
	h.hls.mu.Unlock()
	if err != nil || !ok || serr != nil || sg == nil {
		http.Error(w, "unknown segment", http.StatusNotFound)
		return
	}
	sg.touch()
	// A segment being cut (or the one after) is waited for, up to three target durations.
	sg.mu.Lock()
	soon := seq <= sg.next+1
	wait := 3*max(time.Duration(sg.target)*time.Second, MinSegment) + time.Second
	sg.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	if soon {
		sg.waitSegments(ctx, seq)
	}
	sg.mu.Lock()
	var data []byte
	for _, s := range sg.segs {
		if s.seq == seq {
			data = s.data
		}
	}
	sg.mu.Unlock()
	if data == nil {
		http.Error(w, "unknown segment", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "video/mp2t")
	cw := &countingWriter{ResponseWriter: w, n: &h.served}
	http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(data)) // honours Range, as players resume with it
}

// countingWriter adds what it writes to a counter.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	k, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(k))
	return k, err
}
