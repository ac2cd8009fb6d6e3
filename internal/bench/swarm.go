package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aceswarm/aceswarm/internal/engine"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/synth"
	"github.com/aceswarm/aceswarm/internal/tracker"
)

// SwarmConfig describes a swarm bench run.
type SwarmConfig struct {
	Viewers, Support, Startup int
	Bitrate                   int // bits per second
	Duration                  time.Duration
	Churn                     float64       // share of the viewers replaced per minute
	Network                                 // the links between nodes
	Hostile                   time.Duration // a hostile peer attacks a random node this often; 0: none
	SlowPlayers               int           // players reading at half the bitrate, on the first viewers
	ViewerPeers               int           // each viewer engine's --max-peers (0: the engine's default, 50)
	LiveDelay                 time.Duration // each viewer engine's --live-delay (0: players not paced)
	LiveCacheType             string        // every node's --live-cache-type: disk (the engines' default, "") or memory
	Sample                    string        // CSV of goroutines, heap, RSS and open files every 30 s
	HeapProfile               string        // pprof heap profile written as the viewers stop (at the peak)
	Dir                       string        // scratch folder
	Logger                    *slog.Logger
}

// Validate checks the parameters; messages name the flag.
func (c *SwarmConfig) Validate() error { return c.validate(MaxViewers) }

func (c *SwarmConfig) validate(maxViewers int) error {
	switch {
	case c.Viewers < 1 || c.Viewers > maxViewers:
		return fmt.Errorf("--viewers %d: want 1 to %d", c.Viewers, maxViewers)
	case c.Support < 0 || c.Support > 50:
		return fmt.Errorf("--support %d: want 0 to 50", c.Support)
	case c.Startup < 0 || c.Startup > 50:
		return fmt.Errorf("--startup %d: want 0 to 50", c.Startup)
	case c.Bitrate < 64_000 || c.Bitrate > 100_000_000:
		return fmt.Errorf("--bitrate %d: want 64000 to 100000000 bits per second", c.Bitrate)
	case c.Duration < 5*time.Second:
		return fmt.Errorf("--duration %v: want at least 5s", c.Duration)
	case c.Churn < 0 || c.Churn > 1:
		return fmt.Errorf("--churn %v: want a share from 0 to 1", c.Churn)
	case c.RTT < 0 || c.RTT > 2*time.Second:
		return fmt.Errorf("--rtt %v: want 0 to 2s", c.RTT)
	case c.Jitter < 0 || c.Jitter > c.RTT:
		return fmt.Errorf("--jitter %v: want 0 to --rtt (%v)", c.Jitter, c.RTT)
	case c.NAT < 0 || c.NAT > 1:
		return fmt.Errorf("--nat %v: want a share from 0 to 1", c.NAT)
	case c.StallLinks < 0 || c.StallLinks > 1:
		return fmt.Errorf("--stall-links %v: want 0 to 1 pauses a second", c.StallLinks)
	case c.Hostile != 0 && c.Hostile < 100*time.Millisecond:
		return fmt.Errorf("--hostile %v: want 0 (none) or at least 100ms", c.Hostile)
	case c.ViewerPeers < 0 || c.ViewerPeers > 200:
		return fmt.Errorf("--viewer-peers %d: want 1 to 200", c.ViewerPeers)
	case c.SlowPlayers < 0 || c.SlowPlayers > c.Viewers:
		return fmt.Errorf("--slow-players %d: want 0 to --viewers", c.SlowPlayers)
	case c.LiveDelay < 0 || c.LiveDelay >= engine.DefaultLiveCacheTime:
		return fmt.Errorf("--live-delay %v: want 0 up to less than %v", c.LiveDelay, engine.DefaultLiveCacheTime)
	case c.LiveCacheType != "" && c.LiveCacheType != "disk" && c.LiveCacheType != "memory":
		return fmt.Errorf("--live-cache-type %q: want disk or memory", c.LiveCacheType)
	}
	return nil
}

// MaxViewers bounds --viewers: each needs its own loopback address and a few MB.
const MaxViewers = 1000

// role counters of the nodes that ran, kept when a node stops.
type roleTraffic struct {
	uploaded, downloaded, media int64
	duplicate                   int64 // media received that was held already
}

// add sums a node's counters into t.
func (t *roleTraffic) add(s swarm.Stats) {
	t.uploaded += s.Uploaded
	t.downloaded += s.Downloaded
	t.media += s.UploadedMedia
	t.duplicate += s.DuplicateMedia
}

// run is one swarm bench in progress.
type run struct {
	cfg      SwarmConfig
	ctx      context.Context
	wg       sync.WaitGroup
	acelive  string
	trackers []string
	support  []netip.AddrPort
	start    time.Time

	mu       sync.Mutex // guards everything below
	nodes    map[string][]*runningNode
	gone     map[string]roleTraffic // counters of stopped nodes, by role
	players  []*player
	timeline []timePoint
	nextIP   int
	links    *links
	baseRSS  int64        // before the viewers started
	attacks  atomic.Int64 // made by the hostile peer
	// addViewer starts a viewer and its player (an engine and an HTTP player; a session and a
	// player reading its buffer in the simulation).
	addViewer func() error
}

