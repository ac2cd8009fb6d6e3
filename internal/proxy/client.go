package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"
)

// waitStart waits for the channel's first random access point (or its newest one, on a channel
// that plays), or for its failure.
func (c *channel) waitStart(ctx context.Context) (rap, *channelError) {
	for {
		r, ok, changed, err := c.ring.waitRAP()
		switch {
		case ok:
			return r, nil
		case err != nil:
			return rap{}, c.failure()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return rap{}, nil
		}
	}
}

// serveTS streams the channel to one client from the access point start: the connection is
// taken over from net/http, and each wake-up writes everything new in one writev from the ring's
// own blocks. A client that falls out of the ring skips to the newest access point; one that
// takes nothing for -client-timeout is disconnected; neither slows anyone else.
func (p *Proxy) serveTS(w http.ResponseWriter, r *http.Request, c *channel, start rap, began time.Time) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot stream on this connection", http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(p.ctx, func() { conn.Close() }) // net/http no longer closes it
	defer stop()
	head := "HTTP/1.1 200 OK\r\n"
	if !r.ProtoAtLeast(1, 1) {
		head = "HTTP/1.0 200 OK\r\n"
	}
	head += "Content-Type: video/mp2t\r\nCache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n"
	cl := client{p: p, c: c, conn: conn, bufs: make(net.Buffers, 0, 8)}
	cl.bufs = append(cl.bufs, []byte(head))
	if start.psi != nil {
		cl.bufs = append(cl.bufs, start.psi)
	}
	cl.run(start.off, began)
}

type client struct {
	p    *Proxy
	c    *channel
	conn net.Conn
	bufs net.Buffers // what the next write sends
}

func (cl *client) run(off int64, began time.Time) {
	first := true
	for {
		bufs, end, changed, err := cl.c.ring.read(off, cl.bufs)
		if errors.Is(err, errBehind) {
			if !cl.skip(&off) {
				return
			}
			continue
		}
		if len(bufs) > 0 {
			if !cl.write(bufs) {
				return
			}
			if first {
				cl.p.metrics.ttfb.Observe(time.Since(began).Seconds())
				first = false
			}
			off = end
		}
		cl.bufs = cl.bufs[:0]
		if err != nil { // the channel ended and everything was sent
			return
		}
		select {
		case <-changed:
		case <-cl.p.ctx.Done():
			return
		}
	}
}

// write sends bufs in one writev with the client's deadline.
func (cl *client) write(bufs net.Buffers) bool {
	cl.conn.SetWriteDeadline(time.Now().Add(cl.p.cfg.ClientTimeout))
	n, err := bufs.WriteTo(cl.conn)
	cl.p.metrics.bytesOut.Add(float64(n))
	cl.c.bytesOut.Add(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		cl.p.metrics.slowDrops.Inc()
		cl.p.cfg.Logger.Info("slow client disconnected", "channel", cl.c.key, "client", cl.conn.RemoteAddr().String())
	}
	return err == nil
}

// skip moves a client that fell out of the ring to the newest access point.
func (cl *client) skip(off *int64) bool {
	r, ok := cl.c.ring.newest()
	if !ok {
		return false
	}
	cl.p.metrics.skips.Inc()
	*off = r.off
	if r.psi != nil {
		cl.bufs = append(cl.bufs, r.psi)
	}
	return true
}
