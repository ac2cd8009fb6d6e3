package playerapi

import (
	"net/http"
	"time"
)

// eventWait is how long an event_url request waits for a change before it answers the current
// state.
const eventWait = 25 * time.Second

// event is /ace/event/<infohash>/<key>, the event_url handed out with use_api_events=1.
// AceStream's payload is not public; aceswarm answers the events a player can act on, as a long
// poll: {"response": {"event": "status", "status": "prebuf|dl|buf|err", "error_message": "…"}} or
// {"response": {"event": "stopped"}}. With ?status=S the request waits (up to 25 s) until the
// status is no longer S or the session stops; without it, it answers at once. An unknown or
// stopped session answers "unknown playback session id".
func (h *Handler) event(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.session(r, r.PathValue("key"))
	if !ok {
		writeResponse(w, nil, "unknown playback session id")
		return
	}
	known := r.URL.Query().Get("status")
	deadline := time.NewTimer(eventWait)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		status, msg := p.State()
		if status != known || known == "" {
			writeResponse(w, obj{{"event", "status"}, {"status", status}, {"error_message", msg}}, nil)
			return
		}
		select {
		case <-p.Done():
			writeResponse(w, obj{{"event", "stopped"}}, nil)
			return
		case <-r.Context().Done():
			return
		case <-deadline.C:
			known = "" // answer the current state
		case <-tick.C:
		}
	}
}
