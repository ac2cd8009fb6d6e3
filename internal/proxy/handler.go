package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aceswarm/aceswarm/internal/dashboard"
)

// Handler serves /ace/getstream, /ace/manifest.m3u8 and its segments, /ace/status, /metrics, and
// the dashboard and player page (/, /player).
func (p *Proxy) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ace/getstream", p.getstream)
	mux.HandleFunc("/ace/getstream/", p.getstream)
	mux.HandleFunc("/ace/manifest.m3u8", p.manifest)
	mux.HandleFunc("GET /ace/hls/{channel}/{file}", p.hlsFile)
	mux.HandleFunc("/ace/status", p.statusHandler)
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.metrics.reg, promhttp.HandlerOpts{}))
	dash := dashboard.Handler(dashboard.Config{Snapshot: p.dashboardSnapshot, PlayerPage: true})
	for _, path := range []string{"GET /{$}", "GET /dashboard", "GET /dashboard.json", "GET /player", "GET /assets/"} {
		mux.Handle(path, dash)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "not found", http.StatusNotFound) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*") // as AceStream: browsers' players fetch across origins
		mux.ServeHTTP(w, r)
	})
}

// selectors are the content parameters, in AceStream's order of precedence; id is content_id's
// old name.
var selectors = []string{"content_id", "id", "infohash", "url", "magnet"}

// channelOf reads the content selector: the channel's key and what the engine is asked for (the
// client's parameters without pid and format, which belong to the proxy).
func channelOf(r *http.Request) (key string, q url.Values, err error) {
	q = r.URL.Query()
	for _, name := range selectors {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if name == "content_id" || name == "id" || name == "infohash" {
			v = strings.ToLower(v)
			if !isHex40(v) {
				return "", nil, fmt.Errorf("%s %q: want 40 hexadecimal digits", name, v)
			}
		}
		kind := name
		if name == "id" {
			kind = "content_id"
		}
		for _, drop := range []string{"pid", "sid", "format"} {
			q.Del(drop)
		}
		return kind + ":" + v, q, nil
	}
	return "", nil, fmt.Errorf("missing content selector: id, infohash, content_id, url or magnet")
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func allowGetHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// admit reads a playback request and joins its channel, counted as a client, or answers it:
// an error, or HEAD's headers (IPTV apps probe with HEAD: no engine session for that).
func (p *Proxy) admit(w http.ResponseWriter, r *http.Request, contentType string) (*channel, bool) {
	if !allowGetHead(w, r) {
		return nil, false
	}
	key, q, err := channelOf(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		return nil, false
	}
	c, jerr := p.join(key, q)
	if jerr != nil {
		http.Error(w, jerr.msg, jerr.status)
		return nil, false
	}
	return c, true
}

// getstream is /ace/getstream: the channel's MPEG-TS (HLS with -m3u8).
func (p *Proxy) getstream(w http.ResponseWriter, r *http.Request) {
	if p.cfg.M3U8 {
		p.manifest(w, r)
		return
	}
	began := time.Now()
	p.clients.Add(1)
	defer p.clients.Done()
	c, ok := p.admit(w, r, "video/mp2t")
	if !ok {
		return
	}
	p.metrics.clients.Inc()
	defer p.metrics.clients.Dec()
	defer c.addClient(-1)
	start, cerr := c.waitStart(r.Context())
	if cerr != nil {
		cerr.write(w)
		return
	}
	if r.Context().Err() != nil {
		return
	}
	p.serveTS(w, r, c, start, began)
}

// write answers a client with the error: the status and one line, with Retry-After on a 503.
func (e *channelError) write(w http.ResponseWriter) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.retryAfter.Seconds())))
	}
	http.Error(w, e.msg, e.status)
}
