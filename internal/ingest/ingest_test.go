package ingest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

func collect(t *testing.T, in *Input, ctx context.Context, want int) []byte {
	t.Helper()
	go in.Run(ctx)
	var got []byte
	for b := range in.Out {
		got = append(got, b...)
		if len(got) >= want {
			break
		}
	}
	return got
}

func TestBadSources(t *testing.T) {
	for src, want := range map[string]string{
		"":                                     "--source is required",
		"rtmp://x/y":                           "unsupported scheme",
		"udp://127.0.0.1":                      "needs a port",
		"/no/such/file.ts":                     "--source",
		"udp://@239.1.1.1:5000?localaddr=eth0": "localaddr",
	} {
		if _, err := New(Config{Source: src}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", src, err)
		}
	}
	if _, err := New(Config{Source: "udp://127.0.0.1:5000", Loop: true}); err == nil {
		t.Error("loop accepted for udp")
	}
}

func TestStdinAndGarbageResync(t *testing.T) {
	junk := append([]byte("junk!"), testclip.TS[:188*20]...)
	in, err := New(Config{Source: "-", Stdin: bytes.NewReader(junk)})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, in, context.Background(), 188*20)
	if !bytes.Equal(got, testclip.TS[:188*20]) {
		t.Fatalf("got %d bytes, not the clip", len(got))
	}
}

func TestFileIsPacedInRealTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.ts")
	os.WriteFile(path, testclip.TS, 0o644)
	in, err := New(Config{Source: path, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	got := collect(t, in, ctx, len(testclip.TS)/8) // about 2 s of the 16 s clip
	if d := time.Since(start); d < time.Second {
		t.Fatalf("2 s of stream came in %v: not paced", d)
	}
	if len(got)%188 != 0 {
		t.Fatal("not whole packets")
	}
}

func TestHTTPReconnects(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if hits == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write(testclip.TS[:188*10])
	}))
	defer srv.Close()
	in, _ := New(Config{Source: srv.URL + "/live.ts"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := collect(t, in, ctx, 188*20)
	if len(got) < 188*20 || hits < 3 {
		t.Fatalf("%d bytes after %d connections", len(got), hits)
	}
}

func TestUDP(t *testing.T) {
	l, _ := net.ListenPacket("udp", "127.0.0.1:0")
	addr := l.LocalAddr().String()
	l.Close()
	in, err := New(Config{Source: "udp://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go sendClip(t, ctx, addr)
	if got := collect(t, in, ctx, 188*70); len(got) < 188*70 {
		t.Fatalf("got %d bytes", len(got))
	}
}

// sendClip sends the clip to a UDP address, 7 packets per datagram, until ctx ends.
func sendClip(t *testing.T, ctx context.Context, addr string) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	for i := 0; ctx.Err() == nil; i = (i + 7) % 1000 {
		c.Write(testclip.TS[i*188 : (i+7)*188])
		time.Sleep(5 * time.Millisecond)
	}
}
