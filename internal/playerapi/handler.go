package playerapi

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// Streams opens the swarm session of some content; release ends this caller's use of it.
type Streams interface {
	Open(ctx context.Context, c Content) (s *swarm.Session, release func(), err error)
}

// Config of the player API.
type Config struct {
	BindAll      bool
	StartTimeout time.Duration // a stream with no data for this long is given up
	WriteTimeout time.Duration // a player that takes no data for this long is disconnected
	Client       *http.Client  // fetches transport files for url=
	Logger       *slog.Logger
}

// Handler is the player API.
type Handler struct {
	cfg     Config
	streams Streams
	nets    []netip.Prefix
	mux     *http.ServeMux
	served  atomic.Int64 // stream bytes written to players
}

// Served is the number of stream bytes written to players so far.
func (h *Handler) Served() int64 { return h.served.Load() }

// New returns the handler.
func New(cfg Config, streams Streams) *Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 15 * time.Second
	}
	h := &Handler{cfg: cfg, streams: streams, nets: localNets(), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /ace/getstream", h.getstream)
	h.mux.HandleFunc("GET /ace/r/{infohash}/{key}", h.playback)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !h.allowed(r) {
		http.Error(w, "access denied: the player API answers this machine and its subnet (see --bind-all)", http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// getstream starts the content's session and redirects the player to its playback URL.
func (h *Handler) getstream(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	c, err := resolve(ctx, h.cfg.Client, r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, release, err := h.streams.Open(r.Context(), c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	release() // the session outlives this request by its idle time; the player comes back at once
	http.Redirect(w, r, "http://"+r.Host+"/ace/r/"+c.InfoHash.String()+"/"+sessionKey(r), http.StatusFound)
}

// sessionKey is AceStream's <key>: md5 of the player id, or of the client's IP without one.
func sessionKey(r *http.Request) string {
	id := r.URL.Query().Get("pid")
	if id == "" {
		id = r.URL.Query().Get("sid")
	}
	if id == "" {
		id, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	sum := md5.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

// playback streams MPEG-TS to one player.
func (h *Handler) playback(w http.ResponseWriter, r *http.Request) {
	ih, err := transport.ParseInfoHash(r.PathValue("infohash"))
	if err != nil {
		http.Error(w, "unknown playback session", http.StatusNotFound)
		return
	}
	s, release, err := h.streams.Open(r.Context(), Content{InfoHash: ih})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer release()
	h.serveTS(w, r, s)
}
