package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// With one player that reads nothing and one that reads slowly, the other players of the same
// stream keep real-time pace, and the stalled one is disconnected once its socket buffers are
// full and --player-timeout has passed.
func TestSlowPlayersDoNotStallOthers(t *testing.T) {
	needFFmpeg(t)
	stream := highBitrateStream(t) // 12 Mbit/s
	const rate = 12_000_000 / 8
	dir := t.TempDir()
	srcPort := freePort(t, "127.0.0.120")
	bin := plainBinary(t) // a throughput test: without the race detector's slowdown
	startIn(t, &pacedReader{r: bytes.NewReader(stream), rate: rate}, "source", bin, "--stream-source-node",
		"--bind", "127.0.0.120", "--port", strconv.Itoa(srcPort), "--source", "-", "--name", "hi", "--title", "High",
		"--quality", "HD", "--category", "sport", "--bitrate", strconv.Itoa(rate),
		"--publish-dir", filepath.Join(dir, "pub"), "--cache-dir", filepath.Join(dir, "src"))
	acelive := filepath.Join(dir, "pub", "hi.acelive")
	waitFile(t, acelive, 10*time.Second)
	httpPort := freePort(t, "") // the player API listens on every address
	start(t, "viewer", bin, "--bind", "127.0.0.121", "--port", strconv.Itoa(freePort(t, "127.0.0.121")), "--api-port", "0", "--http-port", strconv.Itoa(httpPort), "--cache-dir", filepath.Join(dir, "v"),
		"--download-from", fmt.Sprintf("127.0.0.120:%d", srcPort), "--player-timeout", "3", "--live-cache-type", "memory",
		"--live-cache-size", "67108864")
	url := fmt.Sprintf("http://127.0.0.1:%d/ace/getstream?url=%s", httpPort, acelive)
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", httpPort))

	var fast [2]atomic.Int64
	for i := range fast {
		go reader(url, &fast[i], 0)
	}
	var slow atomic.Int64
	go reader(url, &slow, 50_000)
	stalled := stalledPlayer(t, url)
	defer stalled.Close()

	time.Sleep(3 * time.Second) // everyone started
	before := [2]int64{fast[0].Load(), fast[1].Load()}
	const window = 20 * time.Second
	time.Sleep(window)
	for i := range fast {
		got := fast[i].Load() - before[i]
		if want := int64(0.85 * rate * window.Seconds()); got < want {
			t.Errorf("fast player %d got %d bytes in %v, want at least %d (85%% of real time)", i+1, got, window, want)
		}
	}
	// The stalled player was cut off: what it can still read ends with EOF.
	stalled.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := io.Copy(io.Discard, stalled)
	if err != nil {
		t.Fatalf("stalled player still connected after %v (read %d buffered bytes, then %v)", window, n, err)
	}
	t.Logf("fast players kept pace; the stalled player was disconnected (%d bytes were left in its buffers); the slow one read %d bytes", n, slow.Load())
}

// reader reads url, at most bps bytes per second when bps > 0, counting into n.
func reader(url string, n *atomic.Int64, bps int) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	buf := make([]byte, 32<<10)
	if bps > 0 {
		buf = buf[:bps/10]
	}
	for {
		k, err := resp.Body.Read(buf)
		n.Add(int64(k))
		if err != nil {
			return
		}
		if bps > 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// stalledPlayer sends a request and then reads nothing.
func stalledPlayer(t *testing.T, url string) net.Conn {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	c, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	req.Write(c)
	// Follow the redirect by hand: read the 302 and ask for the playback URL on a new connection.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4096)
	k, _ := c.Read(b)
	c.Close()
	loc := ""
	for _, line := range bytes.Split(b[:k], []byte("\r\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Location: ")); ok {
			loc = string(v)
		}
	}
	if loc == "" {
		t.Fatalf("no redirect: %s", b[:k])
	}
	req, _ = http.NewRequest(http.MethodGet, loc, nil)
	c, err = net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	req.Write(c)
	return c
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("%s is not listening", addr)
}
