package memnet

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
)

// A dial reaches the listener at its address, both ends report TCP addresses, and bytes flow;
// a dial to nowhere is refused, and a closed listener accepts nothing.
func TestDialAndListen(t *testing.T) {
	n := New()
	at := netip.MustParseAddrPort("10.0.0.1:9000")
	l, err := n.Listen(at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(at); err == nil {
		t.Fatal("a second listener at the same address")
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte(c.RemoteAddr().String()))
			c.Close()
		}
	}()
	c, err := n.Dialer(netip.MustParseAddr("10.0.0.2"))(context.Background(), at.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	if got := string(b); got != "10.0.0.2:40001" || c.RemoteAddr().String() != "10.0.0.1:9000" {
		t.Fatalf("the listener saw %q; the dialer sees %s", got, c.RemoteAddr())
	}
	if _, err := n.Dialer(netip.MustParseAddr("10.0.0.2"))(context.Background(), "10.0.0.9:9000"); !errors.Is(err, ErrRefused) {
		t.Fatalf("dial to nowhere: %v", err)
	}
	l.Close()
	if _, err := l.Accept(); err == nil {
		t.Fatal("accept after close")
	}
	if _, err := n.Dialer(netip.MustParseAddr("10.0.0.2"))(context.Background(), at.String()); !errors.Is(err, ErrRefused) {
		t.Fatalf("dial to a closed listener: %v", err)
	}
}
