package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// gapMeter reads a stream and keeps the time of its last read and the longest pause between two
// reads once measuring began.
type gapMeter struct {
	measuring atomic.Bool
	longest   atomic.Int64 // ns
	last      atomic.Int64 // unix ns of the last read
	ended     atomic.Bool
}

func meterGaps(t *testing.T, url string) *gapMeter {
	m := &gapMeter{}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		last := time.Now()
		buf := make([]byte, 64<<10)
		for {
			_, err := resp.Body.Read(buf)
			now := time.Now()
			if m.measuring.Load() && int64(now.Sub(last)) > m.longest.Load() {
				m.longest.Store(int64(now.Sub(last)))
			}
			last = now
			m.last.Store(now.UnixNano())
			if err != nil {
				m.ended.Store(true)
				return
			}
		}
	}()
	return m
}

// kill -9 of one of two support nodes while a viewer plays: ffmpeg -xerror decodes across it, and
// the longest pause between two reads of a player (pieces come every half second or so; about
// 0.65 s before the kill here, 0.96 s across it) stays under 1.5 s on this shared machine.
func TestSupportNodeKilled(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	srcIP := "127.0.0.220"
	srcPort := freePort(t, srcIP)
	args, acelive := clipSource(t, dir, srcIP, srcPort)
	node(t, "source", args...)
	waitFile(t, acelive, 10*time.Second)
	var supports []*proc
	for i, ip := range []string{"127.0.0.221", "127.0.0.222"} {
		supports = append(supports, node(t, "support"+strconv.Itoa(i), "--stream-support-node", "--url", acelive, "--bind", ip,
			"--port", strconv.Itoa(freePort(t, ip)), "--download-from", srcIP+":"+strconv.Itoa(srcPort), "--cache-dir", filepath.Join(dir, "s"+strconv.Itoa(i))))
	}
	time.Sleep(2 * time.Second)
	url := viewerEngine(t, dir, "127.0.0.223", 0, acelive)
	player := play(t, "player", url, 20)
	meter := meterGaps(t, url)
	meter.measuring.Store(true)
	time.Sleep(5 * time.Second)
	t.Logf("before the kill, the longest pause was %v", time.Duration(meter.longest.Load()))
	supports[0].cmd.Process.Kill() // kill -9
	player.mustSucceed(t, 60*time.Second)
	longest := time.Duration(meter.longest.Load())
	t.Logf("support node killed: the longest pause a player saw was %v", longest)
	if meter.ended.Load() || longest > 1500*time.Millisecond {
		t.Fatalf("longest pause %v (ended: %v), want under 1.5 s", longest, meter.ended.Load())
	}
}

// clipSource is the command line of a source node on ip, port, looping the test clip at
// 400 kbit/s into dir; its transport file is dir/s.acelive.
func clipSource(t *testing.T, dir, ip string, port int) (args []string, acelive string) {
	t.Helper()
	clip := filepath.Join(dir, "clip.ts")
	if err := os.WriteFile(clip, testclip.TS, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--stream-source-node", "--port", strconv.Itoa(port), "--bind", ip, "--source", clip, "--source-loop",
		"--name", "s", "--title", "S", "--quality", "SD", "--category", "sport", "--bitrate", "400000",
		"--publish-dir", dir, "--cache-dir", filepath.Join(dir, "src")}, filepath.Join(dir, "s.acelive")
}

// viewerEngine starts a viewer engine on ip (its peer port given, or 0 for any) with its cache
// under dir and no TCP API, and returns the URL a player of acelive reads, once it answers.
func viewerEngine(t *testing.T, dir, ip string, peerPort int, acelive string) string {
	t.Helper()
	httpPort := freePort(t, "")
	node(t, "viewer", "--bind", ip, "--port", strconv.Itoa(peerPort), "--http-port", strconv.Itoa(httpPort), "--api-port", "0",
		"--cache-dir", filepath.Join(dir, "viewer"))
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	for deadline := time.Now().Add(10 * time.Second); !httpOK(base + "/webui/api/service?method=get_version"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the viewer engine does not answer")
		}
	}
	return base + "/ace/getstream?url=" + acelive
}
