package proxy

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// How a connection to the engine is watched.
const (
	watchEvery       = 250 * time.Millisecond
	statEveryWaiting = time.Second     // stat_url polls before the channel's first data
	statEveryPlaying = 5 * time.Second // ... and after
	readSize         = 64 << 10
)

type endKind int

const (
	endBroken endKind = iota // the connection failed or ended
	endSilent                // no bytes for -stall-timeout (or -start-timeout before the first)
	endSick                  // the engine failed its health checks
	endStatus                // the engine's stat_url reported an error
	endIdle                  // no clients left
	endCtx                   // the proxy is stopping
)

type streamResult struct {
	kind      endKind
	msg       string
	delivered bool // the connection gave bytes
}

// reason is how the orchestrator's stream_ended event names the end.
func (r streamResult) reason() string {
	switch r.kind {
	case endIdle:
		return "client_disconnect"
	case endCtx:
		return "proxy_stopped"
	case endStatus:
		return "engine_error"
	case endSick:
		return "engine_unhealthy"
	}
	return "upstream_failed"
}

type statResult struct {
	status, msg string
}

// stream plays one engine session into the ring until it breaks, falls silent, its engine
// turns unhealthy, the engine reports an error, the channel is idle or ctx ends.
func (c *channel) stream(ctx context.Context, up *upstream) streamResult {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opened := time.Now()
	var delivered atomic.Bool
	readDone := make(chan error, 1)
	go func() { readDone <- c.read(sctx, up, &delivered) }()
	finish := func(kind endKind, msg string) streamResult {
		cancel()
		<-readDone
		return streamResult{kind: kind, msg: msg, delivered: delivered.Load()}
	}
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	stats := make(chan statResult, 1)
	polling, statDue := false, opened
	for {
		select {
		case err := <-readDone:
			c.p.cfg.Logger.Debug("upstream connection ended", "channel", c.key, "err", err)
			return streamResult{kind: endBroken, delivered: delivered.Load()}
		case <-ctx.Done():
			return finish(endCtx, "")
		case s := <-stats:
			polling = false
			if s.status == "err" {
				return finish(endStatus, s.msg)
			}
		case now := <-tick.C:
			switch {
			case c.idle(now):
				return finish(endIdle, "")
			case c.silent(now, opened):
				return finish(endSilent, "")
			case !c.p.pool.healthy(up.eng):
				return finish(endSick, "")
			case !polling && !now.Before(statDue):
				polling = true
				statDue = now.Add(statEveryPlaying)
				if !c.started() {
					statDue = now.Add(statEveryWaiting)
				}
				c.p.wg.Go(func() { stats <- c.poll(sctx, up) })
			}
		}
	}
}

// silent tells whether the connection opened at opened has gone quiet for too long: before the
// channel's first bytes, until -start-timeout; after them, -stall-timeout.
func (c *channel) silent(now, opened time.Time) bool {
	if !c.started() {
		return now.Sub(c.created) >= c.p.cfg.StartTimeout
	}
	last := time.Unix(0, c.lastData.Load())
	if last.Before(opened) {
		last = opened
	}
	return now.Sub(last) >= c.p.cfg.StallTimeout
}

func (c *channel) poll(ctx context.Context, up *upstream) statResult {
	status, msg, err := up.status(ctx, c.p.client)
	if err != nil {
		return statResult{}
	}
	if status == "err" && msg == "" {
		msg = "stream error"
	}
	return statResult{status, msg}
}

// read GETs the playback URL and feeds the body to the ingest until it fails or ctx ends.
func (c *channel) read(ctx context.Context, up *upstream, delivered *atomic.Bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, up.playbackURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("playback URL: HTTP %d", resp.StatusCode)
	}
	buf := make([]byte, readSize)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			now := time.Now()
			if prev := c.lastData.Load(); !delivered.Load() && prev != 0 {
				c.p.metrics.upstreamGap.Observe(now.Sub(time.Unix(0, prev)).Seconds())
			}
			c.ing.Write(buf[:n], now)
			c.p.metrics.bytesIn.Add(float64(n))
			c.lastData.Store(now.UnixNano())
			delivered.Store(true)
		}
		if err != nil {
			return err
		}
	}
}
