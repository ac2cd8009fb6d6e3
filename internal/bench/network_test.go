package bench

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for s, want := range map[string]Rate{
		"3000000": {Bits: 3e6}, "750k": {Bits: 750e3}, "3M": {Bits: 3e6}, "1G": {Bits: 1e9}, "1.5x": {Times: 1.5},
	} {
		if got, err := ParseRate(s); err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", s, got, err, want)
		}
		if r, _ := ParseRate(s); r.String() != s && s != "3M" && s != "750k" && s != "1G" {
			t.Errorf("%q prints as %q", s, r.String())
		}
	}
	for _, s := range []string{"", "x", "0x", "-1.5x", "3Q", "k", "0", "-3M", "fast"} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if b := (Rate{Times: 1.5}).bytesPerSecond(2e6); b != 375e3 {
		t.Errorf("1.5x of 2 Mbit/s: %v bytes/s", b)
	}
}

// Exactly the NAT share of the viewers placed so far is behind a NAT, spread among them.
func TestNATShare(t *testing.T) {
	l := newLinks(Network{NAT: 0.5}, 2e6)
	for i := range 50 {
		l.placeViewer(netip.MustParseAddr(fmt.Sprintf("127.0.1.%d", i+1)))
	}
	if n := l.natCount(); n != 25 {
		t.Fatalf("%d of 50 viewers behind a NAT, want 25", n)
	}
	if l.natted[netip.MustParseAddr("127.0.1.1")] == l.natted[netip.MustParseAddr("127.0.1.2")] {
		t.Fatal("two neighbours placed alike: the share is not spread")
	}
}

// A dial to a viewer behind a NAT fails after the connect timeout, and nothing reaches it; a dial
// to a reachable node takes a round trip and then carries bytes.
func TestDialsIntoANATFail(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	l := newLinks(Network{RTT: 40 * time.Millisecond, NAT: 1}, 2e6)
	natted, _ := net.Listen("tcp", "127.0.1.77:0")
	open, _ := net.Listen("tcp", "127.0.1.78:0")
	defer natted.Close()
	defer open.Close()
	l.placeViewer(netip.MustParseAddr("127.0.1.77"))
	wrap := l.wrap(Rate{})
	go func() {
		c, err := open.Accept()
		if err == nil {
			c.Write([]byte("hi"))
		}
	}()

	c, _ := net.Dial("tcp", natted.Addr().String())
	start := time.Now()
	wc := wrap(c, true)
	if _, err := wc.Write([]byte("x")); err == nil || time.Since(start) < natDialWait {
		t.Fatalf("a dial into a NAT: write error %v after %v", err, time.Since(start))
	}

	c, _ = net.Dial("tcp", open.Addr().String())
	start = time.Now()
	wc = wrap(c, true)
	defer wc.Close()
	if took := time.Since(start); took < 40*time.Millisecond {
		t.Fatalf("a dial took %v, under the 40ms round trip", took)
	}
	b := make([]byte, 2)
	if _, err := io.ReadFull(wc, b); err != nil || string(b) != "hi" {
		t.Fatalf("read %q %v", b, err)
	}
}

// A run that needs more open files than the process may have says so instead of failing
// accept by accept; a small one goes on.
func TestFileLimit(t *testing.T) {
	if err := raiseFileLimit(1, 50); err != nil {
		t.Fatalf("one viewer: %v", err)
	}
	err := raiseFileLimit(100_000_000, 50)
	if err == nil || !strings.Contains(err.Error(), "--viewers 100000000 needs about") {
		t.Fatalf("a hundred million viewers: %v", err)
	}
}
