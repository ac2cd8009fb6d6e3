package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/testclip"
)

// swarm is a running test swarm: ffmpeg → source → two support nodes → three viewers.
type swarm struct {
	dir, acelive, ih string
	sourceArgs       []string
	source           *proc
	viewers          []string // player API base URLs
}

func startSwarm(t *testing.T) *swarm {
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ts")
	os.WriteFile(clip, loopedClip(12), 0o644) // 192 s of live stream
	trackerPort := freePort(t, "127.0.0.1")
	trackerURL := fmt.Sprintf("http://127.0.0.1:%d/announce", trackerPort)
	node(t, "tracker", "tracker", "--listen", fmt.Sprintf("127.0.0.1:%d", trackerPort))

	const srcIP = "127.0.0.10"
	udpPort, srcPort := freePort(t, srcIP), freePort(t, srcIP)
	sw := &swarm{dir: dir, acelive: filepath.Join(dir, "publish", "e2e.acelive")}
	sw.sourceArgs = []string{"--stream-source-node", "--port", strconv.Itoa(srcPort), "--bind", srcIP,
		"--source", fmt.Sprintf("udp://%s:%d", srcIP, udpPort), "--name", "e2e", "--title", "End to end",
		"--quality", "SD", "--category", "sport", "--publish-dir", filepath.Join(dir, "publish"),
		"--cache-dir", filepath.Join(dir, "cache"), "--tracker", trackerURL}
	sw.source = node(t, "source", sw.sourceArgs...)
	time.Sleep(300 * time.Millisecond) // let the source bind its UDP port
	start(t, "ffmpeg-live", "ffmpeg", "-nostdin", "-v", "error", "-re", "-i", clip,
		"-c", "copy", "-f", "mpegts", fmt.Sprintf("udp://%s:%d?pkt_size=1316", srcIP, udpPort))
	waitFile(t, sw.acelive, 15*time.Second)
	sw.ih = infohash(t, sw.acelive)

	srcAddr := fmt.Sprintf("%s:%d", srcIP, srcPort)
	for i, ip := range []string{"127.0.0.11", "127.0.0.12"} {
		node(t, fmt.Sprintf("support%d", i+1), "--stream-support-node", "--url", sw.acelive,
			"--port", strconv.Itoa(freePort(t, ip)), "--bind", ip, "--download-from", srcAddr)
	}
	for i, ip := range []string{"127.0.0.21", "127.0.0.22", "127.0.0.23"} {
		httpPort := freePort(t, "") // the player API listens on every address
		node(t, fmt.Sprintf("viewer%d", i+1), "--http-port", strconv.Itoa(httpPort),
			"--port", strconv.Itoa(freePort(t, ip)), "--bind", ip, "--tracker", trackerURL)
		sw.viewers = append(sw.viewers, fmt.Sprintf("http://127.0.0.1:%d", httpPort))
	}
	for _, v := range sw.viewers {
		waitListening(t, strings.TrimPrefix(v, "http://"))
	}
	return sw
}

// Every viewer plays, two players on one viewer at once (by url= and by infohash=), the first
// byte comes within 2 s, and ffmpeg decodes 20 s on each without one error.
func TestSwarmPlaysOnEveryViewer(t *testing.T) {
	needFFmpeg(t)
	sw := startSwarm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, v := range sw.viewers {
		d, err := firstByte(ctx, v+"/ace/getstream?infohash="+sw.ih, 188*100)
		if err != nil {
			t.Fatalf("viewer %d: %v", i+1, err)
		}
		t.Logf("viewer %d: first byte after %v", i+1, d)
		if d > 2*time.Second {
			t.Errorf("viewer %d: first byte after %v, want within 2 s", i+1, d)
		}
	}
	var players []*proc
	for i, v := range sw.viewers {
		players = append(players, play(t, fmt.Sprintf("player%d", i+1), v+"/ace/getstream?infohash="+sw.ih, 20))
	}
	players = append(players, play(t, "player1b", sw.viewers[0]+"/ace/getstream?url=file://"+sw.acelive, 20))
	for _, p := range players {
		p.mustSucceed(t, 60*time.Second)
	}
}

// A restarted source keeps its infohash and the players go on without being restarted.
func TestSourceRestartKeepsInfohashAndPlayers(t *testing.T) {
	needFFmpeg(t)
	sw := startSwarm(t)
	players := []*proc{
		play(t, "player1", sw.viewers[0]+"/ace/getstream?infohash="+sw.ih, 30),
		play(t, "player2", sw.viewers[1]+"/ace/getstream?infohash="+sw.ih, 30),
	}
	time.Sleep(6 * time.Second)
	sw.source.stop()
	node(t, "source-restarted", sw.sourceArgs...)
	for _, p := range players {
		p.mustSucceed(t, 90*time.Second)
	}
	if got := infohash(t, sw.acelive); got != sw.ih {
		t.Fatalf("infohash changed across the restart: %s -> %s", sw.ih, got)
	}
}

// loopedClip is the test clip played n times as one continuous stream. (ffmpeg's own
// -stream_loop repeats an audio timestamp at each loop point, which -xerror players reject.)
func loopedClip(n int) []byte {
	l := mpegts.NewLooper()
	var out []byte
	for range n {
		for b := testclip.TS; len(b) >= mpegts.PacketSize; b = b[mpegts.PacketSize:] {
			out = l.Append(out, mpegts.Packet(b[:mpegts.PacketSize]))
		}
		l.Rewind()
	}
	return out
}
