package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/promtest"
)

// Bad requests get one line and a 4xx; HEAD answers without an engine session; pid is ignored.
func TestRequestsAndStatus(t *testing.T) {
	r := newRig(t, 1, 0, nil)
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/ace/getstream", 400, "missing content selector"},
		{"/ace/getstream?id=xyz", 400, `id "xyz": want 40 hexadecimal digits`},
		{"/ace/manifest.m3u8?infohash=12", 400, "infohash"},
		{"/elsewhere", 404, "not found"},
		{"/ace/status?id=" + chanID(60), 404, "Stream not found"},
		{"/ace/hls/0123/1.ts", 404, "unknown segment"},
	} {
		status, body := get(t, r.base+c.path)
		if status != c.status || !strings.Contains(body, c.want) || strings.Contains(body, "\n") {
			t.Errorf("%s: %d %q, want %d and %q", c.path, status, body, c.status, c.want)
		}
	}
	resp, err := http.Head(r.url(chanID(61)))
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp2t" {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	if n := r.engines[0].Started(); n != 0 {
		t.Fatalf("HEAD started %d engine sessions", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go read(ctx, r.url(chanID(62))+"&pid=player-1", 20*time.Second, 0)
	waitFor(t, 10*time.Second, "the channel to play", func() bool { return r.engines[0].Playing() == 1 })

	var all struct {
		Streams  int             `json:"streams"`
		Channels []channelStatus `json:"channels"`
		Engines  []engineStatus  `json:"engines"`
	}
	_, body := get(t, r.base+"/ace/status")
	if err := json.Unmarshal([]byte(body), &all); err != nil || all.Streams != 1 || len(all.Channels) != 1 || all.Channels[0].Clients != 1 ||
		all.Channels[0].Engine != r.engines[0].URL() || len(all.Engines) != 1 || all.Engines[0].Channels != 1 {
		t.Fatalf("/ace/status: %v %s", err, body)
	}
	var one struct {
		Clients  int               `json:"clients"`
		StreamID map[string]string `json:"stream_id"`
		StatURL  string            `json:"stat_url"`
	}
	_, body = get(t, r.base+"/ace/status?id="+chanID(62))
	if err := json.Unmarshal([]byte(body), &one); err != nil || one.Clients != 1 || one.StreamID["content_id"] != chanID(62) || !strings.Contains(one.StatURL, "/ace/stat/") {
		t.Fatalf("/ace/status?id=: %v %s", err, body)
	}
	_, body = get(t, r.base+"/metrics")
	for _, m := range []string{"aceswarm_proxy_channels 1", "aceswarm_proxy_clients 1", "aceswarm_proxy_bytes_out_total", "aceswarm_proxy_upstream_reopens_total",
		"aceswarm_proxy_failovers_total", "aceswarm_proxy_slow_client_drops_total", "aceswarm_proxy_time_to_first_byte_seconds_bucket"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	m := promtest.Scrape(t, r.base+"/metrics") // parses as Prometheus reads it
	if got := promtest.Value(m, "aceswarm_proxy_bytes_out_total"); got <= 0 {
		t.Errorf("bytes out: %v", got)
	}
	var dash struct {
		Role    string `json:"role"`
		Players int    `json:"players"`
		BytesUp int64  `json:"bytes_up"`
		Streams []struct {
			InfoHash string `json:"infohash"`
			Peers    []struct {
				Address string `json:"address"`
				Role    string `json:"role"`
			} `json:"peers"`
		} `json:"streams"`
	}
	_, body = get(t, r.base+"/dashboard.json")
	if err := json.Unmarshal([]byte(body), &dash); err != nil || dash.Role != "proxy" || dash.Players != 1 || dash.BytesUp <= 0 ||
		len(dash.Streams) != 1 || dash.Streams[0].InfoHash != chanID(62) && !strings.HasSuffix(dash.Streams[0].InfoHash, chanID(62)) ||
		len(dash.Streams[0].Peers) != 1 || dash.Streams[0].Peers[0].Address != r.engines[0].URL() {
		t.Errorf("dashboard.json: %v %s", err, body)
	}
	for _, page := range []string{"/", "/player", "/assets/hls.light.min.js"} {
		if code, _ := get(t, r.base+page); code != 200 {
			t.Errorf("%s: %d", page, code)
		}
	}
}

// Past -max-channels a new channel is refused with 503 and one line; its clients' channels play.
func TestMaxChannels(t *testing.T) {
	r := newRig(t, 1, 0, func(c *Config) { c.MaxChannels = 2 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 2 {
		go read(ctx, r.url(chanID(70+i)), 20*time.Second, 0)
	}
	waitFor(t, 10*time.Second, "two channels", func() bool { return r.engines[0].Playing() == 2 })
	if status, body := get(t, r.url(chanID(72))); status != 503 || body != "too many channels (-max-channels 2)" {
		t.Fatalf("third channel: %d %q", status, body)
	}
}
