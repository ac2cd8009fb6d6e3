package engine

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aceswarm/aceswarm/internal/ingest"
	"github.com/aceswarm/aceswarm/internal/progress"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/tracker"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/version"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// PieceLength is the largest piece a source makes.
const PieceLength = 1 << 20

// source ingests the stream, cuts and signs pieces, and publishes the transport file.
type source struct {
	n   *Node
	key ed25519.PrivateKey
	in  *ingest.Input
	cut atomic.Int64 // bytes cut into pieces: aceswarm_source_bytes_total and the progress line
}

func newSource(n *Node) (*source, error) {
	cfg := n.cfg
	for flag, dir := range map[string]string{"--publish-dir": cfg.PublishDir, "--cache-dir": cfg.CacheDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
	}
	key, err := transport.LoadOrCreateKey(cfg.CacheDir, cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("--cache-dir: %w", err)
	}
	in, err := ingest.New(ingest.Config{Source: cfg.Source, Loop: cfg.SourceLoop, Stdin: cfg.Stdin, Logger: n.log})
	if err != nil {
		return nil, err
	}
	n.mux.Handle("/announce", tracker.Handler(tracker.NewStore(3*tracker.Interval*time.Second)))
	s := &source{n: n, key: key, in: in}
	n.metrics.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "aceswarm_source_bytes_total", Help: "Source node: stream bytes cut into pieces.",
	}, func() float64 { return float64(s.cut.Load()) }))
	return s, nil
}

func (s *source) run(ctx context.Context) error {
	n := s.n
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { s.in.Run(ctx) })
	cutter := ingest.NewCutter(PieceLength, n.cfg.PieceDuration)
	cutter.Select(uint16(n.cfg.SourceProgram))
	backlog, bitrate := s.measure(ctx, cutter)
	if err := cutter.Err(); err != nil {
		return fmt.Errorf("--source-program: %w", err)
	}
	if ctx.Err() != nil {
		return nil
	}
	f, err := s.transportFile(bitrate)
	if err != nil {
		return err
	}
	path, err := transport.WriteFile(n.cfg.PublishDir, f)
	if err != nil {
		return fmt.Errorf("--publish-dir: %w", err)
	}
	raw, _ := f.Encode()
	cfg := n.sessionConfig(wire.RoleSource)
	cfg.InfoHash, cfg.File, cfg.Raw = f.InfoHash(), f, raw
	sess, err := swarm.New(cfg)
	if err != nil {
		return err
	}
	n.log.Info("broadcasting", "infohash", cfg.InfoHash.String(), "transport_file", path, "bitrate", bitrate)
	wg.Go(func() { n.runSession(ctx, sess) })
	wg.Go(func() { progress.Every(ctx, n.cfg.Progress, 5*time.Second, s.progressLine(sess)) })
	p := &publisher{s: s, sess: sess, ih: cfg.InfoHash}
	if p.next, err = s.firstNumber(); err != nil {
		return err
	}
	for _, rp := range backlog {
		if err := p.publish(ctx, rp); err != nil {
			return err
		}
	}
	return p.loop(ctx, cutter)
}

// progressLine returns the source's progress line maker: ingest rate since the last line, the
// newest piece published, peers.
func (s *source) progressLine(sess *swarm.Session) func() string {
	last, lastAt := s.cut.Load(), time.Now()
	return func() string {
		now, cut := time.Now(), s.cut.Load()
		rate := float64(cut-last) / now.Sub(lastAt).Seconds()
		last, lastAt = cut, now
		var newest uint32
		if _, buf := sess.File(); buf != nil && buf.Newest() != nil {
			newest = buf.Newest().Number
		}
		return fmt.Sprintf("source: ingest %s, piece %d, %d peers", progress.Rate(rate), newest, sess.Stats().Peers)
	}
}

