package metatracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
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
	cfg ServerConfig
	ln  net.Listener

	mu      sync.Mutex // guards current, modTime
	current *Config
	modTime time.Time
	size    int64
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
	s := &Server{cfg: cfg}
	if err := s.load(); err != nil {
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

func (s *Server) load() error {
	st, err := os.Stat(s.cfg.ConfigPath)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(s.cfg.ConfigPath)
	if err != nil {
		return err
	}
	c, err := ParseConfig(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modTime, s.size = st.ModTime(), st.Size() // a bad edit is not retried until the file changes again
	if err != nil {
		return err
	}
	s.current = c
	return nil
}

func (s *Server) changed() bool {
	st, err := os.Stat(s.cfg.ConfigPath)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !st.ModTime().Equal(s.modTime) || st.Size() != s.size
}

func (s *Server) config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// ServeHTTP answers GET /?infohash=HEX and GET <path>?infohash=HEX.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.config()
	if r.URL.Path != "/" && r.URL.Path != c.Path {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	ih := r.URL.Query().Get("infohash")
	if !isInfoHash(strings.ToLower(ih)) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "infohash: want 40 hex digits"})
		return
	}
	json.NewEncoder(w).Encode(c.Lookup(ih))
}

// Run serves until ctx ends, re-reading the configuration when the file changes (and on SIGHUP).
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(s.ln) })
	s.cfg.Logger.Info("metatracker listening", "addr", s.Addr().String())
	t := time.NewTicker(s.cfg.Reload)
	defer t.Stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			srv.Close()
			wg.Wait()
			return nil
		case <-hup:
			s.reload()
		case <-t.C:
			if s.changed() {
				s.reload()
			}
		}
	}
}

func (s *Server) reload() {
	if err := s.load(); err != nil {
		s.cfg.Logger.Error("config not reloaded; the previous one stays in force", "config", s.cfg.ConfigPath, "err", err)
		return
	}
	s.cfg.Logger.Info("config reloaded", "config", s.cfg.ConfigPath)
}
