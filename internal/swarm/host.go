package swarm

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/listen"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// Host owns a node's main port: it tells the peer protocol from HTTP by the first byte, routes
// peer connections to the session of their infohash, and serves HTTP with the given handler.
type Host struct {
	PeerID [20]byte
	// Admit, when set, decides whether a connection from addr is served at all; it runs before
	// anything is read from the connection. An admitted connection's release runs when it closes.
	Admit func(addr netip.Addr) (release func(), ok bool)
	// AdmitPeer and AdmitHTTP, when set, decide once the first byte told which protocol it is.
	AdmitPeer func(addr netip.Addr) bool
	AdmitHTTP func(addr netip.Addr) bool
	// MaxConns, when set, bounds the accepted connections open at once.
	MaxConns func() int
	// Wrap, when set, wraps each accepted connection before anything is read from it (benchmarks
	// shape links with it).
	Wrap func(net.Conn) net.Conn

	open atomic.Int64 // accepted connections not yet closed

	ln      net.Listener
	handler http.Handler
	log     *slog.Logger
	httpLn  *chanListener

	mu       sync.Mutex // guards sessions
	sessions map[transport.InfoHash]*Session
}

// NewHost returns a host on a listening socket; it starts nothing.
func NewHost(ln net.Listener, peerID [20]byte, handler http.Handler, log *slog.Logger) *Host {
	return &Host{
		PeerID: peerID, ln: listen.Cap(ln, 0, MaxConnsPerAddress), handler: handler, log: log,
		httpLn: newChanListener(ln.Addr()), sessions: map[transport.InfoHash]*Session{},
	}
}

// Addr is the listening address.
func (h *Host) Addr() net.Addr { return h.ln.Addr() }

// Add makes a session reachable by peers.
func (h *Host) Add(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[s.InfoHash()] = s
}

// Remove stops routing peers to a session.
func (h *Host) Remove(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.InfoHash()] == s {
		delete(h.sessions, s.InfoHash())
	}
}

func (h *Host) session(ih transport.InfoHash) *Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[ih]
}

// MaxConnsPerAddress bounds the connections one address may hold open on a node's port (peers
// and web requests together); more are closed at once.
const MaxConnsPerAddress = 64

// Run accepts connections until ctx ends.
func (h *Host) Run(ctx context.Context) error {
	srv := &http.Server{Handler: h.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(h.httpLn) })
	go func() {
		<-ctx.Done()
		h.ln.Close()
		h.httpLn.Close()
	}()
	for {
		nc, err := listen.Accept(ctx, h.ln, h.log)
		if err != nil {
			if ctx.Err() != nil {
				shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				srv.Shutdown(shutdown)
				cancel()
				srv.Close()
				wg.Wait()
				return nil
			}
			return err
		}
		wg.Go(func() { h.serve(ctx, nc) })
	}
}

// OpenConns is the number of accepted connections open now.
func (h *Host) OpenConns() int { return int(h.open.Load()) }

func (h *Host) serve(ctx context.Context, raw net.Conn) {
	h.open.Add(1)
	if h.Wrap != nil {
		raw = h.Wrap(raw)
	}
	nc := &countedConn{Conn: raw, open: &h.open}
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	addr := ap.Addr().Unmap()
	if h.MaxConns != nil && h.OpenConns() > h.MaxConns() {
		nc.Close()
		return
	}
	if h.Admit != nil {
		release, ok := h.Admit(addr)
		if !ok {
			nc.Close()
			return
		}
		nc.release = release
	}
	nc.SetReadDeadline(time.Now().Add(handshakeWait))
	br := bufio.NewReader(nc)
	first, err := br.Peek(1)
	if err != nil {
		nc.Close()
		return
	}
	pc := &peekedConn{Conn: nc, r: br}
	isHTTP := first[0] != wire.FirstByte
	if (isHTTP && h.AdmitHTTP != nil && !h.AdmitHTTP(addr)) || (!isHTTP && h.AdmitPeer != nil && !h.AdmitPeer(addr)) {
		nc.Close()
		return
	}
	if isHTTP {
		nc.SetReadDeadline(time.Time{})
		if !h.httpLn.push(ctx, pc) {
			nc.Close()
		}
		return
	}
	hs, err := wire.ReadHandshake(pc)
	var s *Session
	if err == nil {
		s = h.session(transport.InfoHash(hs.InfoHash))
	}
	if s == nil {
		nc.Close()
		return
	}
	nc.SetDeadline(time.Now().Add(handshakeWait))
	_, err = nc.Write(wire.Handshake{InfoHash: hs.InfoHash, PeerID: h.PeerID}.Marshal())
	if err != nil || hs.PeerID == h.PeerID { // a node that dialed itself learns so from our peer id
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	s.Accept(pc, hs)
}

// peekedConn reads through the buffered reader that peeked at the first bytes.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// chanListener is a net.Listener fed with connections that turned out to be HTTP.
type chanListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(ctx context.Context, c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
	case <-ctx.Done():
	}
	return false
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// countedConn keeps the host's count of open connections.
type countedConn struct {
	net.Conn
	open    *atomic.Int64
	release func() // the filter's, when it admitted the connection
	once    sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.open.Add(-1)
		if c.release != nil {
			c.release()
		}
	})
	return c.Conn.Close()
}
