package playerapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/hls"
	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// HLS: one segmenter per stream (see package hls) fed through one Splicer, so the segments form
// one continuous MPEG-TS. A segmenter nobody asked for in segmenterIdle stops.
const segmenterIdle = 60 * time.Second

type segmenters struct {
	mu   sync.Mutex // guards byIH
	byIH map[transport.InfoHash]*segmenter
}

type segmenter struct {
	ih      transport.InfoHash
	stream  *swarm.Session
	release func()
	cancel  context.CancelFunc

	seg *hls.Segmenter

	mu   sync.Mutex // guards used
	used time.Time
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
	sg := &segmenter{ih: ih, stream: s, release: release, cancel: cancel, used: time.Now(), seg: hls.New()}
	h.hls.byIH[ih] = sg
	h.wg.Go(func() { sg.run(sctx) })
	return sg, nil
}

func (sg *segmenter) touch() {
	sg.mu.Lock()
	sg.used = time.Now()
	sg.mu.Unlock()
}

// runningSegmenter returns the stream's segmenter, or nil when none runs.
func (h *Handler) runningSegmenter(ih transport.InfoHash) *segmenter {
	h.hls.mu.Lock()
	defer h.hls.mu.Unlock()
	return h.hls.byIH[ih]
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
	// Start a few segments back when the buffer holds them, so the first playlist of a stream
	// that is already playing is answered at once.
	if _, last, _ := buf.TimeRange(); last > 0 {
		rd.SeekTime((last - int64(hls.PlaylistSegments/2)*hls.MinSegment.Milliseconds()) / 1000)
	}
	sp := mpegts.NewSplicer()
	var out []byte
	for {
		c, err := rd.Next(ctx)
		if err != nil {
			return
		}
		if c.Gap {
			sg.seg.Break(sp.Gap(nil))
		}
		out = sp.Write(out[:0], c.Data)
		sg.seg.Write(out)
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
		if p, err = h.open(r.Context(), Content{InfoHash: ih}, key, -1, false); err != nil {
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
	sg.seg.ServePlaylist(w, r, baseURL(r)+"/ace/c/"+ih.String()+"/", h.cfg.StartTimeout)
}

// segment is /ace/c/<infohash>/<n>.ts.
func (h *Handler) segment(w http.ResponseWriter, r *http.Request) {
	ih, err := transport.ParseInfoHash(strings.ToLower(r.PathValue("infohash")))
	name, ok := strings.CutSuffix(r.PathValue("file"), ".ts")
	seq, serr := strconv.Atoi(name)
	sg := h.runningSegmenter(ih)
	if err != nil || !ok || serr != nil || sg == nil {
		http.Error(w, "unknown segment", http.StatusNotFound)
		return
	}
	sg.touch()
	h.served.Add(sg.seg.ServeSegment(w, r, seq))
}
