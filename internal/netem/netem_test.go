package netem

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer accepts one connection on loopback and echoes it.
func echoServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	return l.Addr().String()
}

func dialDelayed(t *testing.T, d time.Duration) net.Conn {
	nc, err := net.Dial("tcp", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c := Delay(nc, d)
	t.Cleanup(func() { c.Close() })
	return c
}

// A round trip through a connection delayed by d takes at least 2d (a lower bound only: a busy
// machine can only make it longer).
func TestRoundTripTakesTwiceTheDelay(t *testing.T) {
	const d = 40 * time.Millisecond
	c := dialDelayed(t, d)
	start := time.Now()
	c.Write([]byte("ping"))
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Fatalf("%q %v", b, err)
	}
	if rtt := time.Since(start); rtt < 2*d {
		t.Fatalf("round trip %v, want at least %v", rtt, 2*d)
	}
}

// Bytes arrive whole and in order, whatever the sizes of the writes.
func TestBytesArriveInOrder(t *testing.T) {
	c := dialDelayed(t, 5*time.Millisecond)
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(rand.IntN(256))
	}
	go func() {
		for b := want; len(b) > 0; {
			n := min(len(b), 1+rand.IntN(20000))
			c.Write(b[:n])
			b = b[n:]
		}
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echo differs (err %v)", err)
	}
}

// A read deadline that passes while data is still in flight ends that read; the data is read by
// the next call.
func TestReadDeadlineKeepsData(t *testing.T) {
	c := dialDelayed(t, 100*time.Millisecond)
	c.Write([]byte("x"))
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	b := make([]byte, 1)
	if _, err := c.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read before the data was due: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	if n, err := c.Read(b); n != 1 || b[0] != 'x' {
		t.Fatalf("after the deadline: %d %v", n, err)
	}
}

// Closing ends reads and writes at once; the other end closing gives EOF.
func TestClose(t *testing.T) {
	c := dialDelayed(t, 10*time.Millisecond)
	done := make(chan error)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}

	a, b := net.Pipe()
	da := Delay(a, 10*time.Millisecond)
	b.Close()
	if _, err := da.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("read after the other end closed: %v", err)
	}
}
