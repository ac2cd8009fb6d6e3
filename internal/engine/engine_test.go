package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// A viewer's session starts on the first request and stops IdleStop after its last player.
func TestViewerSessionLifetime(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	src, f, acelive := runSource(t, ctx, "127.0.0.40", nil)
	view := runNode(t, ctx, Config{
		Mode: Viewer, Bind: "127.0.0.41", HTTPPort: freePort(t), IdleStop: 500 * time.Millisecond, Activity: time.Second,
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
