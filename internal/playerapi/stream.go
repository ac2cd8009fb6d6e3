package playerapi

import (
	"context"
	"net/http"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/swarm"
)

// serveTS writes the stream from the newest keyframe on, each player at its own pace. The MPEG-TS
// stays decodable across skipped pieces (see mpegts.Splicer).
func (h *Handler) serveTS(w http.ResponseWriter, r *http.Request, s *swarm.Session) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "video/mp2t")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	select {
	case <-s.Ready():
	case <-ctx.Done():
		return
	case <-time.After(h.cfg.StartTimeout):
		return
	}
	_, buf := s.File()
	rd := buf.NewReader()
	sp := mpegts.NewSplicer()
	var out []byte
	first, cancel := context.WithTimeout(ctx, h.cfg.StartTimeout)
	defer cancel()
	next := first // until the first piece, wait at most StartTimeout
	for {
		c, err := rd.Next(next)
		if err != nil {
			return
		}
		next = ctx
		out = out[:0]
		if c.Gap {
			out = sp.Gap(out)
		}
		out = sp.Write(out, c.Data)
		rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		n, err := w.Write(out)
		h.served.Add(int64(n))
		if err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
