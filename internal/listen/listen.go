package listen

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Pauses after a passing accept error: from minPause, doubling, at most maxPause (as net/http).
const (
	minPause = 5 * time.Millisecond
	maxPause = time.Second
)

// Accept returns the next connection of ln. Errors that pass are logged once per run of them
// and waited out; it returns an error only when ln is closed or ctx ends.
func Accept(ctx context.Context, ln net.Listener, log *slog.Logger) (net.Conn, error) {
	pause := time.Duration(0)
	for {
		nc, err := ln.Accept()
		if err == nil {
			return nc, nil
		}
		if ctx.Err() != nil || !passing(err) {
			return nil, err
		}
		if pause == 0 {
			log.Warn("accept failed; retrying", "addr", ln.Addr().String(), "err", err)
			pause = minPause
		} else {
			pause = min(2*pause, maxPause)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// passing tells whether an accept error is one the listener outlives.
func passing(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Cap wraps ln so that at most max of its connections are open at once (0: no bound), at most
// perAddr from one address (0: no bound): a connection over a cap is closed as soon as it is
// accepted, so a flood of idle connections costs a bounded number of descriptors and goroutines
// and newcomers learn at once that they must come back.
func Cap(ln net.Listener, max, perAddr int) net.Listener {
	return &capped{Listener: ln, max: max, perAddr: perAddr, byAddr: map[netip.Addr]int{}}
}

type capped struct {
	net.Listener
	max, perAddr int

	mu     sync.Mutex // guards open, byAddr
	open   int
	byAddr map[netip.Addr]int
}

func (c *capped) Accept() (net.Conn, error) {
	for {
		nc, err := c.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
		a := ap.Addr().Unmap()
		c.mu.Lock()
		over := (c.max > 0 && c.open >= c.max) || (c.perAddr > 0 && c.byAddr[a] >= c.perAddr)
		if !over {
			c.open++
			c.byAddr[a]++
		}
		c.mu.Unlock()
		if over {
			nc.Close()
			continue
		}
		return &cappedConn{Conn: nc, l: c, addr: a}, nil
	}
}

// Open is the number of connections open now.
func (c *capped) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

type cappedConn struct {
	net.Conn
	l    *capped
	addr netip.Addr
	once sync.Once
}

func (c *cappedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		if c.l.byAddr[c.addr]--; c.l.byAddr[c.addr] <= 0 {
			delete(c.l.byAddr, c.addr)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
