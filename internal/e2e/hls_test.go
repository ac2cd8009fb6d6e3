package e2e

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// demoURL starts the demo and returns its player API's base URL (on the --http-port it was
// given) and the stream's infohash, both read from the URL it prints.
func demoURL(t *testing.T) (string, string) {
	base, ih, _ := startDemo(t)
	return base, ih
}

// startDemo is demoURL that also returns the source node's address (its web port), as printed.
func startDemo(t *testing.T) (base, ih, source string) {
	port := freePort(t, "") // the player API listens on every address
	demo := node(t, "demo", "demo", "--http-port", strconv.Itoa(port))
	re := regexp.MustCompile(fmt.Sprintf(`source ([0-9.]+:[0-9]+),(?s:.*)http://127\.0\.0\.1:%d/ace/getstream\?infohash=([0-9a-f]{40})`, port))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m := re.FindStringSubmatch(demo.out.String()); m != nil {
			return fmt.Sprintf("http://127.0.0.1:%d", port), m[2], m[1]
		}
	}
	t.Fatal("demo printed no URL")
	return "", "", ""
}

type playlistInfo struct {
	target   float64
	sequence int
	durs     []float64
	segments []string
}

func fetchPlaylist(t *testing.T, url string) playlistInfo {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "#EXTM3U\n") {
		t.Fatalf("playlist: %d %s", resp.StatusCode, b)
	}
	var p playlistInfo
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			p.target, _ = strconv.ParseFloat(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"), 64)
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			p.sequence, _ = strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"))
		case strings.HasPrefix(line, "#EXTINF:"):
			d, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			p.durs = append(p.durs, d)
		case strings.HasPrefix(line, "http://"):
			p.segments = append(p.segments, line)
		}
	}
	return p
}

// ffmpeg decodes 30 s of HLS from /ace/manifest.m3u8, and 30 s of MPEG-TS through the redirect
// flow; the playlist's segments stay within the target duration, between 2 and 6 s, and the
// media sequence grows.
func TestHLSAndRedirectPlayFor30s(t *testing.T) {
	needFFmpeg(t)
	base, ih := demoURL(t)
	hls := play(t, "hls-player", base+"/ace/manifest.m3u8?infohash="+ih, 30)
	ts := play(t, "ts-player", base+"/ace/getstream?infohash="+ih+"&pid=ts", 30)

	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(base + "/ace/manifest.m3u8?infohash=" + ih + "&pid=check")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	playlistURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasSuffix(playlistURL, ".m3u8") {
		t.Fatalf("manifest redirect: %d %s", resp.StatusCode, playlistURL)
	}
	var seqs []int
	for range 10 { // 20 s: more segments than the playlist's window of 6
		p := fetchPlaylist(t, playlistURL)
		if len(p.durs) == 0 || len(p.durs) != len(p.segments) {
			t.Fatalf("playlist %+v", p)
		}
		for i, d := range p.durs {
			if d > p.target || math.Round(d) > p.target || d < 1.5 || d > 6.5 {
				t.Fatalf("segment %d lasts %.3f s, target %v", p.sequence+i, d, p.target)
			}
		}
		if !strings.Contains(p.segments[0], "/ace/c/"+ih+"/"+strconv.Itoa(p.sequence)+".ts") {
			t.Fatalf("first segment %s does not carry the media sequence %d", p.segments[0], p.sequence)
		}
		seqs = append(seqs, p.sequence)
		time.Sleep(2 * time.Second)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] < seqs[i-1] {
			t.Fatalf("media sequence went back: %v", seqs)
		}
	}
	if seqs[len(seqs)-1] <= seqs[0] {
		t.Fatalf("media sequence did not grow in 20 s: %v", seqs)
	}
	hls.mustSucceed(t, 90*time.Second)
	ts.mustSucceed(t, 90*time.Second)
}
