package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// `aceswarm demo` prints a URL from which ffmpeg decodes 20 s without an error.
func TestDemoPlays(t *testing.T) {
	needFFmpeg(t)
	port := freePort(t, "127.0.0.1")
	demo := node(t, "demo", "demo", "--http-port", strconv.Itoa(port))
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/ace/getstream\?infohash=[0-9a-f]{40}`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		url = re.FindString(demo.out.String())
	}
	if url == "" {
		t.Fatal("demo printed no URL")
	}
	if !strings.Contains(url, fmt.Sprintf(":%d/", port)) {
		t.Fatalf("URL %s is not on --http-port", url)
	}
	play(t, "player", url, 20).mustSucceed(t, 60*time.Second)
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
