package swarm

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
	"golang.org/x/time/rate"
)

// Two queues per connection: control messages (everything but blocks) are never dropped — a peer
// that lets ctrlQueue of them pile up is not reading and is hung up on — and go out before any
// block; blocks (PIECE) wait in sendQueue and are dropped, and counted, when it is full (the
// requester asks again elsewhere after requestTimeout).
const (
	ctrlQueue     = 256
	sendQueue     = 128
	keepAlive     = 30 * time.Second
	idleTimeout   = 90 * time.Second
	writeTimeout  = 30 * time.Second
	handshakeWait = 10 * time.Second
	unsentLimit   = 32 << 10 // bytes a peer socket may hold unsent (limitUnsent): two blocks
)

// errConnClosed ends a reader whose connection was closed from this side.
var errConnClosed = errors.New("connection closed")

// A peer may send msgRate messages a second, in bursts of msgBurst (a viewer of a 20 Mbit/s
// stream sends and receives a few hundred); beyond that its connection ends with errFlood and
// it is banned.
const (
	msgRate  = 1000
	msgBurst = 2000
)

var errFlood = errors.New("message budget exceeded")

// conn is one peer connection: a reader and a writer goroutine around a net.Conn.
type conn struct {
	nc     net.Conn
	r      *bufio.Reader // reads nc, so that the small frames that arrive together take one read
	id     [20]byte
	remote netip.AddrPort
	box    *outbox    // frames waiting for the writer
	queued blockQueue // the blocks in box, for CANCEL
	closed chan struct{}
	once   atomic.Bool
	n      *counters // the session's
}

// counters are a session's wire counters, shared by its connections.
type counters struct {
	sent, recv atomic.Int64 // bytes
	dropped    atomic.Int64 // blocks dropped because a peer's queue was full
}

type event struct {
	c   *conn
	msg *wire.Message
	err error // the connection ended; never nil when msg is nil (readLoop sees to it)
}

func newConn(nc net.Conn, id [20]byte, n *counters) *conn {
	limitUnsent(nc)
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	return &conn{
		nc: nc, r: bufio.NewReaderSize(nc, readBuffer), id: id, remote: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()),
		box: newOutbox(), closed: make(chan struct{}), n: n,
		queued: blockQueue{keys: map[blockKey]queuedBlock{}},
	}
}

// send queues a message and reports whether it will go out: a block is dropped (and counted)
// when the block queue is full, and not queued twice while it waits; a control message is never
// dropped — a connection whose control queue is full is closed instead.
func (c *conn) send(m *wire.Message) bool { return c.queue(m, false) }

// queue is send, for a block forwarded unasked (to a tree child) when fwd is set.
func (c *conn) queue(m *wire.Message, fwd bool) bool {
	block := m.Type == wire.Piece
	k := blockKey{m.Number, m.Block}
	if block && !c.queued.add(k, len(m.Data), fwd) {
		return false
	}
	if c.once.Load() { // closed
		if block {
			c.queued.take(k)
		}
		return false
	}
	if c.box.push(m.Append(nil), block) {
		return true
	}
	if block {
		c.queued.take(k)
		c.n.dropped.Add(1)
	} else {
		c.close() // the peer reads nothing: a dropped CHOKE or HAVE would leave it wrong for good
	}
	return false
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
	budget := rate.NewLimiter(msgRate, msgBurst)
	for {
		c.nc.SetReadDeadline(time.Now().Add(idleTimeout))
		var frame []byte
		if frame, err = wire.ReadFrame(c.r, nil); err != nil {
			return
		}
		if !budget.Allow() {
			err = errFlood
			return
		}
		c.n.recv.Add(int64(len(frame) + 4))
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

// writeLoop sends queued frames, control messages first, and keep-alives.
func (c *conn) writeLoop() {
	defer c.close()
	ka := time.NewTimer(keepAlive)
	defer ka.Stop()
	for {
		b, block, ok := c.box.pop()
		if !ok {
			select {
			case <-c.closed:
				return
			case <-c.box.ready:
				continue
			case <-ka.C:
				b = (&wire.Message{Type: wire.KeepAlive}).Append(nil)
			}
		}
		if block {
			if _, ok := c.queued.take(frameBlock(b)); !ok {
				continue // cancelled: the peer got it elsewhere meanwhile
			}
		}
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(b); err != nil {
			return
		}
		c.n.sent.Add(int64(len(b)))
		ka.Reset(keepAlive)
	}
}

// readBuffer bytes of buffer let the small frames that arrive together take one read.
const readBuffer = 4 << 10
