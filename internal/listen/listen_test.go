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
