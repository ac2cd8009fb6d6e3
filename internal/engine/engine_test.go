package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
	"github.com/aceswarm/aceswarm/internal/transport"
)

func runNode(t *testing.T, ctx context.Context, cfg Config) *Node {
	t.Helper()
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

// A viewer's session starts on the first request and stops IdleStop after its last player.
func TestViewerSessionLifetime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ts")
	os.WriteFile(clip, testclip.TS, 0o644)
	src := runNode(t, ctx, Config{
		Mode: Source, Bind: "127.0.0.40", Source: clip, SourceLoop: true, Name: "life", Title: "L", Quality: "SD",
		Category: "sport", Bitrate: 30000, PublishDir: dir, CacheDir: dir,
	})
	acelive := filepath.Join(dir, "life.acelive")
	var f *transport.File
	for deadline := time.Now().Add(5 * time.Second); f == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		f, _, _ = transport.Load(ctx, http.DefaultClient, acelive)
	}
	if f == nil {
		t.Fatal("no transport file")
	}
	view := runNode(t, ctx, Config{
		Mode: Viewer, Bind: "127.0.0.41", HTTPPort: freePort(t), IdleStop: 500 * time.Millisecond,
		DownloadFrom: []netip.AddrPort{src.Addr()},
	})
	if n := len(view.ActiveStreams()); n != 0 {
		t.Fatalf("%d streams before any request", n)
	}
	url := fmt.Sprintf("http://%s/ace/getstream?url=%s", view.APIAddr(), acelive)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 188*100); err != nil {
		t.Fatal(err)
	}
	if got := view.ActiveStreams(); len(got) != 1 || got[0] != f.InfoHash() {
		t.Fatalf("streams while playing: %v", got)
	}
	resp.Body.Close()
	time.Sleep(100 * time.Millisecond)
	if n := len(view.ActiveStreams()); n != 1 {
		t.Fatal("session stopped before its idle time")
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if len(view.ActiveStreams()) == 0 {
			return
		}
	}
	t.Fatal("session still running 5 s after its last player left")
}
