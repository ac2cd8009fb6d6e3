package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	httpTrackerServer "github.com/anacrolix/torrent/tracker/http/server"
	trackerServer "github.com/anacrolix/torrent/tracker/server"
	"github.com/anacrolix/torrent/tracker/udp"
	udpTrackerServer "github.com/anacrolix/torrent/tracker/udp/server"
)

// Handler answers HTTP announces (mounted at /announce).
func Handler(store *Store) http.Handler {
	return httpTrackerServer.Handler{Announce: &trackerServer.AnnounceHandler{AnnounceTracker: store}}
}

// Config of a standalone tracker.
type Config struct {
	Listen string // host:port for both HTTP (TCP) and UDP
	Logger *slog.Logger
}

// Server is `aceswarm tracker`: HTTP and UDP announces on one port.
type Server struct {
	cfg   Config
	Store *Store
	tcp   net.Listener
	udp   net.PacketConn
}

// New binds the sockets (so the caller can learn the address) and starts nothing.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return nil, fmt.Errorf("--listen %q: %w", cfg.Listen, err)
	}
	tl, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	ul, err := net.ListenPacket("udp", tl.Addr().String())
	if err != nil {
		tl.Close()
		return nil, fmt.Errorf("--listen (udp): %w", err)
	}
	return &Server{cfg: cfg, Store: NewStore(3 * Interval * time.Second), tcp: tl, udp: ul}, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.tcp.Addr() }

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("/announce", Handler(s.Store))
	mux.Handle("/metrics", MetricsHandler(s.Store))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	us := &udpTrackerServer.Server{
		ConnTracker: newConnTracker(),
		SendResponse: func(_ context.Context, b []byte, addr net.Addr) (int, error) {
			return s.udp.WriteTo(b, addr)
		},
		Announce: &trackerServer.AnnounceHandler{AnnounceTracker: s.Store},
	}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(s.tcp) })
	wg.Go(func() { udpTrackerServer.RunSimple(ctx, us, s.udp, udp.AddrFamilyIpv4) })
	s.cfg.Logger.Info("tracker listening", "http", "http://"+s.Addr().String()+"/announce", "udp", "udp://"+s.Addr().String())
	<-ctx.Done()
	srv.Close()
	s.udp.Close()
	wg.Wait()
	return nil
}

// connTracker remembers UDP connection ids for two minutes (BEP 15).
type connTracker struct {
	mu  sync.Mutex // guards ids
	ids map[string]map[udp.ConnectionId]time.Time
}

func newConnTracker() *connTracker {
	return &connTracker{ids: map[string]map[udp.ConnectionId]time.Time{}}
}

func (c *connTracker) Add(_ context.Context, addr string, id udp.ConnectionId) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for a, m := range c.ids { // expire old ones
		for i, t := range m {
			if now.Sub(t) > 2*time.Minute {
				delete(m, i)
			}
		}
		if len(m) == 0 {
			delete(c.ids, a)
		}
	}
	if c.ids[addr] == nil {
		c.ids[addr] = map[udp.ConnectionId]time.Time{}
	}
	c.ids[addr][id] = now
	return nil
}

func (c *connTracker) Check(_ context.Context, addr string, id udp.ConnectionId) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.ids[addr][id]
	if !ok || time.Since(t) > 2*time.Minute {
		return false, errors.New("unknown connection id")
	}
	return true, nil
}