// node is what a run drives and reads of one node: an engine (bench swarm) or a bare swarm
// session on the memory network (the simulation).
type node interface {
	Run(ctx context.Context) error
	Traffic() swarm.Stats
	PlayerBytes() int64 // what its players were served
	Addr() netip.AddrPort
}

type runningNode struct {
	n      node
	cancel context.CancelFunc
	done   chan struct{}
	player *player
}

// RunSwarm runs the bench and returns its result.
func RunSwarm(ctx context.Context, cfg SwarmConfig) (*SwarmResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := raiseFileLimit(cfg.Viewers, cfg.viewerPeers()); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := newRun(ctx, cfg)
	r.addViewer = r.startViewer
	cpu0 := cpuSeconds()
	res, err := r.execute()
	cancel()
	r.wg.Wait()
	if err != nil {
		return nil, err
	}
	res.CPUSeconds = cpuSeconds() - cpu0
	res.PeakRSSBytes = peakRSS()
	res.ViewerRSSBytes = max(res.PeakRSSBytes-r.baseRSS, 0) / int64(cfg.Viewers)
	return res, nil
}

func newRun(ctx context.Context, cfg SwarmConfig) *run {
	return &run{cfg: cfg, ctx: ctx, nodes: map[string][]*runningNode{}, gone: map[string]roleTraffic{},
		links: newLinks(cfg.Network, cfg.Bitrate)}
}

func (r *run) execute() (*SwarmResult, error) {
	tr, err := tracker.New(tracker.Config{Listen: "127.0.0.1:0", Logger: r.cfg.Logger})
	if err != nil {
		return nil, err
	}
	r.wg.Go(func() { tr.Run(r.ctx) })
	r.trackers = []string{"http://" + tr.Addr().String() + "/announce"}
	var streamBytes atomic.Int64
	if err := r.startSource(&streamBytes); err != nil {
		return nil, err
	}
	for i, a := range r.support {
		if _, err := r.startNode("support", a, engine.Support); err != nil {
			return nil, fmt.Errorf("support node %d: %w", i, err)
		}
	}
	r.baseRSS, _ = procRSS(os.Getpid())
	return r.play(&streamBytes)
}

// play starts the viewers and their players, runs until the end (replacing viewers at the churn
// rate, with the extras the config asks for) and returns the figures; bench swarm and the
// simulation share it.
func (r *run) play(streamBytes *atomic.Int64) (*SwarmResult, error) {
	r.start = time.Now()
	for range r.cfg.Viewers {
		if err := r.addViewer(); err != nil {
			return nil, err
		}
	}
	r.wg.Go(r.sample)
	if r.cfg.Sample != "" {
		if err := r.sampleTo(r.cfg.Sample, 30*time.Second); err != nil {
			return nil, err
		}
	}
	if r.cfg.Hostile > 0 {
		r.wg.Go(func() { r.hostile(r.cfg.Hostile) })
	}
	for k := range r.cfg.SlowPlayers {
		r.wg.Go(func() { r.slowPlayer(r.ctx, k) })
	}
	r.churn()
	end := time.Now()
	if err := writeHeapProfile(r.cfg.HeapProfile); err != nil {
		return nil, err
	}
	return r.result(end, streamBytes.Load()), nil
}

// startSource starts the source fed by the synthetic stream, and the startup nodes it names.
func (r *run) startSource(streamBytes *atomic.Int64) error {
	var startup []string
	for i := range r.cfg.Startup {
		ip := fmt.Sprintf("127.0.0.%d", 60+i)
		startup = append(startup, fmt.Sprintf("%s:%d", ip, freePort(ip)))
	}
	for i := range r.cfg.Support {
		ip := fmt.Sprintf("127.0.0.%d", 20+i)
		r.support = append(r.support, netip.MustParseAddrPort(fmt.Sprintf("%s:%d", ip, freePort(ip))))
	}
	pr, pw := io.Pipe()
	dir := r.cfg.Dir
	src, err := engine.New(engine.Config{
		Mode: engine.Source, Bind: "127.0.0.2", Source: "-", Stdin: pr, Name: "bench", Title: "bench",
		Quality: "HD", Category: "sport", Bitrate: int64(r.cfg.Bitrate / 8), PublishDir: filepath.Join(dir, "publish"),
		CacheDir: filepath.Join(dir, "source"), Trackers: r.trackers, StartupNodes: startup,
		LiveCacheType: r.cfg.LiveCacheType, LiveCacheSize: 32 << 20, Logger: r.cfg.Logger, WrapPeerConn: r.links.wrap(r.cfg.ServerUpload),
	})
	if err != nil {
		return err
	}
	r.run("source", src, nil)
	// The source stops reading when the run ends; a write blocked on the pipe then must not keep
	// the synthetic stream, and with it the run, from ending.
	context.AfterFunc(r.ctx, func() { pr.CloseWithError(r.ctx.Err()) })
	r.wg.Go(func() {
		synth := synth.New(r.cfg.Bitrate)
		streamBytes.Store(0)
		synth.RunCounting(r.ctx, pw, streamBytes)
		pw.Close()
	})
	r.acelive = filepath.Join(dir, "publish", "bench.acelive")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(r.acelive); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the source published no transport file")
		}
	}
	for i, a := range startup {
		if _, err := r.startNode("startup", netip.MustParseAddrPort(a), engine.Startup); err != nil {
			return fmt.Errorf("startup node %d: %w", i, err)
		}
	}
	return nil
}

