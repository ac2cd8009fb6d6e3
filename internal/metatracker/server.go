package metatracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/configfile"
)

// ServerConfig configures `aceswarm metatracker`.
type ServerConfig struct {
	Listen     string
	ConfigPath string
	Reload     time.Duration // how often the file is checked for changes
	Logger     *slog.Logger
}

// Server answers metatracker requests and re-reads its configuration when the file changes.
type Server struct {
	cfg  ServerConfig
	ln   net.Listener
	file *configfile.File

	metrics *metrics

	mu      sync.Mutex // guards current
	current *Config
}

// New reads the configuration and binds the socket; a bad configuration is an error.
func New(cfg ServerConfig) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Reload == 0 {
		cfg.Reload = time.Second
	}
	if cfg.ConfigPath == "" {
		return nil, fmt.Errorf("--config is required")
	}
	s := &Server{cfg: cfg, metrics: newMetrics()}
	s.file = configfile.New(cfg.ConfigPath, s.apply, cfg.Logger)
	if err := s.file.Load(); err != nil {
		return nil, fmt.Errorf("--config %s: %w", cfg.ConfigPath, err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	s.ln = ln
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

func (s *Server) apply(b []byte) error {
	c, err := ParseConfig(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = c
	return nil
}

func (s *Server) config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// ServeHTTP answers GET /?infohash=HEX and GET <path>?infohash=HEX, and /metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.config()
	if r.URL.Path == "/metrics" && c.Path != "/metrics" {
		s.metrics.handler().ServeHTTP(w, r)
		return
	}
	if r.URL.Path != "/" && r.URL.Path != c.Path {
		s.metrics.requests.WithLabelValues("not_found").Inc()
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	ih := r.URL.Query().Get("infohash")
	if !isInfoHash(strings.ToLower(ih)) {
		s.metrics.requests.WithLabelValues("bad_infohash").Inc()
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "infohash: want 40 hex digits"})
		return
	}
	s.metrics.requests.WithLabelValues("ok").Inc()
	json.NewEncoder(w).Encode(c.Lookup(ih))
}

// Run serves until ctx ends, re-reading the configuration when the file changes (and on SIGHUP).
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(s.ln) })
	s.cfg.Logger.Info("metatracker listening", "addr", s.Addr().String())
	s.file.Run(ctx, s.cfg.Reload)
	srv.Close()
	wg.Wait()
	return nil
}
