package playerapi

import (
	"context"
	"net/http"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// playbackTS streams MPEG-TS to one player. A URL whose session has expired starts it again.
func (h *Handler) playbackTS(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	p, ih, ok := h.session(r, key)
	if !ok {
		var err error
		if ih == (transport.InfoHash{}) {
			http.Error(w, "unknown playback session id", http.StatusNotFound)
			return
		}
		if p, err = h.open(r.Context(), Content{InfoHash: ih}, key, -1, false); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	p.addReader(1)
	defer p.addReader(-1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(p.ctx, cancel) // command stop ends every reader
	defer stop()
	h.serveTS(ctx, w, p)
}

// serveTS writes the stream from the newest keyframe on, at the player's own pace. Headers go
// out with the first data, or after HeaderWait at the latest; a stream with no data after
// StartTimeout is given up (500 "start timeout" if the headers were not sent yet). A player that
// takes nothing for WriteTimeout is disconnected; one that falls MaxLag behind live jumps ahead.
// The MPEG-TS stays decodable across skipped pieces (see mpegts.Splicer).
func (h *Handler) serveTS(ctx context.Context, w http.ResponseWriter, p *playback) {
	w.Header().Set("Content-Type", "video/mp2t")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	rd, first, ok := h.firstChunk(ctx, w, rc, p)
	if !ok {
		return
	}
	sp := mpegts.NewSplicer()
	var out []byte
	seekGen := 0
	for c, err := first, error(nil); err == nil; c, err = rd.Next(ctx) {
		out = out[:0]
		if c.Gap {
			out = sp.Gap(out)
		}
		out = sp.Write(out, c.Data)
		rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		n, err := w.Write(out)
		h.served.Add(int64(n))
		if err != nil || rc.Flush() != nil {
			return
		}
		p.mu.Lock()
		p.playing, p.pos, p.active = true, c.Header.Time, time.Now()
		if p.seekGen != seekGen {
			seekGen = p.seekGen
			rd.SeekTime(p.seekTo)
		}
		p.mu.Unlock()
	}
}

// firstChunk waits for the stream's first piece, sending the headers once it comes or once
// HeaderWait has passed.
func (h *Handler) firstChunk(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, p *playback) (*livebuf.Reader, livebuf.Chunk, bool) {
	startCtx, cancel := context.WithTimeout(ctx, h.cfg.StartTimeout)
	defer cancel()
	wait, cancelWait := context.WithTimeout(startCtx, h.cfg.HeaderWait)
	c, rd, err := readFirst(wait, p)
	cancelWait()
	sent := false
	if err != nil && ctx.Err() == nil && startCtx.Err() == nil {
		w.WriteHeader(http.StatusOK) // keep the client from timing out, and go on waiting
		rc.Flush()
		sent = true
		c, rd, err = readFirst(startCtx, p)
	}
	switch {
	case err == nil:
		if !sent {
			w.WriteHeader(http.StatusOK)
		}
		rd.SetMaxLag(h.cfg.MaxLag)
		return rd, c, true
	case ctx.Err() == nil && !sent:
		http.Error(w, "start timeout", http.StatusInternalServerError)
	}
	return nil, c, false
}

// readFirst waits for the transport file and the first piece.
func readFirst(ctx context.Context, p *playback) (livebuf.Chunk, *livebuf.Reader, error) {
	select {
	case <-p.stream.Ready():
	case <-ctx.Done():
		return livebuf.Chunk{}, nil, ctx.Err()
	}
	_, buf := p.stream.File()
	rd := buf.NewReader()
	c, err := rd.Next(ctx)
	return c, rd, err
}
