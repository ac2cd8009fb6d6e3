package playerapi

import (
	"context"
	"net/url"
	"strings"

	"github.com/aceswarm/aceswarm/internal/playback"
)

// tcpSelectors maps the TCP API's selector kinds to the player API's parameters.
var tcpSelectors = map[string]string{"INFOHASH": "infohash", "PID": "content_id", "TORRENT": "url", "RAW": "data", "URL": "direct_url"}

// Resolve reads a selector of the TCP API: INFOHASH, PID (content id), TORRENT (URL), RAW
// (base64), URL (a direct MPEG-TS URL, plain or URL-encoded).
func (h *Handler) Resolve(ctx context.Context, kind, value string) (Content, error) {
	key, ok := tcpSelectors[kind]
	if !ok {
		return Content{}, errNoContent
	}
	if kind == "URL" && !strings.Contains(value, "://") {
		value, _ = url.QueryUnescape(value)
	}
	return h.resolve(ctx, url.Values{key: {value}})
}

// Describe returns the stream's transport file, fetching it from the swarm if needed.
func (h *Handler) Describe(ctx context.Context, c Content) (Content, error) {
	c, err := h.core.Describe(ctx, c)
	if err != nil && ctx.Err() == nil {
		err = errNoContent
	}
	return c, err
}

// Open opens a playback session for another front end (the TCP engine API); its players read
// /content/<infohash>/<key>, or /ace/m/<infohash>/<key>.m3u8 for HLS.
func (h *Handler) Open(c Content, key string, hls bool) (*playback.Session, error) {
	return h.core.Open(c, key, playback.Options{ClientSessionID: -1, HLS: hls})
}
