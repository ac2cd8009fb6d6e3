package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/engineapi"
	"github.com/aceswarm/aceswarm/internal/playerapi"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/version"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// viewer serves the player API and runs one session per stream being played.
type viewer struct {
	n  *Node
	wg sync.WaitGroup

	mu      sync.Mutex      // guards ctx, api, streams
	ctx     context.Context // set by run; sessions live under it
	api     *playerapi.Handler
	streams map[transport.InfoHash]*stream
}

// stream is one session and its players.
type stream struct {
	sess    *swarm.Session
	cancel  context.CancelFunc
	players int
	idle    *time.Timer
}

func newViewer(n *Node) (*viewer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(n.cfg.HTTPPort)))
	if err != nil {
		return nil, fmt.Errorf("--http-port %d: %w", n.cfg.HTTPPort, err)
	}
	n.api = ln
	return &viewer{n: n, streams: map[transport.InfoHash]*stream{}}, nil
}

func (v *viewer) run(ctx context.Context) error {
	cfg := v.n.cfg
	api := playerapi.New(ctx, playerapi.Config{
		BindAll: cfg.BindAll, StartTimeout: cfg.StartTimeout, Activity: cfg.Activity, WriteTimeout: cfg.PlayerTimeout, CacheLimit: cfg.LiveCacheSize, CacheDir: cfg.CacheDir,
		Version: version.Version, Logger: v.n.log,
	}, v)
	v.mu.Lock()
	v.ctx, v.api = ctx, api
	v.mu.Unlock()
	v.wg.Go(func() { api.Run(ctx) })
	v.startEngineAPI(ctx, api)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	v.n.log.Info("player API listening", "addr", v.n.api.Addr().String())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	err := srv.Serve(v.n.api)
	v.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Open returns the session of c, starting it if needed.
func (v *viewer) Open(_ context.Context, c playerapi.Content) (*swarm.Session, func(), error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ctx == nil || v.ctx.Err() != nil {
		return nil, nil, fmt.Errorf("engine is stopping")
	}
	st := v.streams[c.InfoHash]
	if st == nil {
		var err error
		if st, err = v.start(c); err != nil {
			return nil, nil, err
		}
		v.streams[c.InfoHash] = st
	}
	st.players++
	if st.idle != nil {
		st.idle.Stop()
		st.idle = nil
	}
	var once sync.Once
	return st.sess, func() { once.Do(func() { v.release(c.InfoHash, st) }) }, nil
}

// start creates and runs a session; v.mu is held.
func (v *viewer) start(c playerapi.Content) (*stream, error) {
	cfg := v.n.sessionConfig(wire.RoleViewer)
	cfg.InfoHash, cfg.File, cfg.Raw = c.InfoHash, c.File, c.Raw
	cfg.Trackers = append(append([]string(nil), cfg.Trackers...), c.Trackers...)
	s, err := swarm.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(v.ctx)
	v.wg.Go(func() { v.n.runSession(ctx, s) })
	v.n.log.Info("stream started", "infohash", c.InfoHash.String())
	return &stream{sess: s, cancel: cancel}, nil
}

// release ends one player's use; the session stops IdleStop after its last player.
func (v *viewer) release(ih transport.InfoHash, st *stream) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st.players--
	if st.players > 0 {
		return
	}
	st.idle = time.AfterFunc(v.n.cfg.IdleStop, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		if st.players == 0 && v.streams[ih] == st {
			delete(v.streams, ih)
			st.cancel()
			v.n.log.Info("stream stopped", "infohash", ih.String())
		}
	})
}

// active lists the streams with a running session.
func (v *viewer) active() []transport.InfoHash {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []transport.InfoHash
	for ih := range v.streams {
		out = append(out, ih)
	}
	return out
}

// startEngineAPI serves the legacy TCP engine API on --api-port; a port that cannot be had is
// logged and the engine goes on without it (the API is deprecated; several engines on one machine
// cannot all have 62062).
func (v *viewer) startEngineAPI(ctx context.Context, api *playerapi.Handler) {
	if v.n.cfg.APIPort <= 0 {
		return
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(v.n.cfg.APIPort)))
	if err != nil {
		v.n.log.Warn("legacy engine API not started", "api_port", v.n.cfg.APIPort, "err", err)
		return
	}
	port := v.n.api.Addr().(*net.TCPAddr).Port
	srv := engineapi.New(engineapi.Config{
		Listener: ln, HTTPPort: port, Version: version.Version, VersionCode: playerapi.VersionCode(version.Version),
		Admit: func(a net.Addr) bool {
			ap, err := netip.ParseAddrPort(a.String())
			return err == nil && api.Allowed(ap.Addr())
		},
		Logger: v.n.log,
	}, api)
	v.n.log.Info("legacy engine API listening", "addr", ln.Addr().String())
	v.wg.Go(func() { srv.Run(ctx) })
}
