package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"

	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// Node is one running aceswarm node.
type Node struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	host   *swarm.Host
	mux    *http.ServeMux
	peerID [20]byte
	bind   netip.Addr
	port   uint16
	api    net.Listener // viewer: player API
	mode   modeRunner
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
	n := &Node{cfg: cfg, log: cfg.Logger.With("mode", cfg.Mode.String()), mux: http.NewServeMux(), peerID: swarm.NewPeerID()}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("--port %d: %w", cfg.Port, err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	n.ln, n.port, n.bind = ln, ap.Port(), ap.Addr().Unmap()
	n.host = swarm.NewHost(ln, n.peerID, n.mux, n.log)
	switch cfg.Mode {
	case Source:
		n.mode, err = newSource(n)
	case Support, Startup:
		n.mode = &relay{n: n}
	default:
		n.mode, err = newViewer(n)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	return n, nil
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
	n.log.Info("node listening", "addr", n.Addr().String())
	err := n.mode.run(ctx)
	cancel()
	wg.Wait()
	return err
}

// sessionConfig is the part of a session's configuration every mode shares.
func (n *Node) sessionConfig(role uint8) swarm.Config {
	return swarm.Config{
		Role: role, PeerID: n.peerID, Bind: n.bind, ListenPort: n.port, Trackers: n.cfg.Trackers,
		DownloadFrom: n.cfg.DownloadFrom, MaxPeers: n.cfg.MaxPeers, CacheSize: n.cfg.LiveCacheSize, Logger: n.log,
	}
}

// runSession serves a session until ctx ends.
func (n *Node) runSession(ctx context.Context, s *swarm.Session) error {
	n.host.Add(s)
	defer n.host.Remove(s)
	return s.Run(ctx)
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

// ActiveStreams lists the streams a viewer engine is running a session for.
func (n *Node) ActiveStreams() []transport.InfoHash {
	if v, ok := n.mode.(*viewer); ok {
		return v.active()
	}
	return nil
}