// startNode starts a relay at addr that downloads from the source and the support nodes.
func (r *run) startNode(role string, addr netip.AddrPort, mode engine.Mode) (*engine.Node, error) {
	from := []netip.AddrPort{r.nodes["source"][0].n.Addr()}
	for _, s := range r.support { // relays share pieces among themselves
		if s != addr {
			from = append(from, s)
		}
	}
	n, err := engine.New(engine.Config{
		Mode: mode, Bind: addr.Addr().String(), Port: int(addr.Port()), URL: r.acelive, DownloadFrom: from,
		CacheDir:      filepath.Join(r.cfg.Dir, addr.String()),
		LiveCacheType: r.cfg.LiveCacheType, LiveCacheSize: 32 << 20, MaxPeers: 200, MaxUploadSlots: 200, Logger: r.cfg.Logger,
		WrapPeerConn: r.links.wrap(r.cfg.ServerUpload),
	})
	if err != nil {
		return nil, err
	}
	r.run(role, n, nil)
	return n, nil
}

// startViewer starts a viewer engine on the next free address and a player on it.
func (r *run) startViewer() error {
	r.mu.Lock()
	i := r.nextIP
	r.nextIP++
	r.mu.Unlock()
	ip := fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
	r.links.placeViewer(netip.MustParseAddr(ip))
	var n *engine.Node
	var err error
	for try := 0; try < 5; try++ { // a free port found may be taken before the engine binds it
		n, err = engine.New(engine.Config{
			Mode: engine.Viewer, Bind: ip, HTTPPort: freePort(""), Trackers: r.trackers, CacheDir: filepath.Join(r.cfg.Dir, ip),
			LiveCacheType: r.cfg.LiveCacheType, LiveCacheSize: 16 << 20, MaxPeers: r.cfg.ViewerPeers, LiveDelay: r.cfg.LiveDelay, Logger: r.cfg.Logger, WrapPeerConn: r.links.wrap(r.cfg.ViewerUpload),
		})
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return err
	}
	p := &player{url: fmt.Sprintf("http://%s/ace/getstream?url=%s", n.APIAddr(), r.acelive)}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	p.open = func(ctx context.Context) (io.ReadCloser, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	r.run("viewer", n, p)
	return nil
}

// run starts a node (and its player) until the bench ends or the node is churned out.
func (r *run) run(role string, n node, p *player) {
	ctx, cancel := context.WithCancel(r.ctx)
	rn := &runningNode{n: n, cancel: cancel, done: make(chan struct{}), player: p}
	r.mu.Lock()
	r.nodes[role] = append(r.nodes[role], rn)
	if p != nil {
		r.players = append(r.players, p)
	}
	r.mu.Unlock()
	r.wg.Go(func() {
		n.Run(ctx)
		close(rn.done)
	})
	if p != nil {
		r.wg.Go(func() { p.run(ctx) })
	}
}

// churn waits for the end of the run, replacing viewers at the churn rate.
func (r *run) churn() {
	end := time.NewTimer(r.cfg.Duration)
	defer end.Stop()
	var tick <-chan time.Time
	if perMin := r.cfg.Churn * float64(r.cfg.Viewers); perMin > 0 {
		t := time.NewTicker(time.Duration(float64(time.Minute) / perMin))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-end.C:
			return
		case <-tick:
			r.replaceViewer()
		}
	}
}

func (r *run) replaceViewer() {
	r.mu.Lock()
	vs := r.nodes["viewer"]
	k := rand.IntN(len(vs))
	rn := vs[k]
	r.nodes["viewer"] = append(vs[:k:k], vs[k+1:]...)
	g := r.gone["viewer"]
	g.add(rn.n.Traffic())
	r.gone["viewer"] = g
	r.mu.Unlock()
	rn.player.mu.Lock()
	rn.player.stopped = time.Now()
	rn.player.mu.Unlock()
	rn.cancel()
	<-rn.done
	r.addViewer()
}

// freePort finds a TCP port free on ip ("" for every address).
func freePort(ip string) int {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// viewerPeers is each viewer engine's peer limit.
func (c *SwarmConfig) viewerPeers() int {
	if c.ViewerPeers > 0 {
		return c.ViewerPeers
	}
	return engine.DefaultMaxPeers
}
