package engine

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
	"github.com/aceswarm/aceswarm/internal/transport"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0") // free on every address: player APIs listen on all of them
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runNode starts a node; it stops when the test ends.
func runNode(t *testing.T, ctx context.Context, cfg Config) *Node {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = t.TempDir()
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return n
}

// runSource starts a source looping the test clip and waits for its transport file.
func runSource(t *testing.T, ctx context.Context, ip string, edit func(*Config)) (*Node, *transport.File, string) {
	t.Helper()
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ts")
	os.WriteFile(clip, testclip.TS, 0o644)
	cfg := Config{
		Mode: Source, Bind: ip, Source: clip, SourceLoop: true, Name: "s", Title: "S", Quality: "SD",
		Category: "sport", Bitrate: 30000, PublishDir: dir, CacheDir: dir,
	}
	if edit != nil {
		edit(&cfg)
	}
	n := runNode(t, ctx, cfg)
	path := filepath.Join(dir, cfg.Name+".acelive")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f, _, err := transport.Load(ctx, http.DefaultClient, path); err == nil {
			return n, f, path
		}
	}
	t.Fatal("no transport file")
	return nil, nil, ""
}

// player reads a stream from a viewer engine and counts the bytes.
type player struct {
	bytes atomic.Int64
	done  chan struct{}
}

func play(t *testing.T, ctx context.Context, url string) *player {
	t.Helper()
	p := &player{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(p.done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			p.bytes.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// starts waits for the first bytes.
func (p *player) starts(t *testing.T, name string) {
	t.Helper()
	waitFor(t, 10*time.Second, name+" receives its first bytes", func() bool { return p.bytes.Load() > 0 })
}

// keepsPlaying fails unless the player receives data within each of the next periods.
func (p *player) keepsPlaying(t *testing.T, name string, periods int, each time.Duration) {
	t.Helper()
	for i := range periods {
		before := p.bytes.Load()
		time.Sleep(each)
		if p.bytes.Load() == before {
			t.Fatalf("%s got no data in period %d of %v", name, i+1, each)
		}
	}
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within %v", what, d)
}

func getJSON(t *testing.T, url string, from string) (int, []byte) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		client.Transport = &http.Transport{DialContext: d.DialContext}
	}
	resp, err := client.Get(url)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func streamURL(v *Node, path string) string {
	return fmt.Sprintf("http://%s/ace/getstream?url=%s", v.APIAddr(), path)
}

// badServer answers /garbage with text that is not JSON and /500 with an error.
func badServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/500" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("<html>not json"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
