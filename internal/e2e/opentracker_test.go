package e2e

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// opentracker starts the opentracker daemon on ip:port (TCP and UDP) allowing the infohash ih
// (Debian's build serves only the infohashes of its whitelist).
func opentracker(t *testing.T, ip string, port int, ih string) {
	bin := needTool(t, "opentracker")
	// It chroots to its directory and runs as nobody, and reads the whitelist from there.
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "whitelist"), []byte(ih+"\n"), 0o644)
	p := strconv.Itoa(port)
	start(t, "opentracker", bin, "-i", ip, "-p", p, "-P", p, "-w", "whitelist", "-d", dir, "-u", "nobody")
}

// seeders asks the tracker's scrape how many seeders it has for ih.
func seeders(base, ih string) int {
	raw, _ := hex.DecodeString(ih)
	var q strings.Builder // every byte as %XX: opentracker does not read '+' as a space
	for _, b := range raw {
		fmt.Fprintf(&q, "%%%02X", b)
	}
	resp, err := http.Get(base + "/scrape?info_hash=" + q.String())
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var scrape struct {
		Files map[string]struct {
			Complete int `bencode:"complete"`
		} `bencode:"files"`
	}
	if err := bencode.NewDecoder(resp.Body).Decode(&scrape); err != nil {
		return 0
	}
	return scrape.Files[string(raw)].Complete
}

// The nodes' tracker client works with opentracker, a standard BitTorrent tracker: the source
// announces to it over HTTP and UDP, and viewers that know only the infohash and opentracker's
// address (one by HTTP, one by UDP) find the source through it and play.
func TestOpentracker(t *testing.T) {
	needFFmpeg(t)
	const otIP, srcIP = "127.0.0.30", "127.0.0.31"
	otPort := freePort(t, otIP)
	httpTracker := fmt.Sprintf("http://%s:%d/announce", otIP, otPort)
	udpTracker := fmt.Sprintf("udp://%s:%d/announce", otIP, otPort)
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ts")
	os.WriteFile(clip, loopedClip(4), 0o644)
	acelive := filepath.Join(dir, "publish", "ot.acelive")
	node(t, "source", "--stream-source-node", "--port", strconv.Itoa(freePort(t, srcIP)), "--bind", srcIP,
		"--source", clip, "--source-loop", "--name", "ot", "--title", "Opentracker", "--quality", "SD",
		"--category", "sport", "--publish-dir", filepath.Join(dir, "publish"), "--cache-dir", filepath.Join(dir, "cache"),
		"--tracker", httpTracker, "--tracker", udpTracker)
	waitFile(t, acelive, 15*time.Second)
	ih := infohash(t, acelive)
	opentracker(t, otIP, otPort, ih)
	base := fmt.Sprintf("http://%s:%d", otIP, otPort)
	for deadline := time.Now().Add(20 * time.Second); seeders(base, ih) < 1; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the source never announced to opentracker")
		}
	}
	var players []*proc
	for i, tr := range []string{httpTracker, udpTracker} {
		ip := fmt.Sprintf("127.0.0.%d", 32+i)
		httpPort := freePort(t, "")
		node(t, fmt.Sprintf("viewer%d", i+1), "--http-port", strconv.Itoa(httpPort),
			"--port", strconv.Itoa(freePort(t, ip)), "--bind", ip, "--tracker", tr)
		waitListening(t, fmt.Sprintf("127.0.0.1:%d", httpPort))
		players = append(players, play(t, fmt.Sprintf("player%d", i+1),
			fmt.Sprintf("http://127.0.0.1:%d/ace/getstream?infohash=%s", httpPort, ih), 10))
	}
	for _, p := range players {
		p.mustSucceed(t, 60*time.Second)
	}
}
