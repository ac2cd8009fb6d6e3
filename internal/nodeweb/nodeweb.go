package nodeweb

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/swarm"
)

// Figures are a node's counters at one moment.
type Figures struct {
	MaxConnections int
	MaxPeers       int
	MaxUploadSlots int
	Downloaded     int64 // bytes since start
	Uploaded       int64
	Peers          []swarm.PeerInfo
	UploadSlots    int
}

// Update is a change of limits; zero or nil fields stay as they are.
type Update struct {
	MaxPeers       int
	MaxUploadSlots int
	DownloadFrom   []netip.AddrPort
	SetDownload    bool
}

// Node is what the web interface reads and changes.
type Node interface {
	Figures(ctx context.Context) Figures
	Apply(ctx context.Context, u Update)
	TransportFile() []byte // nil when the node has none (a viewer engine)
}

// Config of the web interface.
type Config struct {
	Version      string
	Token        string        // --service-access-token
	RemoteAccess bool          // --service-remote-access
	MonitorIP    netip.Addr    // --monitor-node-ip: let in like the node's own machine
	Interval     time.Duration // --stats-report-interval
	ReportPeers  bool          // --stats-report-peers
	Metrics      http.Handler  // Prometheus /metrics, served as /app/[TOKEN/]metrics (and /metrics without a token)
	Dashboard    http.Handler  // the dashboard, served under /app/[TOKEN/] (and at / without a token)
	Logger       *slog.Logger
}

// Report is the monitoring answer, in the seed's field order.
type Report struct {
	Version             string           `json:"version"`
	MaxConnections      int              `json:"max_connections"`
	MaxPeers            int              `json:"max_peers"`
	MaxUploadSlots      int              `json:"max_upload_slots"`
	DownloadSpeed       int64            `json:"download_speed"`
	UploadSpeed         int64            `json:"upload_speed"`
	ConnectedPeersCount int              `json:"connected_peers_count"`
	ConnectedPeers      []swarm.PeerInfo `json:"connected_peers"`
	UploadSlots         int              `json:"upload_slots"`
}

// Web serves the interface and refreshes its figures every Interval.
type Web struct {
	cfg  Config
	node Node

	mu     sync.Mutex // guards report, last, lastAt
	report Report
	last   Figures
	lastAt time.Time
}

// DefaultInterval is how often the monitoring figures refresh (--stats-report-interval).
const DefaultInterval = 60 * time.Second

// New returns the web interface; it starts nothing.
func New(cfg Config, node Node) *Web {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Web{cfg: cfg, node: node}
}

// Run refreshes the figures until ctx ends.
func (w *Web) Run(ctx context.Context) error {
	w.refresh(ctx)
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			w.refresh(ctx)
		}
	}
}

// refresh takes new figures; speeds are averages since the previous refresh.
func (w *Web) refresh(ctx context.Context) {
	f := w.node.Figures(ctx)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	r := Report{
		Version: w.cfg.Version, MaxConnections: f.MaxConnections, MaxPeers: f.MaxPeers,
		MaxUploadSlots: f.MaxUploadSlots, ConnectedPeersCount: len(f.Peers), ConnectedPeers: []swarm.PeerInfo{},
		UploadSlots: f.UploadSlots,
	}
	if w.cfg.ReportPeers && f.Peers != nil {
		r.ConnectedPeers = f.Peers
	}
	if !w.lastAt.IsZero() {
		secs := now.Sub(w.lastAt).Seconds()
		r.DownloadSpeed = int64(float64(f.Downloaded-w.last.Downloaded) / secs)
		r.UploadSpeed = int64(float64(f.Uploaded-w.last.Uploaded) / secs)
	}
	w.report, w.last, w.lastAt = r, f, now
}

// current returns the report, with the limits as they are now (they change at once on update).
func (w *Web) current(ctx context.Context) Report {
	f := w.node.Figures(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.report
	r.MaxConnections, r.MaxPeers, r.MaxUploadSlots = f.MaxConnections, f.MaxPeers, f.MaxUploadSlots
	return r
}

// ServeHTTP answers /app/[TOKEN/]monitoring|monitor|update|get_transport_file|metrics and the
// dashboard (/app/[TOKEN/], dashboard, dashboard.json, assets/…); without a token, / and
// /metrics too (as /app/…).
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !w.local(r) {
		writeJSON(rw, http.StatusForbidden, map[string]string{"error": "remote access is disabled (--service-remote-access)"})
		return
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/app"), "/")
	token := ""
	if w.cfg.Token != "" || strings.Count(rest, "/") == 1 && !strings.HasPrefix(rest, "assets/") {
		token, rest, _ = strings.Cut(rest, "/")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(w.cfg.Token)) != 1 {
		writeJSON(rw, http.StatusForbidden, map[string]string{"error": "wrong access token"})
		return
	}
	switch {
	case rest == "monitoring" || rest == "monitor":
		writeJSON(rw, http.StatusOK, w.current(r.Context()))
	case rest == "update":
		w.update(rw, r)
	case rest == "get_transport_file":
		w.transportFile(rw, r)
	case rest == "metrics" && w.cfg.Metrics != nil:
		w.cfg.Metrics.ServeHTTP(rw, r)
	case w.cfg.Dashboard != nil && (rest == "" || rest == "dashboard" || rest == "dashboard.json" || strings.HasPrefix(rest, "assets/")):
		w.dashboard(rw, r, rest)
	default:
		http.NotFound(rw, r)
	}
}

// dashboard serves the dashboard's path rest, the page's relative links resolving under the
// prefix it was asked at.
func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request, rest string) {
	if rest == "" && !strings.HasSuffix(r.URL.Path, "/") { // /app/TOKEN: relative links need the slash
		http.Redirect(rw, r, r.URL.Path+"/", http.StatusFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + rest
	w.cfg.Dashboard.ServeHTTP(rw, r2)
}

func (w *Web) local(r *http.Request) bool {
	if w.cfg.RemoteAccess {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	return a.IsLoopback() || (w.cfg.MonitorIP.IsValid() && a == w.cfg.MonitorIP)
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(v)
}
