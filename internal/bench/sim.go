package bench

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/engine"
	"github.com/aceswarm/aceswarm/internal/ingest"
	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/memnet"
	enginePlayback "github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/synth"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// The simulation runs the swarm of bench swarm in virtual time: the same swarm sessions, roles,
// limits, link model (links, netem), churn, players and figures, on a network in memory
// (memnet), with testing/synctest's clock behind every timer, ticker and link delay, so that a
// run takes as long as the machine needs to compute it, not as long as the stream lasts.
//
// What differs from bench swarm, and why (docs/benchmarks.md, Simulation):
//   - No engines around the sessions: no HTTP API and no fan-out ring. A player reads its
//     viewer's live buffer from the newest complete keyframe piece on, which is where the
//     engine starts its players.
//   - No tracker: each viewer is handed what a tracker answers (up to simNumWant peers: the
//     servers and viewers drawn at random among those playing) and finds more by exchange.
//   - No CPU or memory figures: they would be the simulator's.

// MaxSimViewers bounds a simulation's viewers.
const MaxSimViewers = 20000

// simNumWant is how many peers a tracker answers (as the swarm's announces ask).
const simNumWant = 50

// simPort is every simulated node's port.
const simPort = 8621

// validateSim checks the parameters of a simulated run.
func (c *SwarmConfig) validateSim() error {
	if c.Hostile != 0 || c.SlowPlayers != 0 || c.Sample != "" || c.HeapProfile != "" {
		return errors.New("the simulation has no hostile peer, slow players, samples or profiles")
	}
	return c.validate(MaxSimViewers)
}

// RunSim runs the simulation and returns bench swarm's figures (without CPU and memory). It must
// be called inside a testing/synctest bubble, with nothing else running in it.
func RunSim(ctx context.Context, cfg SwarmConfig) (*SwarmResult, error) {
	if err := cfg.validateSim(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &sim{run: newRun(ctx, cfg), net: memnet.New()}
	s.addViewer = s.startViewer
	res, err := s.execute()
	cancel()
	s.wg.Wait()
	return res, err
}

// sim is one simulated run: a bench run whose nodes are bare sessions on a memory network.
type sim struct {
	*run
	net     *memnet.Network
	key     ed25519.PrivateKey
	file    *transport.File
	raw     []byte
	servers []netip.AddrPort // source, support and startup nodes
}

func (s *sim) execute() (*SwarmResult, error) {
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), simPort)
	support := serverAddrs(2, s.cfg.Support)
	startup := serverAddrs(3, s.cfg.Startup)
	s.servers = append(append([]netip.AddrPort{src}, support...), startup...)
	if err := s.makeFile(startup); err != nil {
		return nil, err
	}
	n, err := s.newNode(src, swarm.Config{Role: wire.RoleSource, CacheSize: 32 << 20,
		MaxPeers: engine.DefaultMaxPeers, MaxUploadSlots: engine.DefaultMaxUploadSlots}, s.cfg.ServerUpload)
	if err != nil {
		return nil, err
	}
	s.run.run("source", n, nil)
	var streamBytes atomic.Int64
	s.wg.Go(func() { synth.New(s.cfg.Bitrate).RunCounting(s.ctx, s.publisher(n), &streamBytes) })
	if err := s.startRelays(wire.RoleSupport, "support", support); err != nil {
		return nil, err
	}
	if err := s.startRelays(wire.RoleStartup, "startup", startup); err != nil {
		return nil, err
	}
	return s.play(&streamBytes) // validateSim left out the extras that need real sockets or files
}

// serverAddrs are the addresses of count servers of one kind (10.0.kind.1 on).
func serverAddrs(kind byte, count int) []netip.AddrPort {
	var out []netip.AddrPort
	for i := range count {
		out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, kind, byte(1 + i)}), simPort))
	}
	return out
}

// makeFile makes the stream's key and transport file, as a source does.
func (s *sim) makeFile(startup []netip.AddrPort) error {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	s.key = priv
	s.file = &transport.File{Info: transport.Info{
		Name: "sim", Title: "sim", Quality: "HD", Category: "sport", Bitrate: int64(s.cfg.Bitrate / 8),
		PieceLength: engine.PieceLength, BlockLength: transport.BlockLength, SignatureAlgorithm: "ed25519",
		PublicKey: string(pub), Live: 1,
	}}
	for _, a := range startup {
		s.file.StartupNodes = append(s.file.StartupNodes, a.String())
	}
	s.raw, err = s.file.Encode()
	return err
}

