package proxy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/aceswarm/aceswarm/internal/fanout"
)

// waitStart waits for the channel's first random access point (or its newest one, on a channel
// that plays), or for its failure.
func (c *channel) waitStart(ctx context.Context) (fanout.RAP, *channelError) {
	r, err := c.ring.WaitStart(ctx)
	if err != nil && ctx.Err() == nil {
		return r, c.failure()
	}
	return r, nil
}

// serveTS streams the channel to one client from the access point start on a connection taken
// over from net/http (see fanout.Client): a client that falls out of the ring skips to the
// newest access point; one that takes nothing for -client-timeout is disconnected.
func (p *Proxy) serveTS(w http.ResponseWriter, r *http.Request, c *channel, start fanout.RAP, began time.Time) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot stream on this connection", http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(p.ctx, func() { conn.Close() }) // net/http no longer closes it
	defer stop()
	first := true
	cl := fanout.Client{Conn: conn, Timeout: p.cfg.ClientTimeout,
		Wrote: func(n, _ int64) {
			p.metrics.bytesOut.Add(float64(n))
			c.bytesOut.Add(n)
			if first {
				p.metrics.ttfb.Observe(time.Since(began).Seconds())
				first = false
			}
		},
		Skipped: p.metrics.skips.Inc,
	}
	err = cl.Run(p.ctx, c.ring, start, fanout.Head(r))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		p.metrics.slowDrops.Inc()
		p.cfg.Logger.Info("slow client disconnected", "channel", c.key, "client", conn.RemoteAddr().String())
	}
}
