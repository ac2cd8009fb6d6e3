package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/fanout"
)

// channelError is why a channel ended before it played: the status and one line for clients.
type channelError struct {
	status     int
	msg        string
	reason     string        // the metric label
	retryAfter time.Duration // with 503: when to come back
}

// channel is one content played through one engine session at a time, fanned out to its clients
// through its ring. Its run loop owns the upstream: it opens it, reopens it (same engine, then
// another) when it breaks or falls silent, and stops it after the last client left.
type channel struct {
	p       *Proxy
	key     string
	query   url.Values // what the engine is asked for
	ring    *fanout.Ring
	ing     *fanout.Ingest
	created time.Time

	lastData atomic.Int64 // unix nanoseconds of the newest upstream bytes, 0 before any
	bytesOut atomic.Int64

	mu        sync.Mutex // guards everything below
	clients   int
	idleSince time.Time
	leased    time.Time // HLS: kept alive until then
	ended     bool
	err       *channelError
	up        *upstream
	reopens   int
	failovers int
	hlsSeg    *segmenter
}

func newChannel(p *Proxy, key string, q url.Values) *channel {
	r := fanout.NewRing(p.cfg.BufferSize)
	now := time.Now()
	return &channel{p: p, key: key, query: q, ring: r, ing: fanout.NewIngest(r, now), created: now, idleSince: now}
}

// addClient counts a client in (+1) or out (-1).
func (c *channel) addClient(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients += d
	if c.clients == 0 {
		c.idleSince = time.Now()
	}
}

// lease keeps the channel alive for d without a connected client (HLS).
func (c *channel) lease(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leased = time.Now().Add(d)
}

// idle tells whether the channel should stop, and marks it ended if so: a client that joins
// after that gets a new channel.
func (c *channel) idle(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == 0 && now.Sub(c.idleSince) >= c.p.cfg.Linger && now.After(c.leased) {
		c.ended = true
	}
	return c.ended
}

// end marks the channel ended and closes the ring: clients get what is left, then EOF, or err.
func (c *channel) end(err *channelError) {
	c.mu.Lock()
	c.ended = true
	if c.err == nil {
		c.err = err
	}
	c.up = nil
	c.mu.Unlock()
	if err != nil {
		c.p.metrics.failures.WithLabelValues(err.reason).Inc()
		c.p.cfg.Logger.Info("channel failed", "channel", c.key, "reason", err.msg)
	}
	c.ring.Close(fanout.ErrEnded)
}

func (c *channel) failure() *channelError {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return &channelError{http.StatusBadGateway, "channel ended", "ended", 0}
}

func (c *channel) started() bool { return c.lastData.Load() != 0 }

// run plays the channel until it is idle, fails or ctx ends; then the last session is stopped.
func (c *channel) run(ctx context.Context) {
	c.p.metrics.channels.Inc()
	defer c.p.metrics.channels.Dec()
	defer c.p.forget(c)
	var prefer, avoid, last *engine
	for {
		now := time.Now()
		if ctx.Err() != nil {
			c.end(nil)
			return
		}
		if err := c.check(now); err != nil || c.idle(now) {
			c.end(err)
			return
		}
		up, failed, cerr := c.open(ctx, prefer, avoid)
		if cerr != nil {
			c.end(cerr)
			return
		}
		if up == nil {
			if failed != nil {
				prefer, avoid = nil, failed
			}
			continue
		}
		eng := up.eng
		c.p.announce(ctx, c.key, up)
		c.setUpstream(up, last)
		last = eng
		res := c.stream(ctx, up)
		c.p.stopSession(up, res.kind == endCtx || res.kind == endIdle || res.kind == endStatus, res.reason())
		c.p.pool.release(eng)
		switch res.kind {
		case endStatus:
			c.end(&channelError{http.StatusBadGateway, "engine: " + res.msg, "engine_error", 0})
			return
		case endIdle, endCtx:
			c.end(nil)
			return
		}
		prefer, avoid = eng, nil // a connection that played is tried once more on its engine
		if !res.delivered {
			prefer, avoid = nil, eng
		}
		c.noteReopen(eng)
	}
}

// open starts a session on an engine of the pool. Without a session and without an error, the
// caller tries again; failed is then the engine that did not answer.
func (c *channel) open(ctx context.Context, prefer, avoid *engine) (up *upstream, failed *engine, cerr *channelError) {
	eng := c.p.pool.acquire(prefer, avoid)
	if eng == nil { // every engine is full or unhealthy: provision one, or wait, up to the timeouts
		return nil, nil, c.provision(ctx)
	}
	up, err := startSession(ctx, c.p.client, eng, c.query, c.p.cfg.NoResponseTimeout)
	if err == nil {
		c.p.metrics.sessions.Inc()
		return up, nil, nil
	}
	c.p.pool.release(eng)
	var ae apiError
	if errors.As(err, &ae) && !c.started() {
		return nil, nil, &channelError{http.StatusBadGateway, "engine: " + ae.msg, "engine_error", 0}
	}
	c.p.cfg.Logger.Debug("engine session not started", "channel", c.key, "engine", eng.base.String(), "err", err)
	c.p.pool.markFailed(eng)
	c.p.sleep(ctx, 100*time.Millisecond)
	return nil, eng, nil
}

// provision asks the orchestrator for an engine when there is one; it returns an error for the
// clients when the channel has not played yet and none can be had. Without an orchestrator it
// waits a moment (the start and empty timeouts bound the waiting).
func (c *channel) provision(ctx context.Context) *channelError {
	if c.p.pool.orch == nil {
		c.p.sleep(ctx, 250*time.Millisecond)
		return nil
	}
	room, err := c.p.pool.provision(ctx)
	var nc errNoCapacity
	if errors.As(err, &nc) && !c.started() {
		return &channelError{http.StatusServiceUnavailable, "no engine available: " + nc.msg, "no_engine", nc.retryAfter}
	}
	if !room {
		c.p.sleep(ctx, time.Second)
	}
	return nil
}

// check returns why the channel must end now, or nil.
func (c *channel) check(now time.Time) *channelError {
	cfg := c.p.cfg
	switch last := c.lastData.Load(); {
	case last == 0 && now.Sub(c.created) >= cfg.StartTimeout:
		return &channelError{http.StatusGatewayTimeout, fmt.Sprintf("no data from the engine within %v", cfg.StartTimeout), "start_timeout", 0}
	case last != 0 && now.Sub(time.Unix(0, last)) >= cfg.EmptyTimeout:
		return &channelError{http.StatusGatewayTimeout, fmt.Sprintf("no data from the engine for %v", cfg.EmptyTimeout), "empty_timeout", 0}
	}
	return nil
}

// setUpstream records the channel's new session; a session on another engine than the last is
// a failover.
func (c *channel) setUpstream(up *upstream, last *engine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = up
	if last != nil && last != up.eng {
		c.failovers++
		c.p.metrics.failovers.Inc()
	}
}

func (c *channel) noteReopen(prev *engine) {
	c.ing.Reconnect(time.Now())
	c.mu.Lock()
	c.reopens++
	c.mu.Unlock()
	c.p.metrics.reopens.Inc()
	c.p.cfg.Logger.Info("upstream reopened", "channel", c.key, "engine", prev.base.String())
}
