package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/engine"
	"github.com/aceswarm/aceswarm/internal/testclip"
	"github.com/aceswarm/aceswarm/internal/tracker"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// runDemo starts a tracker, a source looping the embedded clip, a support node and a viewer engine
// in this process, on distinct loopback addresses.
func runDemo(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm demo")
	httpPort := fs.Int("http-port", 6878, "player API port of the demo's viewer engine")
	log, err := parseWithLog(fs, args, env, "warn")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "aceswarm-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	clip := filepath.Join(dir, "clip.ts")
	if err := os.WriteFile(clip, testclip.TS, 0o644); err != nil {
		return err
	}
	tr, err := tracker.New(tracker.Config{Listen: "127.0.0.1:0", Logger: log})
	if err != nil {
		return err
	}
	trackerURL := "http://" + tr.Addr().String() + "/announce"
	src, err := engine.New(engine.Config{
		Mode: engine.Source, Bind: "127.0.0.2", Source: clip, SourceLoop: true, Name: "demo",
		Title: "aceswarm demo", Quality: "SD", Category: "amateur", Bitrate: int64(len(testclip.TS)) / 16,
		PublishDir: filepath.Join(dir, "publish"), CacheDir: filepath.Join(dir, "cache"),
		Trackers: []string{trackerURL}, Logger: log.With("node", "source"),
	})
	if err != nil {
		return fmt.Errorf("demo source on 127.0.0.2 (this needs Linux loopback addresses): %w", err)
	}
	acelive := filepath.Join(dir, "publish", "demo.acelive")
	sup, err := engine.New(engine.Config{
		Mode: engine.Support, Bind: "127.0.0.3", URL: acelive, DownloadFrom: []netip.AddrPort{src.Addr()},
		Logger: log.With("node", "support"),
	})
	if err != nil {
		return err
	}
	view, err := engine.New(engine.Config{
		Mode: engine.Viewer, Bind: "127.0.0.1", HTTPPort: *httpPort, Trackers: []string{trackerURL},
		Logger: log.With("node", "viewer"),
	})
	if err != nil {
		return usageError{err.Error()}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range []interface{ Run(context.Context) error }{tr, src, sup, view} {
		wg.Go(func() { r.Run(ctx) })
	}
	defer wg.Wait()
	f := waitFile(ctx, acelive)
	if f == nil {
		return nil
	}
	fmt.Fprintf(env.Stdout, "aceswarm demo: tracker %s, source %s, support %s, viewer engine on port %d\n",
		tr.Addr(), src.Addr(), sup.Addr(), *httpPort)
	fmt.Fprintf(env.Stdout, "open in VLC:  vlc 'http://127.0.0.1:%d/ace/getstream?infohash=%s'\n", *httpPort, f.InfoHash())
	fmt.Fprintf(env.Stdout, "in a browser: http://127.0.0.1:%d/player?id=%s   dashboard: http://127.0.0.1:%d/\n", *httpPort, f.InfoHash(), *httpPort)
	fmt.Fprintln(env.Stdout, "press Ctrl-C to stop")
	<-ctx.Done()
	return nil
}

func waitFile(ctx context.Context, path string) *transport.File {
	for {
		if f, _, err := transport.Load(ctx, http.DefaultClient, path); err == nil {
			return f
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
