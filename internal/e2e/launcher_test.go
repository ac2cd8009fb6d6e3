package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

var launchRE = regexp.MustCompile(`"playback_url": "([^"]+)", "stat_url": "([^"]+)"`)

// A client written like acestream-launcher and python-acestream: start with format=json, poll
// stat_url every second until status is "dl", then start the player (ffmpeg -xerror) on the
// playback URL. It plays within 3 s, for MPEG-TS and for HLS.
func TestLauncherStyleClientPlays(t *testing.T) {
	needFFmpeg(t)
	base, ih := demoURL(t)
	for _, path := range []string{"/ace/getstream", "/ace/manifest.m3u8"} {
		t.Run(path, func(t *testing.T) {
			body := getBody(t, base+path+"?format=json&infohash="+ih)
			m := launchRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("format=json: %s", body)
			}
			playback, stat := m[1], m[2]
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(getBody(t, stat), `"status": "dl"`) {
				if time.Now().After(deadline) {
					t.Fatalf("stat never said dl: %s", getBody(t, stat))
				}
				time.Sleep(time.Second)
			}
			player := play(t, "player", playback, 8)
			if strings.HasSuffix(playback, ".m3u8") {
				d, err := playlistWithin(playback)
				if err != nil || d > 3*time.Second {
					t.Fatalf("HLS: first playlist after %v (%v)", d, err)
				}
				t.Logf("HLS: first playlist %v after dl", d)
			} else {
				d, err := firstByte(context.Background(), playback, 188*100)
				if err != nil || d > 3*time.Second {
					t.Fatalf("TS: first byte after %v (%v)", d, err)
				}
				t.Logf("TS: first byte %v after dl", d)
			}
			player.mustSucceed(t, 40*time.Second)
		})
	}
}

// playlistWithin fetches a playlist and returns how long its answer took.
func playlistWithin(u string) (time.Duration, error) {
	start := time.Now()
	_, err := firstByte(context.Background(), u, 0)
	return time.Since(start), err
}
