package proxy

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Proxy serves clients from channels it opens on a pool of engines.
type Proxy struct {
	cfg     Config
	pool    *pool
	client  *http.Client // to the engines: API calls and playback connections
	metrics *metrics
	ctx     context.Context // the Run context: channels live in it
	wg      sync.WaitGroup  // channels and their helpers
	clients sync.WaitGroup  // requests being served (their connections are taken from net/http)

	mu       sync.Mutex // guards channels
	channels map[string]*channel
}

// New checks cfg and returns a proxy; it starts nothing.
func New(cfg Config) (*Proxy, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Listener == nil {
		return nil, fmt.Errorf("-addr: no listener")
	}
	if cfg.BufferSize < MinBufferSize {
		cfg.Logger.Warn("buffer size raised to the ring's minimum", "buffer_size", cfg.BufferSize, "min", MinBufferSize)
		cfg.BufferSize = MinBufferSize
	}
	var urls []*url.URL
	for _, e := range cfg.Engines {
		u, _ := parseEngineURL(e)
		urls = append(urls, u)
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32, // no cap on connections per engine: every channel has its own
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	var orch *orchestrator
	if cfg.Orchestrator != "" {
		u, _ := url.Parse(cfg.Orchestrator)
		orch = &orchestrator{base: u, key: cfg.OrchestratorKey, proxyID: cfg.ContainerID, client: client}
	}
	return &Proxy{cfg: cfg, pool: newPool(urls, orch, cfg.MaxPerEngine, client, cfg.Logger), client: client, metrics: newMetrics(),
		channels: map[string]*channel{}}, nil
}

// Addr is where the proxy listens.
func (p *Proxy) Addr() net.Addr { return p.cfg.Listener.Addr() }

// Run serves until ctx ends, then stops every engine session and returns once all have ended.
func (p *Proxy) Run(ctx context.Context) error {
	p.mu.Lock()
	p.ctx = ctx
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.pool.Run(ctx) })
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	wg.Go(func() {
		<-ctx.Done()
		srv.Close()
	})
	p.cfg.Logger.Info("proxy listening", "addr", p.Addr().String(), "engines", p.cfg.Engines)
	err := srv.Serve(p.cfg.Listener)
	wg.Wait()
	p.clients.Wait()
	p.wg.Wait() // every channel has stopped its session
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// errJoin is why a request gets no channel.
type errJoin struct {
	status int
	msg    string
}

// join returns the channel of key with the caller counted as a client, starting it when there
// is none (or only one that has ended). Every client that arrives while it opens shares it.
func (p *Proxy) join(key string, q url.Values) (*channel, *errJoin) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil || p.ctx.Err() != nil {
		return nil, &errJoin{http.StatusServiceUnavailable, "proxy is stopping"}
	}
	c := p.channels[key]
	if c != nil {
		c.mu.Lock()
		if !c.ended {
			c.clients++
			c.mu.Unlock()
			return c, nil
		}
		c.mu.Unlock()
	}
	if len(p.channels) >= p.cfg.MaxChannels {
		return nil, &errJoin{http.StatusServiceUnavailable, fmt.Sprintf("too many channels (-max-channels %d)", p.cfg.MaxChannels)}
	}
	c = newChannel(p, key, q)
	c.clients = 1
	p.channels[key] = c
	p.wg.Go(func() { c.run(p.ctx) })
	return c, nil
}

// forget removes an ended channel.
func (p *Proxy) forget(c *channel) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.channels[c.key] == c {
		delete(p.channels, c.key)
	}
}

func (p *Proxy) list() []*channel {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Values(p.channels))
}

// announce tells the orchestrator, if any, that a session started (in the background).
func (p *Proxy) announce(ctx context.Context, key string, up *upstream) {
	if p.pool.orch == nil {
		return
	}
	up.orchID = make(chan string, 1)
	p.wg.Go(func() {
		id, err := p.pool.orch.started(ctx, up.eng, p.pool.containerOf(up.eng), key, up)
		if err != nil {
			p.cfg.Logger.Warn("orchestrator stream_started failed", "err", err)
		}
		up.orchID <- id
	})
}

// stopSession asks the engine to stop a session and tells the orchestrator, if any, why it
// ended; wait makes the caller wait for the engine's answer (3 s at most), otherwise it is sent
// in the background.
func (p *Proxy) stopSession(up *upstream, wait bool, reason string) {
	stop := func() {
		if err := up.stop(p.client); err != nil {
			p.cfg.Logger.Debug("engine stop failed", "engine", up.eng.base.String(), "err", err)
		}
		if up.orchID == nil {
			return
		}
		if id := <-up.orchID; id != "" {
			if err := p.pool.orch.ended(context.Background(), p.pool.containerOf(up.eng), id, reason); err != nil {
				p.cfg.Logger.Warn("orchestrator stream_ended failed", "err", err)
			}
		}
	}
	if wait {
		stop()
		return
	}
	p.wg.Go(stop)
}

// sleep waits d or until ctx ends.
func (p *Proxy) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
