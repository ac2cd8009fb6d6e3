package engine

import (
	"time"

	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aceswarm/aceswarm/internal/dashboard"
	"github.com/aceswarm/aceswarm/internal/ipfilter"
	"github.com/aceswarm/aceswarm/internal/nodeweb"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/version"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// Node is one running aceswarm node.
type Node struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	host   *swarm.Host
	mux    *http.ServeMux
	web    *nodeweb.Web
	peerID [20]byte
	bind   netip.Addr
	port   uint16
	api    net.Listener // viewer: player API
	mode   modeRunner
	live   string // the live cache folder of this node, when on disk
	filter *ipfilter.Filter

	metrics *nodeMetrics

	mu       sync.Mutex // guards limits, sessions and past
	limits   limits
	sessions map[*swarm.Session]bool
	past     swarm.Metrics // counters of ended sessions (metrics.go)
}

// limits are the settings the web interface changes on the fly.
type limits struct {
	maxPeers, maxSlots, maxConns int
	downloadFrom                 []netip.AddrPort
}

type modeRunner interface {
	run(ctx context.Context) error
}

// New validates the configuration and binds the node's sockets; it starts nothing.
func New(cfg Config) (*Node, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg: cfg, log: cfg.Logger.With("mode", cfg.Mode.String()), mux: http.NewServeMux(), peerID: swarm.NewPeerID(),
		limits:   limits{maxPeers: cfg.MaxPeers, maxSlots: cfg.MaxUploadSlots, maxConns: cfg.MaxConnections, downloadFrom: cfg.DownloadFrom},
		sessions: map[*swarm.Session]bool{},
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("--port %d: %w", cfg.Port, err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	n.ln, n.port, n.bind = ln, ap.Port(), ap.Addr().Unmap()
	n.host = swarm.NewHost(ln, n.peerID, n.mux, n.log)
	if w := cfg.WrapPeerConn; w != nil {
		n.host.Wrap = func(c net.Conn) net.Conn { return w(c, false) }
	}
	if err := n.admission(); err != nil {
		ln.Close()
		return nil, err
	}
	n.metrics = newNodeMetrics(n)
	n.web = nodeweb.New(nodeweb.Config{
		Version: version.Version, Token: cfg.AccessToken, RemoteAccess: cfg.RemoteAccess, MonitorIP: cfg.MonitorIP,
		Interval: cfg.StatsInterval, ReportPeers: cfg.StatsPeers, Metrics: n.metrics.Handler(), Logger: n.log,
		Dashboard: dashboard.Handler(dashboard.Config{Snapshot: n.dashboardSnapshot}),
	}, n)
	n.mux.Handle("/", n.web)
	switch cfg.Mode {
	case Source:
		n.mode, err = newSource(n)
	case Support, Startup:
		n.mode = &relay{n: n}
	default:
		n.mode, err = newViewer(n)
	}
	if err == nil {
		err = n.prepareCache()
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	return n, nil
}

// prepareCache empties this node's live cache folder (left over by a previous run).
func (n *Node) prepareCache() error {
	if n.cfg.LiveCacheType == "memory" {
		return nil
	}
	name := "live-" + strings.NewReplacer(":", "_", ".", "_").Replace(n.Addr().String())
	n.live = filepath.Join(n.cfg.CacheDir, name)
	if err := os.RemoveAll(n.live); err != nil {
		return fmt.Errorf("--cache-dir: %w", err)
	}
	if err := os.MkdirAll(n.live, 0o755); err != nil {
		return fmt.Errorf("--cache-dir: %w", err)
	}
	return nil
}

// admission applies --ip-filter-config, --private-node and --max-connections to incoming
// connections.
func (n *Node) admission() error {
	n.host.MaxConns = n.maxConns
	if n.cfg.IPFilterConfig != "" {
		f, err := ipfilter.NewFilter(ipfilter.FilterConfig{
			Path: n.cfg.IPFilterConfig, GeoIPDB: n.cfg.GeoIPDB, MaxConns: n.maxConns, Logger: n.log,
		})
		if err != nil {
			return err
		}
		n.filter = f
		n.host.Admit = f.Admit
	}
	if n.cfg.Private {
		n.host.AdmitPeer = n.named
		n.host.AdmitHTTP = func(a netip.Addr) bool { return a == localhost4 || a == localhost6 || n.named(a) }
	}
	return nil
}

func (n *Node) maxConns() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.limits.maxConns
}

var (
	localhost4 = netip.MustParseAddr("127.0.0.1")
	localhost6 = netip.IPv6Loopback()
)

// named tells whether a private node lets addr in: --download-from, --upload-to and
// --monitor-node-ip addresses (the IP only).
func (n *Node) named(a netip.Addr) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a == n.cfg.MonitorIP {
		return true
	}
	for _, list := range [][]netip.AddrPort{n.limits.downloadFrom, n.cfg.UploadTo} {
		if slices.ContainsFunc(list, func(ap netip.AddrPort) bool { return ap.Addr() == a }) {
			return true
		}
	}
	return false
}

