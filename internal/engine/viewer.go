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

	"github.com/aceswarm/aceswarm/internal/dashboard"
	"github.com/aceswarm/aceswarm/internal/engineapi"
	"github.com/aceswarm/aceswarm/internal/listen"
	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/playerapi"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/version"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// Bounds of the viewer's ports (docs/http-api.md): connections open at once on the player API
// (players and API calls; one over it is closed at once) and on the TCP API, and the size of a
// request's line and headers. Idle connections close after 30 s, silent ones after 10 s.
const (
	MaxPlayerConns = 1024
	MaxAPIConns    = 256
	maxHeaderBytes = 64 << 10
)

// viewer serves the player API and the TCP engine API, adapters over one playback core that
// runs a swarm session per stream being played.
type viewer struct {
	n    *Node
	wg   sync.WaitGroup
	core *playback.Core
	api  *playerapi.Handler
}

// ringSlack is how far behind its pace (--live-delay) a player may fall before it skips to the
// newest keyframe: each stream's fan-out ring keeps LiveDelay plus ringSlack of stream, at most
// LiveCacheTime, and always its newest access point (fanout.Ring.KeepFor), so a player joins at
// once whatever the keyframe interval. Holding no more halves what a viewer engine's
// players cost in memory (the ring held the live cache's 10 s).
const ringSlack = 4 * time.Second

// ringTime is how much of a stream each fan-out ring keeps (see ringSlack).
func ringTime(cfg Config) time.Duration {
	if cfg.LiveCacheTime <= 0 {
		return 0
	}
	return min(cfg.LiveCacheTime, cfg.LiveDelay+ringSlack)
}

func newViewer(n *Node) (*viewer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(n.cfg.HTTPPort)))
	if err != nil {
		return nil, fmt.Errorf("--http-port %d: %w", n.cfg.HTTPPort, err)
	}
	n.api = ln
	cfg := n.cfg
	v := &viewer{n: n}
	v.core = playback.New(playback.Config{
		StartTimeout: cfg.StartTimeout, Activity: cfg.Activity, IdleStop: cfg.IdleStop, WriteTimeout: cfg.PlayerTimeout,
		MemoryBase: cfg.MemoryBase, RingTime: ringTime(cfg), LiveDelay: cfg.LiveDelay, Logger: n.log,
		Started: func(d time.Duration) { n.metrics.startup.Observe(d.Seconds()) },
	}, v.startSession)
	v.api = playerapi.New(playerapi.Config{
		OwnPorts: []int{ln.Addr().(*net.TCPAddr).Port, int(n.port), cfg.APIPort},
		BindAll:  cfg.BindAll, CacheLimit: cfg.LiveCacheSize, CacheDir: cfg.CacheDir, Version: version.Version, Logger: n.log,
		Metrics:   n.metrics.Handler(),
		Dashboard: dashboard.Handler(dashboard.Config{Snapshot: n.dashboardSnapshot, PlayerPage: true}),
	}, v.core)
	return v, nil
}

func (v *viewer) run(ctx context.Context) error {
	v.wg.Go(func() { v.core.Run(ctx) })
	v.startEngineAPI(ctx, v.api)
	srv := &http.Server{Handler: v.api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	v.n.log.Info("player API listening", "addr", v.n.api.Addr().String())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	err := srv.Serve(listen.Cap(v.n.api, MaxPlayerConns, 0))
	v.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// startSession creates the swarm session of c (or plays its direct_url) and runs it until ctx
// ends.
func (v *viewer) startSession(ctx context.Context, c playback.Content) (playback.Source, error) {
	if c.DirectURL != "" {
		return v.newDirectSource(ctx, c)
	}
	cfg := v.n.sessionConfig(wire.RoleViewer)
	cfg.InfoHash, cfg.File, cfg.Raw = c.InfoHash, c.File, c.Raw
	cfg.Trackers = append(append([]string(nil), cfg.Trackers...), c.Trackers...)
	s, err := swarm.New(cfg)
	if err != nil {
		return nil, err
	}
	v.wg.Go(func() { v.n.runSession(ctx, s) })
	return s, nil
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
		Listener: listen.Cap(ln, MaxAPIConns, 0), HTTPPort: port, Version: version.Version, VersionCode: playerapi.VersionCode(version.Version),
		Admit: func(a net.Addr) bool {
			ap, err := netip.ParseAddrPort(a.String())
			return err == nil && api.Allowed(ap.Addr())
		},
		Logger: v.n.log,
	}, api)
	v.n.log.Info("legacy engine API listening", "addr", ln.Addr().String())
	v.wg.Go(func() { srv.Run(ctx) })
}
