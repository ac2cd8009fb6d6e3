package proxy

import (
	"context"
	"strings"
	"testing"
	"time"
)

// HLS cut by the proxy: ffmpeg -xerror plays 30 s of it; segments are served by the proxy.
func TestHLSThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	needFFmpeg(t)
	r := newRig(t, 1, 0, nil)
	u := r.base + "/ace/manifest.m3u8?id=" + chanID(9)
	if err := ffmpegDecodes(context.Background(), u, 30); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, u)
	if status != 200 || !strings.Contains(body, "#EXT-X-TARGETDURATION:") || !strings.Contains(body, r.base+"/ace/hls/") {
		t.Fatalf("playlist: %d %q", status, body)
	}
}

// With -m3u8, /ace/getstream answers the playlist, as acexy's -m3u8 meant to.
func TestM3U8Flag(t *testing.T) {
	r := newRig(t, 1, 0, func(c *Config) { c.M3U8 = true })
	start := time.Now()
	status, body := get(t, r.url(chanID(10)))
	if status != 200 || !strings.HasPrefix(body, "#EXTM3U") {
		t.Fatalf("-m3u8 getstream: %d %q after %v", status, body, time.Since(start))
	}
}
