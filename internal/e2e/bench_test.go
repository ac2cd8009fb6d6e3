package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// A short swarm bench runs from the command line, finishes on time, and fails on a gross
// regression (loose bounds: this machine is shared).
func TestSwarmBenchRegression(t *testing.T) {
	out := filepath.Join(t.TempDir(), "swarm.json")
	plot := filepath.Join(t.TempDir(), "swarm.svg")
	cpu, heap := filepath.Join(t.TempDir(), "cpu.pprof"), filepath.Join(t.TempDir(), "heap.pprof")
	began := time.Now()
	p := start(t, "bench", plainBinary(t), "bench", "swarm", "--viewers", "10", "--support", "2", "--startup", "1",
		"--bitrate", "2000000", "--duration", "20s", "--json", out, "--plot", plot, "--cpuprofile", cpu, "--memprofile", heap)
	p.waitExit(t, 40*time.Second)
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("a 20 s bench took %v", took)
	}
	var r map[string]any
	b, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("no JSON: %v\n%s", err, p.out.String())
	}
	for _, k := range []string{"source_upload_factor", "server_stress", "startup_first_byte_s", "startup_keyframe_s",
		"continuity", "stalls", "lag_s", "control_overhead", "cpu_seconds", "peak_rss_bytes", "viewers", "bitrate", "rtt_s", "stalled_players"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if _, ok := r["stalled_players"].([]any); !ok {
		t.Errorf("stalled_players is not a list: %v", r["stalled_players"])
	}
	t.Logf("10 viewers, 20 s: %s", b)
	if f := r["source_upload_factor"].(float64); f > 3 || f == 0 {
		t.Errorf("source upload factor %.2f, regression bound 3", f)
	}
	if c := r["continuity"].(map[string]any)["min"].(float64); c < 0.98 {
		t.Errorf("continuity min %.4f, regression bound 0.98", c)
	}
	if svg, err := os.ReadFile(plot); err != nil || !regexp.MustCompile(`<polyline`).Match(svg) {
		t.Errorf("no plot: %v", err)
	}
	for _, f := range []string{cpu, heap} { // pprof profiles are gzipped protocol buffers
		if b, err := os.ReadFile(f); err != nil || len(b) < 1000 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is no pprof profile: %d bytes, %v", filepath.Base(f), len(b), err)
		}
	}
}

// On home links (--profile home: 100 ms ± 30 ms, uploads of 1.5 times the bitrate, half the
// viewers behind a NAT, churn) ten viewers play on: the regression bench of issue 13 fails when
// continuity falls below 0.99 or the 95th percentile of startup exceeds 3 s.
func TestHomeProfileRegression(t *testing.T) {
	out := filepath.Join(t.TempDir(), "home.json")
	p := start(t, "bench", plainBinary(t), "bench", "swarm", "--viewers", "10", "--profile", "home", "--duration", "30s", "--json", out)
	p.waitExit(t, 60*time.Second)
	var r struct {
		Continuity struct{ Min, Mean float64 } `json:"continuity"`
		Startup    struct{ P95 float64 }       `json:"startup_first_byte_s"`
		NAT        int                         `json:"nat_viewers"`
		RTT        float64                     `json:"rtt_s"`
	}
	b, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("no JSON: %v\n%s", err, p.out.String())
	}
	t.Logf("10 viewers, --profile home, 30 s: continuity min %.4f mean %.4f, startup p95 %.2f s", r.Continuity.Min, r.Continuity.Mean, r.Startup.P95)
	if r.RTT != 0.1 || r.NAT < 5 {
		t.Fatalf("the profile was not applied: rtt %v s, %d viewers behind a NAT", r.RTT, r.NAT)
	}
	if r.Continuity.Mean < 0.99 {
		t.Errorf("continuity mean %.4f under --profile home, regression bound 0.99", r.Continuity.Mean)
	}
	if r.Startup.P95 > 3 {
		t.Errorf("startup p95 %.2f s under --profile home, regression bound 3 s", r.Startup.P95)
	}
}

// bench fanout reads a stream with many clients and reports the documented figures.
func TestFanoutBench(t *testing.T) {
	needFFmpeg(t)
	base, ih := demoURL(t)
	url := base + "/ace/getstream?infohash=" + ih
	out := filepath.Join(t.TempDir(), "fanout.json")
	began := time.Now()
	p := start(t, "fanout", plainBinary(t), "bench", "fanout", "--url", url, "--clients", "8", "--duration", "6s", "--json", out)
	p.waitExit(t, 20*time.Second)
	if took := time.Since(began); took > 12*time.Second {
		t.Errorf("a 6 s fan-out bench took %v", took)
	}
	var r struct {
		Throughput float64                     `json:"throughput_bytes_per_s"`
		TTFB       struct{ P50, P95 float64 }  `json:"ttfb_s"`
		FellBehind int                         `json:"fell_behind"`
		Dropped    int                         `json:"dropped"`
		Bytes      struct{ Min, Mean float64 } `json:"bytes_per_client"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("JSON: %v %s", err, b)
	}
	t.Logf("fan-out, 8 clients on one viewer engine: %s", b)
	if r.Throughput <= 0 || r.Dropped != 0 || r.Bytes.Min <= 0 || r.TTFB.P95 <= 0 || r.TTFB.P95 > 5 {
		t.Fatalf("fan-out result %+v", r)
	}
}
