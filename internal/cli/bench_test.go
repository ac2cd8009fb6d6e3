package cli

import (
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/bench"
)

// --profile home sets the network and churn flags the issue names, and a flag given on the
// command line wins over the profile.
func TestBenchProfileHome(t *testing.T) {
	parse := func(args ...string) bench.SwarmConfig {
		t.Helper()
		fs := newFlagSet("aceswarm bench swarm")
		var cfg bench.SwarmConfig
		networkFlags(fs, &cfg.Network)
		fs.Float64Var(&cfg.Churn, "churn", 0, "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := applyProfile(fs, "home", &cfg); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	c := parse()
	if c.RTT != 100*time.Millisecond || c.Jitter != 30*time.Millisecond || c.ViewerUpload != (bench.Rate{Times: 1.5}) ||
		c.NAT != 0.5 || c.Churn != 0.2 || c.ServerUpload != (bench.Rate{}) || c.StallLinks != 0 {
		t.Fatalf("home: %+v", c)
	}
	c = parse("--rtt", "40ms", "--nat", "0", "--viewer-upload", "3M", "--churn", "0")
	if c.RTT != 40*time.Millisecond || c.NAT != 0 || c.ViewerUpload != (bench.Rate{Bits: 3e6}) || c.Churn != 0 || c.Jitter != 30*time.Millisecond {
		t.Fatalf("home with flags given: %+v", c)
	}
}
