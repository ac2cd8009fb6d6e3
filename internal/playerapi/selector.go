package playerapi

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// Content is what a request asks to play (the playback core's).
type Content = playback.Content

// errNoContent is the error text AceStream answers for content it cannot load.
var errNoContent = errors.New("failed to load content")

// resolveRequest reads the selector of a request; a POST may carry the transport file as JSON
// {"transport_file_data": "<base64>"}.
func (h *Handler) resolveRequest(ctx context.Context, r *http.Request) (Content, error) {
	if r.Method == http.MethodPost {
		var body struct {
			Data string `json:"transport_file_data"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 2*transport.MaxFileSize)).Decode(&body); err != nil || body.Data == "" {
			return Content{}, errNoContent
		}
		return fromBase64(body.Data)
	}
	return h.resolve(ctx, r.URL.Query())
}

// fromBase64 reads a transport file given inline.
func fromBase64(s string) (Content, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Content{}, errNoContent
	}
	f, err := transport.Decode(raw)
	if err != nil {
		return Content{}, errNoContent
	}
	return Content{InfoHash: f.InfoHash(), File: f, Raw: raw}, nil
}

// errSelf refuses a URL that names this engine itself (see pointsHere).
var errSelf = errors.New("the URL points at this engine itself")

// resolve reads the content selector: content_id, id, infohash, url, magnet (in that order).
// In aceswarm the content id is the infohash. A url or direct_url that points at this engine
// itself is refused at once.
func (h *Handler) resolve(ctx context.Context, q url.Values) (Content, error) {
	for _, key := range []string{"content_id", "id", "infohash"} {
		if v := q.Get(key); v != "" {
			ih, err := transport.ParseInfoHash(strings.ToLower(v))
			if err != nil {
				return Content{}, errNoContent
			}
			return Content{InfoHash: ih}, nil
		}
	}
	for _, key := range []string{"url", "direct_url"} {
		if v := q.Get(key); v != "" && h.pointsHere(ctx, v) {
			h.cfg.Logger.Warn("refused: the URL points at this engine", key, v)
			return Content{}, errSelf
		}
	}
	if v := q.Get("url"); v != "" {
		f, raw, err := transport.Load(ctx, h.cfg.Client, v)
		if err != nil {
			return Content{}, errNoContent
		}
		return Content{InfoHash: f.InfoHash(), File: f, Raw: raw}, nil
	}
	if v := q.Get("magnet"); v != "" {
		return parseMagnet(v)
	}
	if v := q.Get("direct_url"); v != "" {
		return directContent(v)
	}
	if v := q.Get("data"); v != "" {
		return fromBase64(v)
	}
	return Content{}, errors.New("missing content selector: content_id, id, infohash, url, magnet, direct_url or data")
}

// directContent names an HTTP MPEG-TS URL played as a live source (see Content.DirectURL). Only
// http and https are played: a file path or udp:// from a player is refused.
func directContent(v string) (Content, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Content{}, errNoContent
	}
	return Content{InfoHash: sha1.Sum([]byte("direct_url:" + u.String())), DirectURL: u.String()}, nil
}

func parseMagnet(m string) (Content, error) {
	u, err := url.Parse(m)
	if err != nil || u.Scheme != "magnet" {
		return Content{}, errNoContent
	}
	q := u.Query()
	for _, xt := range q["xt"] {
		if hex, ok := strings.CutPrefix(xt, "urn:btih:"); ok {
			ih, err := transport.ParseInfoHash(strings.ToLower(hex))
			if err != nil {
				return Content{}, errNoContent
			}
			return Content{InfoHash: ih, Trackers: q["tr"]}, nil
		}
	}
	return Content{}, errNoContent
}
