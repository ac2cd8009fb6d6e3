package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// aceswarm proxy in front of a real aceswarm swarm (the demo's viewer engine): ffmpeg -xerror
// decodes its MPEG-TS and its HLS, hls.js in Chromium plays its HLS, VLC records both; on
// SIGTERM it stops the engine session before it exits.
func TestProxyInFrontOfASwarm(t *testing.T) {
	needFFmpeg(t)
	chromium, script := hlsJS(t)
	base, ih := demoURL(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	px := node(t, "proxy", "proxy", "-addr", addr, "-engine", base, "-log-level", "debug")
	ts := "http://" + addr + "/ace/getstream?infohash=" + ih
	hls := "http://" + addr + "/ace/manifest.m3u8?infohash=" + ih
	waitListening(t, addr)

	player := play(t, "player-ts", ts, 20)
	hlsPlayer := play(t, "player-hls", hls, 20)
	t.Run("hls.js", func(t *testing.T) { hlsJSPlays(t, chromium, script, hls) })
	t.Run("vlc", func(t *testing.T) { vlcRecords(t, map[string]string{"ts": ts, "hls": hls}) })
	player.mustSucceed(t, 60*time.Second)
	hlsPlayer.mustSucceed(t, 60*time.Second)

	// While a client plays, the channel has a session on the engine; SIGTERM stops it.
	play(t, "player-last", ts, 30)
	var stat string
	for deadline := time.Now().Add(20 * time.Second); stat == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		stat = proxyStatURL(t, "http://"+addr, ih)
	}
	if stat == "" {
		t.Fatalf("no channel in /ace/status\n%s", tail(px.out.String(), 3000))
	}
	if body := getBody(t, stat); !strings.Contains(body, `"status"`) {
		t.Fatalf("stat_url before the stop: %s", body)
	}
	px.stop()
	if body := getBody(t, stat); !strings.Contains(body, "unknown playback session id") {
		t.Fatalf("the engine session outlived the proxy: %s\n%s", body, tail(px.out.String(), 3000))
	}
}

func proxyStatURL(t *testing.T, base, ih string) string {
	var st struct {
		StatURL string `json:"stat_url"`
	}
	resp, err := http.Get(base + "/ace/status?infohash=" + ih)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&st)
	return st.StatURL
}

func getBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(b)
}
