package playerapi

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// Config of the player API.
type Config struct {
	BindAll    bool
	OwnPorts   []int         // this engine's ports (player API, peer, TCP API): URLs to them are refused
	HeaderWait time.Duration // how long a playback request may wait for data before headers go out
	CacheLimit int64         // reported in stat's disk_cache_stats
	CacheDir   string        // its free space is reported in stat's disk_cache_stats
	Version    string
	Client     *http.Client // fetches transport files for url=
	Metrics    http.Handler // the engine's Prometheus /metrics, under the player API's access rules
	Dashboard  http.Handler // the dashboard and player page at /, /dashboard, /player, /assets/
	Logger     *slog.Logger
}

// DefaultHeaderWait is how long a playback request waits for data before its headers go out.
const DefaultHeaderWait = 5 * time.Second

// Handler is the player API: an adapter over the playback core.
type Handler struct {
	cfg  Config
	core *playback.Core
	nets []netip.Prefix
	mux  *http.ServeMux

	tokenOnce  sync.Once
	apiToken   string
	remoteOK   atomic.Bool // set_allow_remote_access
	intranetOK atomic.Bool // set_allow_intranet_access
}

// New returns the handler over core; it starts nothing.
func New(cfg Config, core *playback.Core) *Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HeaderWait <= 0 {
		cfg.HeaderWait = DefaultHeaderWait
	}
	h := &Handler{cfg: cfg, core: core, nets: localNets(), mux: http.NewServeMux()}
	for _, path := range []string{"/ace/getstream", "/ace/manifest.m3u8", "/hls/manifest.m3u8"} {
		h.mux.HandleFunc("GET "+path, h.start)
		h.mux.HandleFunc("POST "+path, h.start)
	}
	h.mux.HandleFunc("GET /ace/r/{infohash}/{key}", h.playbackTS)
	h.mux.HandleFunc("GET /content/{infohash}/{key}", h.playbackTS) // the TCP engine API's playback URL
	h.mux.HandleFunc("GET /ace/m/{infohash}/{file}", h.playlist)
	h.mux.HandleFunc("GET /ace/c/{infohash}/{file}", h.segment)
	h.mux.HandleFunc("GET /ace/stat/{infohash}/{key}", h.stat)
	h.mux.HandleFunc("GET /ace/cmd/{infohash}/{key}", h.command)
	h.mux.HandleFunc("GET /ace/event/{infohash}/{key}", h.event)
	h.mux.HandleFunc("GET /webui/api/service", h.service)
	h.mux.HandleFunc("GET /server/api", h.serverAPI)
	if cfg.Metrics != nil {
		h.mux.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.Dashboard != nil {
		for _, path := range []string{"GET /{$}", "GET /dashboard", "GET /dashboard.json", "GET /player", "GET /assets/"} {
			h.mux.Handle(path, cfg.Dashboard)
		}
	}
	return h
}

// Served is the number of stream bytes written to players so far.
func (h *Handler) Served() int64 { return h.core.Served() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !h.allowed(r) {
		http.Error(w, "access denied: the player API answers this machine and its subnet (see --bind-all)", http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// start is /ace/getstream and /ace/manifest.m3u8: it opens the playback session and answers with
// its URLs (format=json) or redirects the player to its playback URL (format=redirect).
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	hls := strings.HasSuffix(r.URL.Path, ".m3u8")
	jsonMode := q.Get("format") == "json"
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	c, err := h.resolveRequest(ctx, r)
	if err == nil {
		var p *playback.Session
		csid := intParam(q, "client_session_id", -1)
		p, err = h.core.Open(c, sessionKey(r), playback.Options{ClientSessionID: csid, Restart: q.Get("force_session_restart") == "1", HLS: hls})
		if err == nil {
			h.answerStart(w, r, p, hls, jsonMode, csid)
			return
		}
	}
	h.cfg.Logger.Info("content not loaded", "url", r.URL.String(), "err", err)
	if jsonMode {
		writeResponse(w, nil, errNoContent.Error())
		return
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func (h *Handler) answerStart(w http.ResponseWriter, r *http.Request, p *playback.Session, hls, jsonMode bool, csid int) {
	base := baseURL(r)
	ih, key := p.InfoHash().String(), p.Key()
	playURL := base + "/ace/r/" + ih + "/" + key
	if hls {
		playURL = base + "/ace/m/" + ih + "/" + key + ".m3u8"
	}
	if !jsonMode {
		http.Redirect(w, r, playURL, http.StatusFound)
		return
	}
	resp := obj{}
	if r.URL.Query().Get("use_api_events") == "1" {
		resp = append(resp, kv{"event_url", base + "/ace/event/" + ih + "/" + key})
	}
	resp = append(resp,
		kv{"playback_url", playURL},
		kv{"stat_url", base + "/ace/stat/" + ih + "/" + key},
		kv{"command_url", base + "/ace/cmd/" + ih + "/" + key},
		kv{"infohash", ih},
		kv{"playback_session_id", p.ID()},
		kv{"is_live", 1},
		kv{"is_encrypted", 0},
		kv{"client_session_id", csid},
	)
	writeResponse(w, resp, nil)
}

// writeResponse writes the {"response": …, "error": …} envelope (HTTP 200, as the engine does).
func writeResponse(w http.ResponseWriter, resp any, errText any) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(pyJSON(obj{{"response", resp}, {"error", errText}})))
}

// sessionKey is AceStream's <key>: md5 of the player id (pid, or sid). A request without one gets
// a session of its own (a random key), so players behind one address never share a session and
// one stop ends only the player it was handed to (AceStream keys them by md5 of the address).
func sessionKey(r *http.Request) string {
	q := r.URL.Query()
	id := q.Get("pid")
	if id == "" {
		id = q.Get("sid")
	}
	if id == "" {
		b := make([]byte, 16)
		rand.Read(b)
		return hex.EncodeToString(b)
	}
	sum := md5.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

// baseURL is the scheme and host to put in the URLs answered to r: its Host header, or, from an
// HTTP/1.0 client that sent none, the address it connected to.
func baseURL(r *http.Request) string {
	if r.Host != "" {
		return "http://" + r.Host
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return "http://" + a.String()
	}
	return "http://127.0.0.1:6878"
}

func intParam(q url.Values, key string, def int) int {
	if n, err := strconv.Atoi(q.Get(key)); err == nil {
		return n
	}
	return def
}

// session finds the playback session of a /ace/{r,m,stat,cmd,event}/<infohash>/<key> URL.
func (h *Handler) session(r *http.Request, key string) (*playback.Session, transport.InfoHash, bool) {
	ih, err := transport.ParseInfoHash(strings.ToLower(r.PathValue("infohash")))
	if err != nil {
		return nil, ih, false
	}
	p := h.core.Lookup(ih, key)
	return p, ih, p != nil
}
