package playerapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// playlist is /ace/m/<infohash>/<key>.m3u8 (see playback.Session.Segments). A URL whose session
// has expired opens it again. The first playlist of a stream waits for its first segment, up to
// the start timeout; a session whose status turns "err" meanwhile gets 500 with the message.
func (h *Handler) playlist(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutSuffix(r.PathValue("file"), ".m3u8")
	p, ih, found := h.session(r, key)
	if !ok || ih == (transport.InfoHash{}) {
		http.Error(w, "unknown playback session id", http.StatusNotFound)
		return
	}
	if !found {
		var err error
		if p, err = h.core.Open(Content{InfoHash: ih}, key, playback.Options{ClientSessionID: -1, HLS: true}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	p.Touch()
	seg := p.Segments()
	if !seg.Ready() {
		if status, msg := p.State(); status == "err" {
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
	}
	seg.ServePlaylist(w, r, baseURL(r)+"/ace/c/"+ih.String()+"/", h.core.Config().StartTimeout)
}

// segment is /ace/c/<infohash>/<n>.ts.
func (h *Handler) segment(w http.ResponseWriter, r *http.Request) {
	ih, err := transport.ParseInfoHash(strings.ToLower(r.PathValue("infohash")))
	name, ok := strings.CutSuffix(r.PathValue("file"), ".ts")
	seq, serr := strconv.Atoi(name)
	seg := h.core.Segments(ih)
	if err != nil || !ok || serr != nil || seg == nil {
		http.Error(w, "unknown segment", http.StatusNotFound)
		return
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(3 * h.core.Config().WriteTimeout)) // a stalled player lets go
	h.core.CountServed(seg.ServeSegment(w, r, seq))
}