// publisher cuts the synthetic stream into pieces and publishes them on the source, as the
// source engine does.
func (s *sim) publisher(src *simNode) io.Writer {
	cut := ingest.NewCutter(engine.PieceLength, engine.DefaultPieceDuration)
	ih := s.file.InfoHash()
	var next uint32
	return writerFunc(func(b []byte) (int, error) {
		for _, rp := range cut.Feed(b, time.Now()) {
			h := wire.NewHeader(s.key, ih, next, rp.Time.UnixMilli(), rp.Keyframe, rp.Data, transport.BlockLength)
			next++
			if err := src.sess.Publish(s.ctx, h, rp.Data); err != nil {
				return 0, err
			}
		}
		return len(b), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// startRelays starts support or startup nodes that download from the source and the support
// nodes, as bench swarm's do.
func (s *sim) startRelays(role uint8, name string, addrs []netip.AddrPort) error {
	for _, a := range addrs {
		var from []netip.AddrPort
		for _, f := range s.servers[:1+s.cfg.Support] {
			if f != a {
				from = append(from, f)
			}
		}
		n, err := s.newNode(a, swarm.Config{Role: role, Peers: from, DownloadFrom: from, CacheSize: 32 << 20,
			MaxPeers: 200, MaxUploadSlots: 200}, s.cfg.ServerUpload)
		if err != nil {
			return fmt.Errorf("%s node %s: %w", name, a, err)
		}
		s.run.run(name, n, nil)
	}
	return nil
}

// startViewer starts a viewer on the next address, with a player on it.
func (s *sim) startViewer() error {
	s.mu.Lock()
	i := s.nextIP
	s.nextIP++
	peers := s.trackerAnswer()
	s.mu.Unlock()
	ip := netip.AddrFrom4([4]byte{10, byte(1 + i>>16), byte(i >> 8), byte(i)})
	s.links.placeViewer(ip)
	n, err := s.newNode(netip.AddrPortFrom(ip, simPort), swarm.Config{Role: wire.RoleViewer, Peers: peers,
		MaxPeers: s.cfg.viewerPeers(), MaxUploadSlots: engine.DefaultMaxUploadSlots,
		CacheSize: 16 << 20, CacheTime: engine.DefaultLiveCacheTime}, s.cfg.ViewerUpload)
	if err != nil {
		return err
	}
	delay := s.cfg.LiveDelay
	s.run.run("viewer", n, &player{open: func(ctx context.Context) (io.ReadCloser, error) { return n.stream(ctx, delay) }})
	return nil
}

// trackerAnswer is what a tracker tells a new viewer: the servers and viewers at random, up to
// simNumWant in all. s.mu is held.
func (s *sim) trackerAnswer() []netip.AddrPort {
	out := append([]netip.AddrPort(nil), s.servers...)
	vs := s.nodes["viewer"]
	for _, k := range rand.Perm(len(vs)) {
		if len(out) >= simNumWant {
			break
		}
		out = append(out, vs[k].n.Addr())
	}
	return out
}

// newNode makes a session on the memory network at addr, its links shaped as bench swarm's.
func (s *sim) newNode(addr netip.AddrPort, cfg swarm.Config, up Rate) (*simNode, error) {
	ln, err := s.net.Listen(addr)
	if err != nil {
		return nil, err
	}
	cfg.PeerID, cfg.Bind, cfg.ListenPort = swarm.NewPeerID(), addr.Addr(), addr.Port()
	cfg.InfoHash, cfg.File, cfg.Raw = s.file.InfoHash(), s.file, s.raw
	cfg.Dial, cfg.Logger = s.net.Dialer(addr.Addr()), s.cfg.Logger
	wrap := s.links.wrap(up)
	if wrap != nil {
		cfg.WrapConn = func(c net.Conn) net.Conn { return wrap(c, true) }
	}
	sess, err := swarm.New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	h := swarm.NewHost(ln, cfg.PeerID, http.NotFoundHandler(), s.cfg.Logger)
	if wrap != nil {
		h.Wrap = func(c net.Conn) net.Conn { return wrap(c, false) }
	}
	h.Add(sess)
	return &simNode{sess: sess, host: h, addr: addr}, nil
}

// simNode is a bare swarm session and its host on the memory network.
type simNode struct {
	sess   *swarm.Session
	host   *swarm.Host
	addr   netip.AddrPort
	served atomic.Int64 // bytes its player read
}

func (n *simNode) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		n.host.Run(ctx)
		close(done)
	}()
	err := n.sess.Run(ctx)
	<-done
	return err
}

func (n *simNode) Traffic() swarm.Stats { return n.sess.Stats() }
func (n *simNode) PlayerBytes() int64   { return n.served.Load() }
func (n *simNode) Addr() netip.AddrPort { return n.addr }

// stream opens the player's stream: the live buffer from its newest complete keyframe piece on,
// jumping ahead when it falls as far behind as the engine's players do, paced delay behind the
// live edge as the engine paces its players (0: not paced).
func (n *simNode) stream(ctx context.Context, delay time.Duration) (io.ReadCloser, error) {
	select {
	case <-n.sess.Ready():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	_, buf := n.sess.File()
	rd := buf.NewReader()
	rd.SetMaxLag(enginePlayback.DefaultMaxLag)
	p := &pieceStream{ctx: ctx, rd: rd, served: &n.served}
	if delay > 0 {
		p.pace = func(t int64) time.Time { return n.sess.PlayAt(t, delay) }
	}
	return p, nil
}

// pieceStream reads pieces from a live buffer reader as one byte stream. With a pace, a piece
// other than the one it starts (or restarts, after a gap) at waits for its time, as
// fanout.Client paces an engine's players.
type pieceStream struct {
	ctx    context.Context
	rd     *livebuf.Reader
	pace   func(t int64) time.Time
	rest   []byte
	served *atomic.Int64
}

func (p *pieceStream) Read(b []byte) (int, error) {
	if len(p.rest) == 0 {
		c, err := p.rd.Next(p.ctx)
		if err != nil {
			return 0, io.EOF
		}
		if p.pace != nil && !c.Gap {
			if err := sleepUntil(p.ctx, p.pace(c.Header.Time)); err != nil {
				return 0, io.EOF
			}
		}
		p.rest = c.Data
	}
	k := copy(b, p.rest)
	p.rest = p.rest[k:]
	p.served.Add(int64(k))
	return k, nil
}

// sleepUntil waits until t (at once when t has passed) or ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pieceStream) Close() error { return nil }
