package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// `aceswarm demo` prints a URL from which ffmpeg decodes 20 s without an error.
func TestDemoPlays(t *testing.T) {
	needFFmpeg(t)
	base, ih := demoURL(t) // the URL the demo prints, on its --http-port
	play(t, "player", base+"/ace/getstream?infohash="+ih, 20).mustSucceed(t, 60*time.Second)
}

// A source that cannot be reached is retried with backoff and logged; the node stays up.
func TestUnreachableSourceIsRetried(t *testing.T) {
	dir := t.TempDir()
	dead := freePort(t, "127.0.0.1")
	src := node(t, "source", "--stream-source-node", "--port", "0", "--bind", "127.0.0.30",
		"--source", fmt.Sprintf("http://127.0.0.1:%d/live.ts", dead), "--name", "x", "--title", "X",
		"--quality", "SD", "--category", "sport", "--publish-dir", dir, "--cache-dir", dir)
	time.Sleep(4 * time.Second)
	select {
	case <-src.done:
		t.Fatalf("source node exited: %v", src.err)
	default:
	}
	if n := strings.Count(src.out.String(), "source unavailable, retrying"); n < 2 {
		t.Fatalf("%d retries logged in 4 s:\n%s", n, src.out.String())
	}
}
