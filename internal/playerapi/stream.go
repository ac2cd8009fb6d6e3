package playerapi

import (
	"context"
	"net/http"

	"github.com/aceswarm/aceswarm/internal/fanout"
	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// playbackTS streams MPEG-TS to one player (see playback.Session.Play) on a connection taken
// over from net/http. A URL whose session has expired opens it again. Headers go out with the
// first data, or after HeaderWait at the latest, and the player then waits on; a session whose
// status is already "err" gets 500 with its message.
func (h *Handler) playbackTS(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	p, ih, ok := h.session(r, key)
	if !ok {
		var err error
		if ih == (transport.InfoHash{}) {
			http.Error(w, "unknown playback session id", http.StatusNotFound)
			return
		}
		if p, err = h.core.Open(Content{InfoHash: ih}, key, playback.Options{ClientSessionID: -1}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	p.Touch()
	if status, msg := p.State(); status == "err" {
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	wait, cancel := context.WithTimeout(r.Context(), h.cfg.HeaderWait)
	start, err := p.Start(wait)
	cancel()
	if err != nil && r.Context().Err() != nil {
		return
	}
	conn, _, herr := http.NewResponseController(w).Hijack()
	if herr != nil {
		http.Error(w, "cannot stream on this connection", http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // a player sends nothing more: a read ends when it hangs up, even while no data flows
		conn.Read(make([]byte, 1))
		cancel()
	}()
	head := fanout.Head(r)
	if err != nil { // no data yet: keep the player from timing out, and go on waiting
		if _, err := conn.Write(head); err != nil {
			return
		}
		head = nil
		if start, err = h.waitStart(ctx, p); err != nil {
			return
		}
	}
	p.Play(ctx, conn, start, head)
}

// waitStart waits for the stream's start point until the session's status turns "err".
func (h *Handler) waitStart(ctx context.Context, p *playback.Session) (fanout.RAP, error) {
	ctx, cancel := context.WithTimeout(ctx, h.core.Config().StartTimeout)
	defer cancel()
	return p.Start(ctx)
}
