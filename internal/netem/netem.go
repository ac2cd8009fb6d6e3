package netem

import (
	"math"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/fifo"
)

const queued = 256 // writes in flight on one connection before the writer waits

// Link describes one node's access link. It shapes what the node sends: each end of a
// connection shapes its own writes, so both directions of a link between two shaped nodes get
// their sender's delay and upload limit.
type Link struct {
	Delay  time.Duration // one-way propagation delay
	Jitter time.Duration // each write's delay varies uniformly within ±Jitter; order is kept, as TCP keeps it
	Stalls float64       // pauses per second on each connection, each 0.2–1 s (loss and its retransmission)
	Up     *Uplink       // the node's upload, shared by all its connections; nil: unlimited
}

// Shaped reports whether l changes anything.
func (l Link) Shaped() bool { return l.Delay > 0 || l.Jitter > 0 || l.Stalls > 0 || l.Up != nil }

// delay draws one write's propagation delay.
func (l Link) delay(rng *rand.Rand) time.Duration {
	d := l.Delay
	if l.Jitter > 0 {
		d += time.Duration(rng.Int64N(int64(2*l.Jitter)+1)) - l.Jitter
	}
	return max(d, 0)
}

// Uplink is a node's upload capacity: one queue, served at a fixed rate, that all the node's
// connections share, as a home router's uplink is shared.
type Uplink struct {
	rate    float64       // bytes per second
	backlog time.Duration // a writer waits while more than this is queued
	mu      sync.Mutex
	free    time.Time // when what is queued now will have been sent
}

// NewUplink returns an uplink of bytesPerSecond whose queue holds up to 64 KiB before writers wait.
func NewUplink(bytesPerSecond float64) *Uplink {
	return &Uplink{rate: bytesPerSecond, backlog: time.Duration(float64(64<<10) / bytesPerSecond * float64(time.Second))}
}

// reserve waits until the queue holds less than its limit, then queues n bytes; it returns when
// they will have left the node.
func (u *Uplink) reserve(n int, sleep func(time.Duration) error) (time.Time, error) {
	for {
		u.mu.Lock()
		now := time.Now()
		if u.free.Before(now) {
			u.free = now
		}
		if wait := u.free.Sub(now) - u.backlog; wait > 0 {
			u.mu.Unlock()
			if err := sleep(wait); err != nil {
				return time.Time{}, err
			}
			continue
		}
		u.free = u.free.Add(time.Duration(float64(n) / u.rate * float64(time.Second)))
		sent := u.free
		u.mu.Unlock()
		return sent, nil
	}
}

type chunk struct {
	at time.Time // when it may be delivered
	b  []byte
}

// conn shapes the writes of a net.Conn; reads go straight to it.
type conn struct {
	net.Conn
	link   Link
	ready  chan struct{} // a token while chunks wait: wakes the pump
	room   chan struct{} // a token once a chunk left: wakes a writer waiting for room
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex // guards the fields below
	out      fifo.Queue[chunk]
	rng      *rand.Rand
	last     time.Time // delivery time of the latest write: none is delivered before it
	paused   time.Time // a stall holds deliveries until then
	checked  time.Time // when a stall was last drawn
	werr     error     // the underlying write failed
	deadline time.Time // the write deadline
}

// Shape returns c with its writes shaped by l; an unshaped link returns c itself.
func Shape(c net.Conn, l Link) net.Conn {
	if !l.Shaped() {
		return c
	}
	sc := &conn{Conn: c, link: l, ready: make(chan struct{}, 1), room: make(chan struct{}, 1), closed: make(chan struct{}),
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), checked: time.Now()}
	go sc.pump()
	return sc
}

func (c *conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	err, dl := c.werr, c.deadline
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
	sent := time.Now()
	if c.link.Up != nil {
		var err error
		sent, err = c.link.Up.reserve(len(b), func(d time.Duration) error { return c.sleep(d, timeout) })
		if err != nil {
			return 0, err
		}
	}
	at := c.deliveryTime(sent, time.Now())
	ch := chunk{at, append([]byte(nil), b...)}
	for !c.enqueue(ch) {
		select {
		case <-c.room:
		case <-c.closed:
			return 0, net.ErrClosed
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		}
	}
	return len(b), nil
}

// enqueue hands ch to the pump unless queued chunks wait already.
func (c *conn) enqueue(ch chunk) bool {
	c.mu.Lock()
	ok := c.out.Len() < queued
	if ok {
		c.out.Push(ch)
	}
	c.mu.Unlock()
	if ok {
		signal(c.ready)
	}
	return ok
}

// dequeue takes the oldest queued chunk, if any.
func (c *conn) dequeue() (chunk, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out.Len() == 0 {
		return chunk{}, false
	}
	ch := c.out.Pop()
	signal(c.room)
	return ch, true
}

// signal leaves a token in t, a channel of capacity 1, unless one is there.
func signal(t chan struct{}) {
	select {
	case t <- struct{}{}:
	default:
	}
}

// deliveryTime is when bytes that leave the node at sent reach the other end: after the link's
// delay, not before earlier writes, and not while the link is stalled.
func (c *conn) deliveryTime(sent, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link.Stalls > 0 && now.After(c.paused) {
		p := 1 - math.Exp(-c.link.Stalls*now.Sub(c.checked).Seconds())
		c.checked = now
		if c.rng.Float64() < p {
			c.paused = now.Add(200*time.Millisecond + time.Duration(c.rng.Int64N(int64(800*time.Millisecond))))
		}
	}
	at := sent.Add(c.link.delay(c.rng))
	at = later(at, c.last)
	at = later(at, c.paused)
	c.last = at
	return at
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sleep waits d unless the connection closes or timeout fires first.
func (c *conn) sleep(d time.Duration, timeout <-chan time.Time) error {
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
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

// pump writes queued chunks to the connection when they are due.
func (c *conn) pump() {
	for {
		ch, ok := c.dequeue()
		if !ok {
			select {
			case <-c.ready:
				continue
			case <-c.closed:
				return
			}
		}
		if c.sleep(time.Until(ch.at), nil) != nil {
			return
		}
		if _, err := c.Conn.Write(ch.b); err != nil {
			c.mu.Lock()
			c.werr = err
			c.mu.Unlock()
			c.Close()
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
	c.SetWriteDeadline(t)
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
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
