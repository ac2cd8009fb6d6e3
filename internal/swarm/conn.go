package swarm

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	sendQueue     = 512
	keepAlive     = 30 * time.Second
	idleTimeout   = 90 * time.Second
	writeTimeout  = 30 * time.Second
	handshakeWait = 10 * time.Second
)

// errConnClosed ends a reader whose connection was closed from this side.
var errConnClosed = errors.New("connection closed")

// conn is one peer connection: a reader and a writer goroutine around a net.Conn.
type conn struct {
	nc     net.Conn
	id     [20]byte
	remote netip.AddrPort
	out    chan []byte
	closed chan struct{}
	once   atomic.Bool
	sent   *atomic.Int64 // session-wide byte counters
	recv   *atomic.Int64
}

type event struct {
	c   *conn
	msg *wire.Message
	err error // the connection ended; never nil when msg is nil (readLoop sees to it)
}

func newConn(nc net.Conn, id [20]byte, sent, recv *atomic.Int64) *conn {
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	return &conn{
		nc: nc, id: id, remote: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()),
		out: make(chan []byte, sendQueue), closed: make(chan struct{}), sent: sent, recv: recv,
	}
}

// send queues a message; it returns false (and the message is dropped) when the queue is full.
func (c *conn) send(m *wire.Message) bool {
	select {
	case c.out <- m.Append(nil):
		return true
	case <-c.closed:
		return false
	default:
		return false
	}
}

func (c *conn) close() {
	if c.once.CompareAndSwap(false, true) {
		close(c.closed)
		c.nc.Close()
	}
}

// readLoop decodes frames into events until the connection fails.
func (c *conn) readLoop(ctx context.Context, inbox chan<- event) {
	var err error
	defer func() {
		c.close()
		if err == nil {
			err = errConnClosed // closed from our side (writer failed, peer dropped): still an end
		}
		select {
		case inbox <- event{c: c, err: err}:
		case <-ctx.Done():
		}
	}()
	for {
		c.nc.SetReadDeadline(time.Now().Add(idleTimeout))
		var frame []byte
		if frame, err = wire.ReadFrame(c.nc, nil); err != nil {
			return
		}
		c.recv.Add(int64(len(frame) + 4))
		var m *wire.Message
		if m, err = wire.Decode(frame); err != nil {
			return
		}
		if m.Type == wire.KeepAlive {
			continue
		}
		select {
		case inbox <- event{c: c, msg: m}:
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		}
	}
}

// writeLoop sends queued frames and keep-alives.
func (c *conn) writeLoop() {
	defer c.close()
	ka := time.NewTimer(keepAlive)
	defer ka.Stop()
	for {
		var b []byte
		select {
		case <-c.closed:
			return
		case b = <-c.out:
		case <-ka.C:
			b = (&wire.Message{Type: wire.KeepAlive}).Append(nil)
		}
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(b); err != nil {
			return
		}
		c.sent.Add(int64(len(b)))
		ka.Reset(keepAlive)
	}
}
