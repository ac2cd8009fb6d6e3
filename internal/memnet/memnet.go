// Package memnet is a network in memory: listeners at IP:port addresses and dials between them
// over net.Pipe, with the addresses a TCP connection would report. Swarms run on it in virtual
// time (testing/synctest): nothing in it touches the operating system's network or clock.
package memnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// Network holds the listeners of one simulated network.
type Network struct {
	mu        sync.Mutex
	listeners map[netip.AddrPort]*Listener
	nextPort  map[netip.Addr]uint16
}

// New returns an empty network.
func New() *Network {
	return &Network{listeners: map[netip.AddrPort]*Listener{}, nextPort: map[netip.Addr]uint16{}}
}

// ErrRefused is a dial to an address nobody listens on.
var ErrRefused = errors.New("connection refused")

// Listen listens at addr.
func (n *Network) Listen(addr netip.AddrPort) (*Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.listeners[addr]; ok {
		return nil, fmt.Errorf("listen %s: address already in use", addr)
	}
	l := &Listener{n: n, addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

// Dialer returns a dial function for connections from ip (each gets a port of its own).
func (n *Network) Dialer(ip netip.Addr) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		to, err := netip.ParseAddrPort(addr)
		if err != nil {
			return nil, err
		}
		n.mu.Lock()
		l := n.listeners[to]
		n.nextPort[ip]++
		from := netip.AddrPortFrom(ip, 40000+n.nextPort[ip])
		n.mu.Unlock()
		if l == nil {
			return nil, fmt.Errorf("dial %s: %w", addr, ErrRefused)
		}
		a, b := net.Pipe()
		mine, theirs := &conn{a, from, to}, &conn{b, to, from}
		select {
		case l.conns <- theirs:
			return mine, nil
		case <-l.done:
			return nil, fmt.Errorf("dial %s: %w", addr, ErrRefused)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Listener is a net.Listener on a Network.
type Listener struct {
	n     *Network
	addr  netip.AddrPort
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.n.mu.Lock()
		delete(l.n.listeners, l.addr)
		l.n.mu.Unlock()
	})
	return nil
}

func (l *Listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.addr) }

// conn is one end of a pipe with TCP addresses.
type conn struct {
	net.Conn
	local, remote netip.AddrPort
}

func (c *conn) LocalAddr() net.Addr  { return net.TCPAddrFromAddrPort(c.local) }
func (c *conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }
