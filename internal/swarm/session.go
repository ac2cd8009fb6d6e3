package swarm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// Config describes one session.
type Config struct {
	Role           uint8
	InfoHash       transport.InfoHash
	File           *transport.File // nil when only the infohash is known
	Raw            []byte          // the encoded transport file, with File
	PeerID         [20]byte
	Bind           netip.Addr // address to dial from; also this node's address
	ListenPort     uint16
	Trackers       []string         // trackers beyond the transport file's
	Peers          []netip.AddrPort // addresses to dial from the start
	DownloadFrom   []netip.AddrPort // when set, download only from these
	MaxPeers       int
	MaxUploadSlots int
	Private        bool             // upload only to UploadTo
	UploadTo       []netip.Addr     // IPs a private node uploads to
	RotateBytes    int64            // startup node: a peer that downloaded this much may be rotated out
	TreeSlots      int              // (child, substream) pairs this node forwards to; 0: by role (tree.go)
	StartupNodes   []netip.AddrPort // dialed first
	Metatrackers   []string         // beyond the transport file's
	CacheSize      int64
	// CacheTime, when set, bounds the live cache to this much of the stream at the transport
	// file's bitrate too (at least 2 pieces): a viewer keeps seconds of stream, not a fixed size.
	CacheTime time.Duration
	CacheDir  string // the live cache goes to <CacheDir>/<infohash>/ on disk; memory when empty
	Logger    *slog.Logger
	// Dial, when set, opens the connections to peers instead of TCP (a simulated network).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// WrapConn, when set, wraps every connection this node dials to a peer (benchmarks use it to
	// delay links; see package netem).
	WrapConn func(net.Conn) net.Conn
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Role < wire.RoleSource || c.Role > wire.RoleViewer:
		return fmt.Errorf("swarm: role %d unknown", c.Role)
	case c.File != nil && c.File.InfoHash() != c.InfoHash:
		return errors.New("swarm: transport file does not match the infohash")
	case c.Role == wire.RoleSource && c.File == nil:
		return errors.New("swarm: a source needs its transport file")
	case c.MaxPeers <= 0:
		return errors.New("swarm: max peers must be positive")
	case c.MaxUploadSlots <= 0:
		return errors.New("swarm: max upload slots must be positive")
	case c.CacheSize <= 0:
		return errors.New("swarm: cache size must be positive")
	}
	return nil
}

// NewPeerID returns a random peer id with the aceswarm prefix.
func NewPeerID() [20]byte {
	var id [20]byte
	copy(id[:], "-AW0100-")
	rand.Read(id[8:])
	return id
}

// Stats are a session's counters.
type Stats struct {
	Peers           int
	Uploaded        int64
	Downloaded      int64
	UploadedMedia   int64
	DownloadedMedia int64
	DroppedBlocks   int64 // blocks not sent because a peer's queue was full
	DuplicateMedia  int64 // media received that was held already (part of DownloadedMedia)
}

// Add sums o into s.
func (s *Stats) Add(o Stats) {
	s.Peers += o.Peers
	s.Uploaded += o.Uploaded
	s.Downloaded += o.Downloaded
	s.UploadedMedia += o.UploadedMedia
	s.DownloadedMedia += o.DownloadedMedia
	s.DroppedBlocks += o.DroppedBlocks
	s.DuplicateMedia += o.DuplicateMedia
}

// Session is one stream on one node.
type Session struct {
	cfg Config
	log *slog.Logger

	incoming chan accepted
	local    chan localPiece
	found    chan []netip.AddrPort
	dialed   chan dialResult
	inbox    chan event
	ctl      chan func(*loopState)
	stopped  chan struct{} // closed when Run returns

	metaMu       sync.Mutex // guards metaTrackers
	metaTrackers []string   // trackers learned from metatrackers

	ready     chan struct{} // closed once the transport file is known
	fileMu    sync.Mutex    // guards file, raw, buf
	file      *transport.File
	raw       []byte
	buf       *livebuf.Buffer
	counts    counters // bytes on the wire, dropped blocks
	sentMedia atomic.Int64
	recvMedia atomic.Int64
	npeers    atomic.Int64
	metrics   metricCounters
	// ahead is the loop's source clock estimate (ms, sourceClock.ahead), for PlayAt;
	// aheadKnown once there is one.
	ahead      atomic.Int64
	aheadKnown atomic.Bool

	// Owned by the Run goroutine.
	st loopState
}

type accepted struct {
	nc net.Conn
	hs wire.Handshake
}

type localPiece struct {
	h    *wire.PieceHeader
	data []byte
	done chan error
}

// New returns a session; it starts nothing.
func New(cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Session{
		cfg: cfg, log: cfg.Logger.With("infohash", cfg.InfoHash.String()),
		// incoming and dialed hold connections: unbuffered, so that none is left in a buffer,
		// open, when the loop stops (Accept and dial close what the loop did not take)
		incoming: make(chan accepted), local: make(chan localPiece), found: make(chan []netip.AddrPort, 16),
		dialed: make(chan dialResult), inbox: make(chan event, 1024), ready: make(chan struct{}),
		ctl: make(chan func(*loopState)), stopped: make(chan struct{}),
	}
	if cfg.File != nil {
		s.setFile(cfg.File, cfg.Raw)
	}
	return s, nil
}

func (s *Session) setFile(f *transport.File, raw []byte) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if s.file != nil {
		return
	}
	limit := cacheLimit(s.cfg, f)
	var store livebuf.Store
	if s.cfg.CacheDir != "" {
		ds, err := livebuf.NewDiskStore(filepath.Join(s.cfg.CacheDir, s.cfg.InfoHash.String()), limit)
		if err != nil {
			s.log.Error("disk cache unusable, keeping the live cache in memory", "err", err)
		} else {
			store = ds
		}
	}
	s.file, s.raw = f, raw
	s.buf = livebuf.New(int(f.Info.BlockLength), limit, store)
	close(s.ready)
}

// InfoHash of the stream.
func (s *Session) InfoHash() transport.InfoHash { return s.cfg.InfoHash }

// Ready is closed once the transport file is known.
func (s *Session) Ready() <-chan struct{} { return s.ready }

// File returns the transport file and the buffer, or nils before Ready.
func (s *Session) File() (*transport.File, *livebuf.Buffer) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	return s.file, s.buf
}

// RawFile is the encoded transport file, or nil before Ready.
func (s *Session) RawFile() []byte {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	return s.raw
}

// Stats returns the counters.
func (s *Session) Stats() Stats {
	return Stats{
		Peers: int(s.npeers.Load()), Uploaded: s.counts.sent.Load(), Downloaded: s.counts.recv.Load(),
		UploadedMedia: s.sentMedia.Load(), DownloadedMedia: s.recvMedia.Load(), DroppedBlocks: s.counts.dropped.Load(),
		DuplicateMedia: s.metrics.duplicate.Load(),
	}
}

// Accept hands over an incoming connection whose handshake named this stream; ours was sent.
// A loop busy with a burst of newcomers is waited for up to acceptWait (the host's caps bound
// how many wait); after that, or once the session has ended, the connection is closed.
func (s *Session) Accept(nc net.Conn, hs wire.Handshake) {
	t := time.NewTimer(acceptWait)
	defer t.Stop()
	select {
	case s.incoming <- accepted{nc, hs}:
	case <-t.C:
		nc.Close()
	case <-s.stopped:
		nc.Close()
	}
}

// acceptWait bounds how long a handed-over connection waits for a busy session loop.
const acceptWait = 2 * time.Second

// Publish adds a piece the source made and announces it to the peers.
func (s *Session) Publish(ctx context.Context, h *wire.PieceHeader, data []byte) error {
	lp := localPiece{h, data, make(chan error, 1)}
	select {
	case s.local <- lp:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-lp.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run serves the session until ctx ends; it returns after every goroutine it started.
func (s *Session) Run(ctx context.Context) error {
	defer close(s.stopped)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	s.st.init(s, ctx, &wg)
	wg.Go(func() { s.announceLoop(ctx) })
	wg.Go(func() { s.metatrackerLoop(ctx) })
	s.st.addNamed(s.cfg.DownloadFrom)
	s.st.addNamed(s.cfg.Peers)
	s.st.addStartupNodes(s.cfg.StartupNodes)
	if f, _ := s.File(); f != nil {
		s.st.addFileAddrs(f)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.st.closeAll()
			cancel()
			wg.Wait()
			if _, buf := s.File(); buf != nil {
				buf.Close()
			}
			return nil
		case ev := <-s.inbox:
			s.st.handle(ev)
			s.drainInbox()
		case a := <-s.incoming:
			s.st.addIncoming(a)
		case r := <-s.dialed:
			s.st.dialDone(r)
		case addrs := <-s.found:
			s.st.addKnown(addrs)
			s.st.dialMore()
		case f := <-s.ctl:
			f(&s.st)
		case lp := <-s.local:
			lp.done <- s.st.publish(lp.h, lp.data)
		case <-tick.C:
			s.st.tick()
		}
		s.st.schedule()
	}
}

// drainInbox handles the messages already waiting, up to inboxBatch, so that the scheduler runs
// once for a burst of them rather than once for each.
func (s *Session) drainInbox() {
	for range inboxBatch {
		select {
		case ev := <-s.inbox:
			s.st.handle(ev)
		default:
			return
		}
	}
}

// inboxBatch bounds a drain, so that the loop's other inputs wait for at most this many messages.
const inboxBatch = 64

// parseAddrs reads IP:PORT strings, skipping bad ones.
func parseAddrs(list []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range list {
		if ap, err := netip.ParseAddrPort(a); err == nil {
			out = append(out, ap)
		}
	}
	return out
}

// cacheLimit is the live cache's size for stream f: CacheSize, or less with CacheTime.
func cacheLimit(c Config, f *transport.File) int64 {
	if c.CacheTime <= 0 || f.Info.Bitrate <= 0 {
		return c.CacheSize
	}
	bytes := int64(c.CacheTime.Seconds() * float64(f.Info.Bitrate))
	return min(c.CacheSize, max(bytes, 2*f.Info.PieceLength))
}
