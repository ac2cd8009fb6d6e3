package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// hlsJS is hls.js, installed by `make tools` (npm) into .cache/js.
func hlsJS(t *testing.T) (chromium, script string) {
	script, _ = filepath.Abs("../../.cache/js/node_modules/hls.js/dist/hls.min.js")
	if p := os.Getenv("ACESWARM_HLSJS"); p != "" {
		script = p
	}
	chromium = needTool(t, "chromium")
	if _, err := os.Stat(script); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("hls.js is required in CI (make tools installs it): %v", err)
		}
		t.Skip("hls.js not installed (make tools installs it)")
	}
	return chromium, script
}

const hlsPage = `<!doctype html><video id="v" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
const v = document.getElementById("v");
const report = q => fetch("/report?" + q);
if (!Hls.isSupported()) report("fatal=hls.js+not+supported");
const h = new Hls();
h.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) report("fatal=" + encodeURIComponent(d.type + ":" + d.details)); });
h.loadSource(%q);
h.attachMedia(v);
v.play().catch(() => {});
setInterval(() => report("t=" + v.currentTime), 500);
</script>`

// hls.js in a real Chromium plays the HLS stream: its clock advances 8 s without a fatal error.
func TestHLSPlaysInChromiumWithHlsJS(t *testing.T) {
	chromium, script := hlsJS(t)
	base, ih := demoURL(t)
	hlsJSPlays(t, chromium, script, base+"/ace/manifest.m3u8?infohash="+ih)
}

// hlsJSPlays opens manifest with hls.js in Chromium and fails unless its clock advances 8 s
// without a fatal error within 60 s.
func hlsJSPlays(t *testing.T, chromium, script, manifest string) {
	t.Helper()
	var mu sync.Mutex
	var played float64
	var fatal string
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, hlsPage, manifest)
		case "/hls.min.js":
			http.ServeFile(w, r, script)
		case "/report":
			mu.Lock()
			if v, err := strconv.ParseFloat(r.URL.Query().Get("t"), 64); err == nil {
				played = v
			}
			if f := r.URL.Query().Get("fatal"); f != "" {
				fatal = f
			}
			mu.Unlock()
		}
	}))
	defer page.Close()
	start(t, "chromium", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--autoplay-policy=no-user-gesture-required", "--user-data-dir="+t.TempDir(), page.URL)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		p, f := played, fatal
		mu.Unlock()
		if f != "" {
			t.Fatalf("hls.js: fatal error %s after %.1f s of playback", f, p)
		}
		if p >= 8 {
			t.Logf("hls.js played %.1f s", p)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("hls.js played only %.1f s in 60 s", played)
}
