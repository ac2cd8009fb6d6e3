package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/bench"
	"github.com/aceswarm/aceswarm/internal/fakeengine"
	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/progress"
	"github.com/aceswarm/aceswarm/internal/synth"
)

func runBench(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usagef("usage: aceswarm bench swarm|fanout|engine [flags]")
	}
	switch args[0] {
	case "swarm":
		return runBenchSwarm(ctx, args[1:], env)
	case "fanout":
		return runBenchFanout(ctx, args[1:], env)
	case "engine":
		return runBenchEngine(ctx, args[1:], env)
	}
	return usagef("unknown bench %q (swarm, fanout or engine)", args[0])
}

func runBenchSwarm(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm bench swarm")
	var cfg bench.SwarmConfig
	fs.IntVar(&cfg.Viewers, "viewers", 50, "viewer engines, each with a real-time player")
	fs.IntVar(&cfg.Support, "support", 2, "support nodes")
	fs.IntVar(&cfg.Startup, "startup", 1, "startup nodes")
	fs.IntVar(&cfg.Bitrate, "bitrate", 2_000_000, "stream bitrate, bits per second")
	fs.DurationVar(&cfg.Duration, "duration", 120*time.Second, "how long the viewers play")
	fs.Float64Var(&cfg.Churn, "churn", 0, "share of the viewers replaced each minute (0.2 = 20%)")
	profile := networkFlags(fs, &cfg.Network)
	fs.DurationVar(&cfg.Hostile, "hostile", 0, "a hostile peer attacks a random node this often (e.g. 5s); 0: none")
	fs.IntVar(&cfg.ViewerPeers, "viewer-peers", 0, "each viewer engine's --max-peers (default the engine's, 50); fewer for hundreds of viewers in one process")
	fs.DurationVar(&cfg.LiveDelay, "live-delay", playback.DefaultLiveDelay, "each viewer engine's --live-delay (0: players not paced)")
	fs.StringVar(&cfg.LiveCacheType, "live-cache-type", "disk", "every node's --live-cache-type: disk (the engines' default: one file a stream under the run's temporary folder) or memory")
	fs.IntVar(&cfg.SlowPlayers, "slow-players", 0, "extra players, on the first viewers, reading at half the bitrate")
	fs.StringVar(&cfg.Sample, "sample", "", "write goroutines, live heap, RSS and open files every 30 s to this CSV file")
	jsonPath := fs.String("json", "", "write the result as JSON to this file")
	plotPath := fs.String("plot", "", "draw upload by role, lag and buffer over time to this SVG file")
	cpuPath := fs.String("cpuprofile", "", "write a pprof CPU profile of the whole run to this file")
	fs.StringVar(&cfg.HeapProfile, "memprofile", "", "write a pprof heap profile, taken as the viewers stop, to this file")
	log, err := parseWithLog(fs, args, env, "error")
	if err != nil {
		return err
	}
	if err := applyProfile(fs, *profile, &cfg); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	dir, err := os.MkdirTemp("", "aceswarm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.Dir, cfg.Logger = dir, log
	fmt.Fprintf(env.Stderr, "bench swarm: %d viewers, %d support, %d startup, %d bit/s, %v, churn %.0f%%/min, rtt %v ± %v, "+
		"viewer upload %v, server upload %v, nat %.0f%%, link stalls %v/s, live cache on %s\n",
		cfg.Viewers, cfg.Support, cfg.Startup, cfg.Bitrate, cfg.Duration, cfg.Churn*100, cfg.RTT, cfg.Jitter,
		cfg.ViewerUpload, cfg.ServerUpload, cfg.NAT*100, cfg.StallLinks, cfg.LiveCacheType)
	stopCPU, err := bench.StartCPUProfile(*cpuPath)
	if err != nil {
		return err
	}
	res, err := withBar(ctx, env, cfg.Duration, func() (*bench.SwarmResult, error) { return bench.RunSwarm(ctx, cfg) })
	if err := errors.Join(err, stopCPU()); err != nil {
		return err
	}
	printSwarm(env.Stdout, res)
	if *plotPath != "" {
		if err := bench.WriteSVG(*plotPath, res.Timeline); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	return writeJSON(*jsonPath, res)
}

// networkFlags defines the link flags of bench swarm on cfg, and returns --profile's value.
func networkFlags(fs *flag.FlagSet, cfg *bench.Network) *string {
	fs.DurationVar(&cfg.RTT, "rtt", 0, "round-trip time added to every link between nodes (e.g. 50ms)")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "each link's round trip varies by up to ± this, order kept (e.g. 30ms)")
	fs.Var(rateFlag{&cfg.ViewerUpload}, "viewer-upload", "each viewer's upload: bits per second (3M) or times the bitrate (1.5x); default unlimited")
	fs.Var(rateFlag{&cfg.ServerUpload}, "server-upload", "the source's and each relay's upload, as --viewer-upload; default unlimited")
	fs.Float64Var(&cfg.NAT, "nat", 0, "share of the viewers behind a NAT: they accept no incoming connection (0.5 = half)")
	fs.Float64Var(&cfg.StallLinks, "stall-links", 0, "pauses of 0.2–1 s a second on each link, standing in for loss (0.01 = one in 100 s)")
	return fs.String("profile", "", "preset of the network and churn flags: home (100ms ± 30ms, viewer upload 1.5x, NAT 0.5, churn 0.2); flags given override it")
}

// applyProfile sets the network and churn settings of --profile that no flag given sets.
func applyProfile(fs *flag.FlagSet, name string, cfg *bench.SwarmConfig) error {
	if name == "" {
		return nil
	}
	p, ok := bench.Profiles[name]
	if !ok {
		return usagef("--profile %q: want home", name)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	set := func(flagName string, apply func()) {
		if !given[flagName] {
			apply()
		}
	}
	set("rtt", func() { cfg.RTT = p.RTT })
	set("jitter", func() { cfg.Jitter = p.Jitter })
	set("viewer-upload", func() { cfg.ViewerUpload = p.ViewerUpload })
	set("server-upload", func() { cfg.ServerUpload = p.ServerUpload })
	set("nat", func() { cfg.NAT = p.NAT })
	set("stall-links", func() { cfg.StallLinks = p.StallLinks })
	set("churn", func() { cfg.Churn = p.Churn })
	return nil
}

// rateFlag reads an upload rate (bench.ParseRate).
type rateFlag struct{ r *bench.Rate }

func (f rateFlag) String() string {
	if f.r == nil || *f.r == (bench.Rate{}) {
		return ""
	}
	return f.r.String()
}

func (f rateFlag) Set(s string) error {
	r, err := bench.ParseRate(s)
	if err != nil {
		return err
	}
	*f.r = r
	return nil
}

// withBar runs f with a progress bar over d on stderr when it is a terminal.
func withBar[T any](ctx context.Context, env Env, d time.Duration, f func() (T, error)) (T, error) {
	if !progress.Terminal(env.Stderr) {
		return f()
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { progress.RunBar(ctx, env.Stderr, d); close(done) }()
	v, err := f()
	cancel()
	<-done
	return v, err
}

func printSwarm(w io.Writer, r *bench.SwarmResult) {
	fmt.Fprintf(w, "source upload factor   %.3f\n", r.SourceUploadFactor)
	fmt.Fprintf(w, "server stress          %.1f%%\n", 100*r.ServerStress)
	fmt.Fprintf(w, "startup first byte     p50 %.3fs  p95 %.3fs  max %.3fs\n", r.StartupFirstByte.P50, r.StartupFirstByte.P95, r.StartupFirstByte.Max)
	fmt.Fprintf(w, "startup keyframe       p50 %.3fs  p95 %.3fs  max %.3fs\n", r.StartupKeyframe.P50, r.StartupKeyframe.P95, r.StartupKeyframe.Max)
	fmt.Fprintf(w, "continuity             min %.4f  mean %.4f\n", r.Continuity.Min, r.Continuity.Mean)
	fmt.Fprintf(w, "stalls                 %d, %.1fs\n", r.Stalls.Count, r.Stalls.Seconds)
	fmt.Fprintf(w, "lag                    p50 %.2fs  p95 %.2fs\n", r.Lag.P50, r.Lag.P95)
	fmt.Fprintf(w, "control overhead       %.2f%%\n", 100*r.ControlOverhead)
	fmt.Fprintf(w, "cpu                    %.1fs (%.2f cores)\n", r.CPUSeconds, r.CPUSeconds/r.Duration)
	fmt.Fprintf(w, "peak rss               %d MB (%.1f MB a viewer engine)\n", r.PeakRSSBytes>>20, float64(r.ViewerRSSBytes)/(1<<20))
	fmt.Fprintf(w, "players                %d (%d without data)\n", r.Players, r.PlayersWithoutData)
	for _, p := range r.StalledPlayers {
		left := "played to the end"
		if p.Left > 0 {
			left = fmt.Sprintf("left at %.1fs", p.Left)
		}
		fmt.Fprintf(w, "  stalled player       joined %.1fs, %s; first stall %.1fs; %d stalls, %.1fs; %d frames skipped; continuity %.4f\n",
			p.Joined, left, p.FirstStall, p.Stalls, p.Seconds, p.Skipped, p.Continuity)
	}
}

func runBenchFanout(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm bench fanout")
	var cfg bench.FanoutConfig
	fs.StringVar(&cfg.URL, "url", "", "the stream to read")
	fs.IntVar(&cfg.Clients, "clients", 10, "clients reading it at once")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long they read")
	fs.IntVar(&cfg.PID, "pid", 0, "the server's process id: report its CPU seconds per GB delivered and its peak RSS")
	jsonPath := fs.String("json", "", "write the result as JSON to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	res, err := withBar(ctx, env, cfg.Duration, func() (*bench.FanoutResult, error) { return bench.RunFanout(ctx, cfg) })
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "throughput        %.0f bytes/s\n", res.Throughput)
	fmt.Fprintf(env.Stdout, "ttfb              p50 %.3fs  p95 %.3fs\n", res.TTFB.P50, res.TTFB.P95)
	fmt.Fprintf(env.Stdout, "fell behind       %d\ndropped           %d\n", res.FellBehind, res.Dropped)
	fmt.Fprintf(env.Stdout, "bytes per client  min %.0f  mean %.0f\n", res.BytesPerClient.Min, res.BytesPerClient.Mean)
	if cfg.PID != 0 {
		fmt.Fprintf(env.Stdout, "server cpu        %.2fs, %.3f s/GB\n", res.ServerCPU, res.ServerCPUPerGB)
		fmt.Fprintf(env.Stdout, "server peak rss   %.1f MiB\n", float64(res.ServerPeakRSS)/(1<<20))
	}
	return writeJSON(*jsonPath, res)
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}

// runBenchEngine runs a fake AceStream engine (package fakeengine) serving a synthetic live
// stream of --bitrate, or the test clip: the engine behind a proxy under a fan-out bench.
func runBenchEngine(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm bench engine")
	listen := fs.String("listen", "127.0.0.1:6878", "address of the engine's HTTP API")
	bitrate := fs.Int("bitrate", 4_000_000, "bits per second of the synthetic stream; 0 plays the test clip")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bitrate < 0 || *bitrate > 1_000_000_000 {
		return usagef("--bitrate %d: want 0 to 1000000000", *bitrate)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return usagef("--listen %q: %v", *listen, err)
	}
	bc := fakeengine.NewBroadcast()
	e := fakeengine.New(ln, bc)
	go func() {
		<-ctx.Done()
		e.Close()
	}()
	go func() {
		if *bitrate == 0 {
			dir, err := os.MkdirTemp("", "aceswarm-engine-")
			if err != nil {
				return
			}
			defer os.RemoveAll(dir)
			fakeengine.RunClip(ctx, bc, dir)
			return
		}
		var total atomic.Int64
		synth.New(*bitrate).RunCounting(ctx, bc, &total)
	}()
	fmt.Fprintf(env.Stderr, "bench engine: fake AceStream engine on %s\n", e.URL())
	return e.Serve()
}
