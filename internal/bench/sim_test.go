package bench

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"testing/synctest"
	"time"

	enginePlayback "github.com/aceswarm/aceswarm/internal/playback"
)

// The simulation's knobs, for runs at scale (docs/benchmarks.md, Simulation):
//
//	go test -run TestSimulation -v -timeout 0 ./internal/bench -args -sim.viewers 1000 -sim.duration 60s -sim.json sim.json -sim.plot sim.svg
var (
	simViewers  = flag.Int("sim.viewers", 0, "viewers (0: the small regression run)")
	simDuration = flag.Duration("sim.duration", 0, "virtual time the viewers play (0: 30s)")
	simProfile  = flag.String("sim.profile", "home", "network and churn preset: home, or none for unshaped links")
	simBitrate  = flag.Int("sim.bitrate", 2_000_000, "stream bitrate, bits per second")
	simPeers    = flag.Int("sim.peers", 0, "each viewer's peer limit (0: the engine's 50)")
	simDelay    = flag.Duration("sim.delay", enginePlayback.DefaultLiveDelay, "each viewer's --live-delay (0: players not paced)")
	simJSON     = flag.String("sim.json", "", "write the result as JSON to this file")
	simPlot     = flag.String("sim.plot", "", "draw upload by role, lag and buffer over time to this SVG file")
)

// The swarm of bench swarm runs in virtual time on home links, and its players get the stream:
// without -sim.viewers, 12 viewers for 30 s of stream (a regression check with loose bounds, since
// a run's figures vary); with it, a run at scale that only reports.
func TestSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	cfg := SwarmConfig{Viewers: 12, Support: 2, Startup: 1, Bitrate: *simBitrate, Duration: 30 * time.Second, ViewerPeers: *simPeers,
		LiveDelay: *simDelay}
	if p, ok := Profiles[*simProfile]; ok {
		cfg.Network, cfg.Churn = p.Network, p.Churn
	} else if *simProfile != "none" {
		t.Fatalf("-sim.profile %q: want home or none", *simProfile)
	}
	atScale := *simViewers > 0
	if atScale {
		cfg.Viewers = *simViewers
	}
	if *simDuration > 0 {
		cfg.Duration = *simDuration
	}
	began := time.Now()
	var res *SwarmResult
	synctest.Test(t, func(t *testing.T) {
		if atScale { // a long run says how far it is, in virtual time
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go progress(ctx, t, cfg.Duration)
		}
		var err error
		if res, err = RunSim(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	})
	b, _ := json.Marshal(res)
	t.Logf("%d viewers, %v of stream in %v: %s", cfg.Viewers, cfg.Duration, time.Since(began).Round(time.Second), b)
	if *simJSON != "" {
		if err := os.WriteFile(*simJSON, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if *simPlot != "" {
		if err := WriteSVG(*simPlot, res.Timeline); err != nil {
			t.Fatal(err)
		}
	}
	if atScale {
		return
	}
	if res.PlayersWithoutData > 0 || res.Players < cfg.Viewers {
		t.Errorf("%d players, %d of them without data", res.Players, res.PlayersWithoutData)
	}
	if res.Continuity.Mean < 0.98 {
		t.Errorf("continuity mean %.4f, regression bound 0.98", res.Continuity.Mean)
	}
	if res.StartupFirstByte.P95 > 3 {
		t.Errorf("startup p95 %.2f s, regression bound 3 s", res.StartupFirstByte.P95)
	}
	if res.ServerStress <= 0 || res.ServerStress > 0.8 { // typically 0.4–0.5; 1 when viewers forward nothing
		t.Errorf("server stress %.3f: want above 0 and at most 0.8 (viewers forward)", res.ServerStress)
	}
}

// progress logs every tenth of the run how much virtual time has passed (the bubble has no other
// clock to tell the real time taken).
func progress(ctx context.Context, t *testing.T, total time.Duration) {
	tick := time.NewTicker(total / 10)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t.Logf("%v of %v simulated", now.Sub(start).Round(time.Second), total)
		}
	}
}