// Addr is the peer/web address of the node.
func (n *Node) Addr() netip.AddrPort { return netip.AddrPortFrom(n.bind, n.port) }

// APIAddr is the player API address of a viewer, or nil.
func (n *Node) APIAddr() net.Addr {
	if n.api == nil {
		return nil
	}
	return n.api.Addr()
}

// Run serves until ctx ends.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { n.host.Run(ctx) })
	wg.Go(func() { n.web.Run(ctx) })
	if n.filter != nil {
		wg.Go(func() { n.filter.Run(ctx) })
	}
	n.log.Info("node listening", "addr", n.Addr().String())
	err := n.mode.run(ctx)
	cancel()
	wg.Wait()
	if n.filter != nil {
		n.filter.Close()
	}
	if n.live != "" {
		os.RemoveAll(n.live)
	}
	return err
}

// sessionConfig is the part of a session's configuration every mode shares.
func (n *Node) sessionConfig(role uint8) swarm.Config {
	n.mu.Lock()
	defer n.mu.Unlock()
	var uploadTo []netip.Addr
	for _, a := range n.cfg.UploadTo {
		uploadTo = append(uploadTo, a.Addr())
	}
	var cacheTime time.Duration
	if role == wire.RoleViewer {
		cacheTime = n.cfg.LiveCacheTime // relays keep the window viewers fetch from
	}
	return swarm.Config{
		Role: role, PeerID: n.peerID, Bind: n.bind, ListenPort: n.port, Trackers: n.cfg.Trackers,
		DownloadFrom: slices.Clone(n.limits.downloadFrom), MaxPeers: n.limits.maxPeers,
		MaxUploadSlots: n.limits.maxSlots, Private: n.cfg.Private, UploadTo: uploadTo,
		RotateBytes: n.cfg.RotateBytes, CacheSize: n.cfg.LiveCacheSize, CacheTime: cacheTime, CacheDir: n.live, Logger: n.log,
		WrapConn: n.wrapDialed(),
	}
}

// wrapDialed is the configured wrapper of the peer connections the node dials, or nil.
func (n *Node) wrapDialed() func(net.Conn) net.Conn {
	w := n.cfg.WrapPeerConn
	if w == nil {
		return nil
	}
	return func(c net.Conn) net.Conn { return w(c, true) }
}

// runSession serves a session until ctx ends.
func (n *Node) runSession(ctx context.Context, s *swarm.Session) error {
	n.mu.Lock()
	n.sessions[s] = true
	n.mu.Unlock()
	n.host.Add(s)
	defer func() {
		n.host.Remove(s)
		n.endSession(s)
	}()
	return s.Run(ctx)
}

func (n *Node) sessionList() []*swarm.Session {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*swarm.Session, 0, len(n.sessions))
	for s := range n.sessions {
		out = append(out, s)
	}
	return out
}

// ActiveStreams lists the streams a viewer engine is running a session for.
func (n *Node) ActiveStreams() []transport.InfoHash {
	if v, ok := n.mode.(*viewer); ok {
		return v.core.Active()
	}
	return nil
}

func roleOf(m Mode) uint8 {
	switch m {
	case Source:
		return wire.RoleSource
	case Support:
		return wire.RoleSupport
	case Startup:
		return wire.RoleStartup
	}
	return wire.RoleViewer
}