// measure returns the pieces cut while measuring the bitrate (none when --bitrate is given).
func (s *source) measure(ctx context.Context, c *ingest.Cutter) ([]ingest.RawPiece, int64) {
	if s.n.cfg.Bitrate > 0 {
		return nil, s.n.cfg.Bitrate
	}
	var backlog []ingest.RawPiece
	var start time.Time
	for {
		select {
		case <-ctx.Done():
			return nil, 0
		case b, ok := <-s.in.Out:
			if !ok {
				return backlog, rate(c.Kept(), time.Since(start))
			}
			now := time.Now()
			if start.IsZero() {
				start = now
			}
			backlog = append(backlog, c.Feed(b, now)...)
			if c.Err() != nil {
				return nil, 0
			}
			if now.Sub(start) >= s.n.cfg.MeasureFor {
				return backlog, rate(c.Kept(), now.Sub(start))
			}
		}
	}
}

func rate(bytes int64, d time.Duration) int64 {
	if d < 100*time.Millisecond {
		return bytes
	}
	return int64(float64(bytes) / d.Seconds())
}

// transportFile builds the transport file, keeping a previous one's info (and so the infohash)
// when it was made with the same key and the same stream flags.
func (s *source) transportFile(bitrate int64) (*transport.File, error) {
	cfg := s.n.cfg
	info := transport.Info{
		Name: cfg.Name, Title: cfg.Title, Quality: cfg.Quality, Category: cfg.Category, Bitrate: bitrate,
		PieceLength: PieceLength, BlockLength: transport.BlockLength, SignatureAlgorithm: "ed25519",
		PublicKey: string(s.key.Public().(ed25519.PublicKey)), Live: 1,
	}
	prev, _, err := transport.Load(context.Background(), http.DefaultClient, filepath.Join(cfg.PublishDir, cfg.Name+".acelive"))
	if err == nil && sameStream(prev.Info, info, cfg.Bitrate == 0) {
		info = prev.Info
	}
	f := &transport.File{
		Info: info, Metatrackers: cfg.Metatrackers, StartupNodes: cfg.StartupNodes,
		CreatedBy: "aceswarm " + version.Version, CreationDate: time.Now().Unix(),
	}
	f.SetTrackers(append([]string{s.ownTracker()}, cfg.Trackers...))
	return f, nil
}

func sameStream(prev, cur transport.Info, measured bool) bool {
	if measured {
		cur.Bitrate = prev.Bitrate
	}
	return prev == cur
}

// ownTracker is the URL of the tracker built into this node: on --announce-host, else on --bind,
// else on the address of the interface this machine would use to reach others (see
// outboundAddr), else on 127.0.0.1 with a warning (viewers on other machines will not reach it).
func (s *source) ownTracker() string {
	host := s.n.cfg.AnnounceHost
	if host == "" && !s.n.bind.IsUnspecified() {
		host = s.n.bind.String()
	}
	if host == "" {
		if a, ok := outboundAddr(); ok {
			host = a.String()
			s.n.log.Info("tracker address chosen: the interface that reaches other machines (--announce-host to name another)", "host", host)
		}
	}
	if host == "" {
		s.n.log.Warn("no --bind or --announce-host and no network interface: the transport file names 127.0.0.1 as the built-in tracker's host, which viewers on other machines cannot reach")
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(int(s.n.port))) + "/announce"
}

// outboundAddr is the address of the interface this machine would use to reach others: the
// local address of a UDP socket connected to a public address (connecting a UDP socket only
// looks up the route; nothing is sent), or, on a machine with no default route, the first
// global unicast IPv4 address of an interface that is up.
func outboundAddr() (netip.Addr, bool) {
	if c, err := net.Dial("udp4", "203.0.113.1:9"); err == nil { // TEST-NET-3: never sent to
		defer c.Close()
		if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil && ap.Addr().IsGlobalUnicast() {
			return ap.Addr(), true
		}
	}
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && p.Addr().IsGlobalUnicast() {
				return p.Addr(), true
			}
		}
	}
	return netip.Addr{}, false
}

// firstNumber continues the numbering recorded in <name>.restart, leaving out one number so
// that viewers see the hole and resync their players at the next keyframe.
func (s *source) firstNumber() (uint32, error) {
	last, ok, err := transport.ReadRestart(s.n.cfg.CacheDir, s.n.cfg.Name)
	if err != nil {
		return 0, fmt.Errorf("--cache-dir: %w", err)
	}
	if ok {
		return last + 2, nil
	}
	return 0, nil
}
