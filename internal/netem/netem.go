package netem

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

const queued = 256 // chunks in flight each way before writers or the pump wait

type chunk struct {
	at time.Time // when it may be delivered
	b  []byte
}

// conn delays both directions of a net.Conn by d. Deadlines apply to the calls on conn: a
// deadline set while a call waits takes effect at the next call.
type conn struct {
	net.Conn
	d      time.Duration
	out    chan chunk
	in     chan chunk
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	rdl, wdl time.Time
	werr     error // the underlying write failed
	rerr     error // the underlying read ended; reported once in is drained

	readMu  sync.Mutex
	pending chunk // the rest of the chunk being read
}

// Delay returns c with d added to each direction; d ≤ 0 returns c itself.
func Delay(c net.Conn, d time.Duration) net.Conn {
	if d <= 0 {
		return c
	}
	dc := &conn{Conn: c, d: d, out: make(chan chunk, queued), in: make(chan chunk, queued), closed: make(chan struct{})}
	go dc.pumpOut()
	go dc.pumpIn()
	return dc
}

func (c *conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	err, dl := c.werr, c.wdl
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	timeout, stop := deadline(dl)
	defer stop()
	select {
	case c.out <- chunk{time.Now().Add(c.d), bytes.Clone(b)}:
		return len(b), nil
	case <-c.closed:
		return 0, net.ErrClosed
	case <-timeout:
		return 0, os.ErrDeadlineExceeded
	}
}

func (c *conn) Read(b []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	c.mu.Lock()
	dl := c.rdl
	c.mu.Unlock()
	timeout, stop := deadline(dl)
	defer stop()
	if len(c.pending.b) == 0 {
		select {
		case ch, ok := <-c.in:
			if !ok {
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.rerr == nil {
					return 0, net.ErrClosed
				}
				return 0, c.rerr
			}
			c.pending = ch
		case <-c.closed:
			return 0, net.ErrClosed
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		}
	}
	if err := c.sleepUntil(c.pending.at, timeout); err != nil {
		return 0, err // the chunk stays pending for the next call
	}
	n := copy(b, c.pending.b)
	c.pending.b = c.pending.b[n:]
	return n, nil
}

// sleepUntil waits until t unless the connection closes or timeout fires first.
func (c *conn) sleepUntil(t time.Time, timeout <-chan time.Time) error {
	w := time.Until(t)
	if w <= 0 {
		return nil
	}
	tm := time.NewTimer(w)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-c.closed:
		return net.ErrClosed
	case <-timeout:
		return os.ErrDeadlineExceeded
	}
}

// pumpOut writes queued chunks to the connection when they are due.
func (c *conn) pumpOut() {
	for {
		select {
		case ch := <-c.out:
			if c.sleepUntil(ch.at, nil) != nil {
				return
			}
			if _, err := c.Conn.Write(ch.b); err != nil {
				c.mu.Lock()
				c.werr = err
				c.mu.Unlock()
				c.Close()
				return
			}
		case <-c.closed:
			return
		}
	}
}

// pumpIn reads the connection into chunks stamped with their delivery time.
func (c *conn) pumpIn() {
	defer close(c.in)
	for {
		buf := make([]byte, 32<<10)
		n, err := c.Conn.Read(buf)
		if n > 0 {
			select {
			case c.in <- chunk{time.Now().Add(c.d), buf[:n]}:
			case <-c.closed:
				return
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = io.EOF
			}
			c.mu.Lock()
			c.rerr = err
			c.mu.Unlock()
			return
		}
	}
}

// Close closes the connection; data still in flight is dropped.
func (c *conn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.Conn.Close()
	})
	return err
}

func (c *conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.mu.Unlock()
	return nil
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return nil
}

// deadline returns a channel that fires at t (never when t is zero) and its stop function.
func deadline(t time.Time) (<-chan time.Time, func()) {
	if t.IsZero() {
		return nil, func() {}
	}
	tm := time.NewTimer(time.Until(t))
	return tm.C, func() { tm.Stop() }
}
