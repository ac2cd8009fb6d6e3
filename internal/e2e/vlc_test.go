package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vlcCommand returns the command line that runs VLC without an interface and with home as its
// HOME, as the unprivileged user nobody when the tests run as root (VLC refuses to run as root).
func vlcCommand(t *testing.T, home string) []string {
	cmd := []string{"env", "HOME=" + home, needTool(t, "cvlc"), "-I", "dummy", "--no-video-title-show"}
	if os.Geteuid() == 0 {
		cmd = append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}, cmd...)
	}
	return cmd
}

// VLC opens the demo stream as MPEG-TS (/ace/getstream) and as HLS (/ace/manifest.m3u8) and
// records 12 s of each without re-encoding; ffmpeg then decodes both recordings with -xerror.
func TestVLCPlaysTSAndHLS(t *testing.T) {
	needFFmpeg(t)
	base, ih := demoURL(t)
	vlcRecords(t, map[string]string{
		"ts":  base + "/ace/getstream?infohash=" + ih + "&pid=vlc-ts",
		"hls": base + "/ace/manifest.m3u8?infohash=" + ih + "&pid=vlc-hls",
	})
}

// vlcRecords has VLC record 12 s of each URL (by name) and checks that ffmpeg -xerror decodes at
// least 9 s of each recording (VLC takes up to 3 s to start an HLS stream: a playlist and a
// segment and a half).
func vlcRecords(t *testing.T, urls map[string]string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "aceswarm-vlc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777) // VLC may run as nobody
	vlc := vlcCommand(t, dir)
	players := map[string]*proc{}
	for name, url := range urls {
		out := filepath.Join(dir, name+".ts")
		args := slices.Concat(vlc[1:], []string{url, "--sout", "#std{access=file,mux=ts,dst=" + out + "}", "--run-time=12", "vlc://quit"})
		players[name] = start(t, "vlc-"+name, vlc[0], args...)
	}
	for name, p := range players {
		p.waitExit(t, 40*time.Second)
		out := filepath.Join(dir, name+".ts")
		if secs := decodedSeconds(t, out); secs < 9 {
			t.Errorf("VLC %s: recorded %.1f s of a 12 s run\n%s", name, secs, tail(p.out.String(), 2000))
		}
	}
}

// decodedSeconds decodes a recording with ffmpeg -xerror and returns its duration.
func decodedSeconds(t *testing.T, path string) float64 {
	t.Helper()
	if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg -xerror %s: %v\n%s", filepath.Base(path), err, out)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", filepath.Base(path), err)
	}
	secs, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return secs
}
