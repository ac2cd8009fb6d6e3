package listen

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// flaky fails its first accepts with an error, then accepts from the real listener.
type flaky struct {
	net.Listener
	fails int
	err   error
}

func (f *flaky) Accept() (net.Conn, error) {
	if f.fails > 0 {
		f.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", f.err)}
	}
	return f.Listener.Accept()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Running out of file descriptors is waited out; the listener goes on accepting. A closed
// listener ends Accept.
func TestAcceptOutlivesEMFILE(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{Listener: ln, fails: 5, err: syscall.EMFILE}
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	nc, err := Accept(context.Background(), f, quiet)
	if err != nil {
		t.Fatalf("after EMFILE: %v", err)
	}
	nc.Close()
	ln.Close()
	if _, err := Accept(context.Background(), f, quiet); err == nil || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed listener: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f2 := &flaky{Listener: ln, fails: 1000, err: syscall.EMFILE}
	if _, err := Accept(ctx, f2, quiet); err == nil {
		t.Fatal("an ended context did not end Accept")
	}
}

// Connections over the total or the per-address cap are closed at once; closing one makes room.
func TestCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := Cap(ln, 3, 2)
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			nc, err := c.Accept()
			if err != nil {
				return
			}
			accepted <- nc
		}
	}()
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		nc, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	closedSoon := func(nc net.Conn) bool {
		nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := nc.Read(make([]byte, 1))
		ne, ok := err.(net.Error)
		return err != nil && !(ok && ne.Timeout())
	}
	a1, a2 := dial("127.0.0.1"), dial("127.0.0.1")
	if a3 := dial("127.0.0.1"); !closedSoon(a3) {
		t.Fatal("a third connection from one address was kept (per-address cap 2)")
	}
	b1 := dial("127.0.0.2")
	if b2 := dial("127.0.0.2"); !closedSoon(b2) {
		t.Fatal("a fourth connection was kept (cap 3)")
	}
	if closedSoon(a1) || closedSoon(a2) || closedSoon(b1) {
		t.Fatal("a connection within the caps was closed")
	}
	(<-accepted).Close()
	if b3 := dial("127.0.0.2"); closedSoon(b3) {
		t.Fatal("no room after a close")
	}
}
