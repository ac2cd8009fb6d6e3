package engine

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mode is what a node does.
type Mode int

// Modes of a node.
const (
	Viewer Mode = iota
	Source
	Support
	Startup
)

func (m Mode) String() string {
	return [...]string{"viewer", "source", "support", "startup"}[m]
}

// Config of a node; the CLI fills it from AceStream's flags.
type Config struct {
	Mode Mode
	Bind string // address to listen on and dial from; "" for every interface
	// AnnounceHost is the host a source writes into its transport file for its built-in tracker;
	// "" for --bind, or without it the address of an interface that reaches other machines.
	AnnounceHost string
	Port         int  // peer protocol and node web interface
	HTTPPort     int  // viewer: player API
	APIPort      int  // viewer: the legacy TCP engine API; 0 turns it off
	BindAll      bool // viewer: answer the player API from anywhere

	Source        string
	SourceLoop    bool
	SourceProgram int // the program_number to keep of a multiplex; 0 keeps all (see mpegts.Selector)
	Stdin         io.Reader
	Name          string
	Title         string
	Quality       string
	Category      string
	Bitrate       int64 // bytes per second; 0 = measure
	PublishDir    string
	CacheDir      string

	URL          string // support/startup: the transport file
	DownloadFrom []netip.AddrPort
	Trackers     []string
	Metatrackers []string
	StartupNodes []string

	MaxPeers       int
	MaxUploadSlots int
	MaxConnections int
	RotateBytes    int64 // startup node: rotate out peers that downloaded this much
	LiveCacheSize  int64
	LiveCacheType  string        // "disk" (default) or "memory"
	LiveCacheTime  time.Duration // viewer: keep at most this much of a stream (its bitrate × time); 0: size only
	MemoryBase     int64         // viewer: the Go memory limit without players, raised as they join (0: none)
	LiveDelay      time.Duration // viewer: --live-delay, players paced this far behind the live edge (0: not paced)

	Private   bool             // --private-node 1
	UploadTo  []netip.AddrPort // --upload-to
	MonitorIP netip.Addr       // --monitor-node-ip

	StatsInterval time.Duration // --stats-report-interval (0: the web interface's default)
	StatsPeers    bool          // --stats-report-peers
	RemoteAccess  bool          // --service-remote-access
	AccessToken   string        // --service-access-token

	IPFilterConfig string // --ip-filter-config
	GeoIPDB        string // --geoip-db

	// Not flags: tuning and tests.
	PieceDuration time.Duration // about how long a piece lasts
	MeasureFor    time.Duration // how long to measure the bitrate when not given
	IdleStop      time.Duration // viewer: stop a stream this long after its last playback session
	Activity      time.Duration // viewer: end a playback session this long after its last reader or request
	StartTimeout  time.Duration // viewer: give up on a stream with no data after this (0: the player API's default)
	PlayerTimeout time.Duration // viewer: disconnect a player that takes no data for this long (0: likewise)
	Logger        *slog.Logger
	Progress      io.Writer // source: a line of ingest rate, pieces and peers every 5 s (a terminal); nil for none
	// WrapPeerConn wraps each connection the node dials to a peer (dialed) or accepts on its port
	// (benchmarks shape links with it).
	WrapPeerConn func(c net.Conn, dialed bool) net.Conn
}

// Defaults of the limits (AceStream does not publish its own).
const (
	DefaultMaxPeers       = 50
	DefaultMaxUploadSlots = 50
	DefaultMaxConnections = 1000
	DefaultRotateBytes    = 4 << 20
	DefaultLiveCacheSize  = 209715200 // AceStream's --live-cache-size
	// DefaultLiveCacheTime is how much of a stream a viewer keeps in its live cache: a few
	// keyframe intervals behind what it plays, for peers a little behind it (its players' fan-out
	// ring keeps less, see ringSlack).
	DefaultLiveCacheTime = 10 * time.Second
	// DefaultPieceDuration is about how much of the stream a source puts in a piece.
	DefaultPieceDuration = 500 * time.Millisecond
)

// Defaults fills zero tuning values.
func (c *Config) Defaults() {
	if c.PieceDuration == 0 {
		c.PieceDuration = DefaultPieceDuration
	}
	if c.MeasureFor == 0 {
		c.MeasureFor = 3 * time.Second
	}
	if c.IdleStop == 0 {
		c.IdleStop = 10 * time.Second
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.MaxUploadSlots == 0 {
		c.MaxUploadSlots = DefaultMaxUploadSlots
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.RotateBytes == 0 {
		c.RotateBytes = DefaultRotateBytes
	}
	if c.LiveCacheType == "" {
		c.LiveCacheType = "disk"
	}
	if c.CacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			c.CacheDir = filepath.Join(dir, "aceswarm")
		} else {
			c.CacheDir = filepath.Join(os.TempDir(), "aceswarm")
		}
	}
	if c.LiveCacheSize == 0 {
		c.LiveCacheSize = DefaultLiveCacheSize
	}
	if c.LiveCacheTime == 0 {
		c.LiveCacheTime = DefaultLiveCacheTime
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks what each mode needs; messages name the flag.
func (c *Config) Validate() error {
	if c.IPFilterConfig != "" && c.Mode == Viewer {
		return errors.New("--ip-filter-config works on source, support and startup nodes")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("--port %d: out of range", c.Port)
	}
	if c.Bind != "" {
		if _, err := netip.ParseAddr(c.Bind); err != nil {
			return fmt.Errorf("--bind %q: not an IP address", c.Bind)
		}
	}
	if c.AnnounceHost != "" && (strings.ContainsAny(c.AnnounceHost, "/:@?# ") || c.Mode != Source) {
		return fmt.Errorf("--announce-host %q: want a host name or IPv4 address, on a source node", c.AnnounceHost)
	}
	if c.SourceProgram != 0 && (c.SourceProgram < 1 || c.SourceProgram > 65535 || c.Mode != Source) {
		return fmt.Errorf("--source-program %d: want a program number from 1 to 65535, on a source node", c.SourceProgram)
	}
	switch c.Mode {
	case Source:
		switch {
		case c.Source == "":
			return errors.New("--source is required for a source node")
		case c.Name == "":
			return errors.New("--name is required for a source node")
		case c.PublishDir == "":
			return errors.New("--publish-dir is required for a source node")
		case c.CacheDir == "":
			return errors.New("--cache-dir is required for a source node")
		}
	case Support, Startup:
		if c.URL == "" {
			return fmt.Errorf("--url (the transport file) is required for a %s node", c.Mode)
		}
	case Viewer:
		if c.HTTPPort <= 0 || c.HTTPPort > 65535 {
			return fmt.Errorf("--http-port %d: out of range", c.HTTPPort)
		}
	}
	if c.LiveCacheSize < 1<<20 {
		return fmt.Errorf("--live-cache-size %d: at least 1048576 bytes", c.LiveCacheSize)
	}
	if c.LiveCacheType != "disk" && c.LiveCacheType != "memory" {
		return fmt.Errorf("--live-cache-type %q: want disk or memory", c.LiveCacheType)
	}
	for name, v := range map[string]int{"--max-peers": c.MaxPeers, "--max-upload-slots": c.MaxUploadSlots, "--max-connections": c.MaxConnections} {
		if v <= 0 {
			return fmt.Errorf("%s %d: must be positive", name, v)
		}
	}
	return nil
}
