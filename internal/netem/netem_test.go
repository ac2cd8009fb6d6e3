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

// pair returns the two ends of a loopback TCP connection, each shaped by its link.
func pair(t *testing.T, la, lb Link) (net.Conn, net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	sa, sb := Shape(a, la), Shape(b, lb)
	t.Cleanup(func() { sa.Close(); sb.Close() })
	return sa, sb
}

// echo copies what b reads back to it.
func echo(b net.Conn) { go io.Copy(b, b) }

// A round trip between two ends delayed by d takes at least 2d (a lower bound only: a busy
// machine can only make it longer).
func TestRoundTripTakesTwiceTheDelay(t *testing.T) {
	const d = 40 * time.Millisecond
	a, b := pair(t, Link{Delay: d}, Link{Delay: d})
	echo(b)
	start := time.Now()
	a.Write([]byte("ping"))
	got := make([]byte, 4)
	if _, err := io.ReadFull(a, got); err != nil || string(got) != "ping" {
		t.Fatalf("%q %v", got, err)
	}
	if rtt := time.Since(start); rtt < 2*d {
		t.Fatalf("round trip %v, want at least %v", rtt, 2*d)
	}
}

// Bytes arrive whole and in order, whatever the sizes of the writes and however the delay jitters.
func TestBytesArriveInOrderWithJitter(t *testing.T) {
	l := Link{Delay: 5 * time.Millisecond, Jitter: 5 * time.Millisecond}
	a, b := pair(t, l, l)
	echo(b)
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(rand.IntN(256))
	}
	go func() {
		for w := want; len(w) > 0; {
			n := min(len(w), 1+rand.IntN(20000))
			a.Write(w[:n])
			w = w[n:]
		}
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(a, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echo differs (err %v)", err)
	}
}

// readAll reads n bytes from c and returns how long that took.
func readAll(t *testing.T, c net.Conn, n int) time.Duration {
	start := time.Now()
	if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// An uplink sends no faster than its rate, and two connections of one node share it: 512 KiB
// over a 512 KiB/s uplink, half on each connection, take about a second in all (lower bound:
// the 64 KiB the queue holds may be written at once).
func TestUplinkIsSharedByTheNodesConnections(t *testing.T) {
	up := NewUplink(512 << 10)
	a1, b1 := pair(t, Link{Up: up}, Link{})
	a2, b2 := pair(t, Link{Up: up}, Link{})
	const half = 256 << 10
	start := time.Now()
	for _, c := range []net.Conn{a1, a2} {
		go func() {
			buf := make([]byte, 16<<10)
			for range half / len(buf) {
				c.Write(buf)
			}
		}()
	}
	done := make(chan time.Duration, 2)
	for _, c := range []net.Conn{b1, b2} {
		go func() { done <- readAll(t, c, half) }()
	}
	<-done
	<-done
	if took := time.Since(start); took < 850*time.Millisecond {
		t.Fatalf("512 KiB over a 512 KiB/s uplink in %v", took)
	}
}

// A write waits while the uplink's queue is full, and its deadline ends the wait.
func TestWriteDeadlineWhileTheUplinkIsFull(t *testing.T) {
	a, _ := pair(t, Link{Up: NewUplink(16 << 10)}, Link{})
	a.Write(make([]byte, 128<<10)) // eight seconds of queue
	a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := a.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write into a full uplink: %v", err)
	}
}

// A link that stalls holds what is sent for 0.2 s at least; the bytes still arrive whole.
func TestStallsHoldDelivery(t *testing.T) {
	a, b := pair(t, Link{Stalls: 1e6}, Link{})
	time.Sleep(time.Millisecond) // so that a stall is drawn at the write
	a.Write([]byte("late"))
	if took := readAll(t, b, 4); took < 200*time.Millisecond {
		t.Fatalf("a stalled link delivered in %v", took)
	}
}

// Closing ends writes at once and the other end reads EOF.
func TestClose(t *testing.T) {
	a, b := pair(t, Link{Delay: 10 * time.Millisecond}, Link{})
	a.Close()
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the other end closed: %v", err)
	}
}
