package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// artefacts is where browser tests keep their screenshots: $ACESWARM_ARTIFACTS, or
// .cache/artifacts at the top of the repository.
func artefacts(t *testing.T) string {
	dir := os.Getenv("ACESWARM_ARTIFACTS")
	if dir == "" {
		dir, _ = filepath.Abs("../../.cache/artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts headless Chromium (Debian's chromium, installed by make tools) driven over the
// DevTools protocol.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromium := needTool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // starts the browser; no timeout on this first call
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// eval evaluates a JavaScript expression in the tab of ctx, within 10 s.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// navigate opens url in the tab of ctx.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// screenshot saves the page as name.png among the test's artefacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artefacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// dashboardMoves opens a dashboard in tab and waits until it shows at least peers peers and
// players players, and the chart (chart-up or chart-down) gains 3 samples with a non-zero rate;
// it keeps a screenshot as name.
func dashboardMoves(t *testing.T, tab context.Context, url, chart string, peers, players int, name string) {
	t.Helper()
	navigate(t, tab, url)
	read := func() (peers, samples int, last float64, players int) {
		v := eval[[]float64](t, tab, `(c => [+document.getElementById("peers").textContent, +c.dataset.samples, +c.dataset.last,
			+document.getElementById("players").textContent])(document.getElementById("`+chart+`"))`)
		return int(v[0]), int(v[1]), v[2], int(v[3])
	}
	var gotPeers, samples0, samples, gotPlayers int
	var rate float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		gotPeers, samples, rate, gotPlayers = read()
		if samples0 == 0 {
			samples0 = samples
		}
		if gotPeers >= peers && samples >= samples0+3 && rate > 0 && gotPlayers >= players {
			break
		}
	}
	screenshot(t, tab, name)
	if gotPeers < peers || samples < samples0+3 || rate <= 0 || gotPlayers < players {
		t.Fatalf("%s: %d peers (want %d), %s samples %d then %d, last rate %.0f B/s, %d players (want %d)",
			url, gotPeers, peers, chart, samples0, samples, rate, gotPlayers, players)
	}
	t.Logf("%s: %d peers, %d %s samples, %.0f B/s, %d players", url, gotPeers, samples, chart, rate, gotPlayers)
}

// In headless Chromium: the dashboard of the demo's source node shows its peers (the support
// node and the viewer engine) and its upload chart moving; the viewer engine's player page plays
// the stream (hls.js, embedded): the video's clock advances 10 s; the engine's own dashboard then
// shows its two peers, the player and its download chart moving. Screenshots of the three pages
// are kept.
func TestDashboardAndPlayerPageInChromium(t *testing.T) {
	base, ih, source := startDemo(t)
	ctx := browser(t)
	dashboardMoves(t, ctx, "http://"+source+"/", "chart-up", 1, 0, "dashboard-source")

	navigate(t, ctx, base+"/player?id="+ih)
	var first, now float64
	deadline := time.Now().Add(60 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		now = eval[float64](t, ctx, `document.getElementById("video").currentTime`)
		if first == 0 && now > 0 {
			first = now
		}
		if first > 0 && now-first >= 10 {
			break
		}
	}
	status := eval[string](t, ctx, `document.getElementById("status").textContent`)
	screenshot(t, ctx, "player")
	if first == 0 || now-first < 10 {
		t.Fatalf("the player page's video advanced from %.1f s to %.1f s in 60 s (%s)", first, now, status)
	}

	// The engine's dashboard, in another tab, while the player plays on.
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil { // a new tab's first call: no timeout
		t.Fatal(err)
	}
	dashboardMoves(t, tab, base+"/", "chart-down", 2, 1, "dashboard")
}
