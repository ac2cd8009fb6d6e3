package engineapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/listen"
	"github.com/aceswarm/aceswarm/internal/playback"
)

// Player is the player API the TCP API drives.
type Player interface {
	Resolve(ctx context.Context, kind, value string) (playback.Content, error)
	Describe(ctx context.Context, c playback.Content) (playback.Content, error)
	Open(c playback.Content, key string, hls bool) (*playback.Session, error)
}

// Config of the TCP API.
type Config struct {
	Listener    net.Listener
	HTTPPort    int    // where the playback URLs point
	Version     string // X.Y.Z
	VersionCode int
	Admit       func(addr net.Addr) bool // who may use it; nil: everyone
	Logger      *slog.Logger
}

// Server answers TCP API clients.
type Server struct {
	cfg    Config
	player Player
}

// New returns the server; it starts nothing.
func New(cfg Config, player Player) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, player: player}
}

// Run accepts clients until ctx ends; it returns after every client's goroutines ended.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { s.cfg.Listener.Close() })
	defer stop()
	for {
		nc, err := listen.Accept(ctx, s.cfg.Listener, s.cfg.Logger)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if s.cfg.Admit != nil && !s.cfg.Admit(nc.RemoteAddr()) {
			nc.Close()
			continue
		}
		c := &client{s: s, nc: nc}
		wg.Go(func() { c.serve(ctx) })
	}
}

// client is one TCP API connection.
type client struct {
	s      *Server
	nc     net.Conn
	authed bool
	apiVer int

	wmu sync.Mutex // serialises writes

	mu      sync.Mutex // guards session and cancel
	session *playback.Session
	cancel  context.CancelFunc
}

func (c *client) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		c.stopSession()
		c.nc.Close()
		wg.Wait()
	}()
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	defer stop()
	sc := bufio.NewScanner(c.nc)
	sc.Buffer(make([]byte, 64<<10), 4<<20) // START RAW carries a whole transport file
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if !c.handle(ctx, &wg, line) {
			return
		}
	}
}

// send writes one reply line; a client that does not take it within 10 s is dropped.
func (c *client) send(line string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
		c.nc.Close()
	}
}

// handshakeKey is the HELLOTS key: 10 alphanumerics (old clients take exactly 10 characters).
func handshakeKey() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		b[i] = chars[n.Int64()]
	}
	return string(b)
}

// params reads key=value words.
func params(words []string) map[string]string {
	out := map[string]string{}
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok {
			out[k] = v
		}
	}
	return out
}

func (c *client) hello(words []string) {
	fmt.Sscanf(params(words)["version"], "%d", &c.apiVer)
	c.send(fmt.Sprintf("HELLOTS version=%s version_code=%d key=%s http_port=%d",
		c.s.cfg.Version, c.s.cfg.VersionCode, handshakeKey(), c.s.cfg.HTTPPort))
}
