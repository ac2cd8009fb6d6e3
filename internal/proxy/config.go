package proxy

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/aceswarm/aceswarm/internal/fanout"
)

// Config is the proxy's configuration. The zero values of the durations and sizes take the
// defaults below; the names in Validate's messages are the command-line flags.
type Config struct {
	Listener net.Listener // where clients connect
	Engines  []string     // engine base URLs (scheme://host:port); a name may stand for several

	M3U8              bool          // /ace/getstream answers HLS
	M3U8StreamTimeout time.Duration // an HLS channel nobody asked for this long stops
	EmptyTimeout      time.Duration // a channel without upstream data this long ends
	BufferSize        int64         // bytes of each channel's ring
	NoResponseTimeout time.Duration // the engine's format=json answer
	StartTimeout      time.Duration // a new channel's first data, or 504
	StallTimeout      time.Duration // a silent upstream connection is reopened after this
	Linger            time.Duration // the upstream outlives its last client this long
	ClientTimeout     time.Duration // a client that takes nothing this long is disconnected
	MaxPerEngine      int           // channels per engine at most; 0 = no limit
	MaxChannels       int           // channels at once at most (each may hold -buffer-size)

	Orchestrator    string // acestream-orchestrator's base URL (ACEXY_ORCH_URL); "" = none
	OrchestratorKey string // its API key (ACEXY_ORCH_APIKEY)
	ContainerID     string // this proxy's container (ACEXY_CONTAINER_ID), in the events' labels

	Logger *slog.Logger
}

// Defaults: acexy's, and ours for what acexy does not have (docs/proxy.md).
const (
	DefaultM3U8StreamTimeout = 60 * time.Second
	DefaultEmptyTimeout      = time.Minute
	DefaultBufferSize        = 4404019 // 4.2 MiB
	DefaultNoResponseTimeout = time.Second
	DefaultStartTimeout      = 30 * time.Second
	DefaultStallTimeout      = 5 * time.Second
	DefaultLinger            = 5 * time.Second
	DefaultMaxChannels       = 100
	DefaultClientTimeout     = 10 * time.Second
	// MinBufferSize is the smallest ring: two blocks. A smaller -buffer-size is raised to it,
	// with a warning in the log.
	MinBufferSize = 2 * fanout.BlockSize
)

// SetDefaults fills the zero values with the defaults.
func (c *Config) SetDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.M3U8StreamTimeout, DefaultM3U8StreamTimeout)
	def(&c.EmptyTimeout, DefaultEmptyTimeout)
	def(&c.NoResponseTimeout, DefaultNoResponseTimeout)
	def(&c.StartTimeout, DefaultStartTimeout)
	def(&c.StallTimeout, DefaultStallTimeout)
	def(&c.Linger, DefaultLinger)
	def(&c.ClientTimeout, DefaultClientTimeout)
	if c.MaxChannels == 0 {
		c.MaxChannels = DefaultMaxChannels
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the configuration; its messages name the flag.
func (c *Config) Validate() error {
	if len(c.Engines) == 0 {
		return fmt.Errorf("-engine: no engine configured")
	}
	for _, e := range c.Engines {
		if _, err := parseEngineURL(e); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"-m3u8-stream-timeout", c.M3U8StreamTimeout}, {"-empty-timeout", c.EmptyTimeout},
		{"-no-response-timeout", c.NoResponseTimeout}, {"-start-timeout", c.StartTimeout},
		{"-stall-timeout", c.StallTimeout}, {"-linger", c.Linger}, {"-client-timeout", c.ClientTimeout},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s %v: want a positive duration", d.name, d.v)
		}
	}
	if c.BufferSize < 0 {
		return fmt.Errorf("-buffer-size %d: want a positive size", c.BufferSize)
	}
	if c.Orchestrator != "" {
		if u, err := url.Parse(c.Orchestrator); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("ACEXY_ORCH_URL %q: want http://host:port", c.Orchestrator)
		}
	}
	if c.MaxChannels < 0 {
		return fmt.Errorf("-max-channels %d: want a positive number", c.MaxChannels)
	}
	if c.MaxPerEngine < 0 {
		return fmt.Errorf("ACEXY_MAX_STREAMS_PER_ENGINE %d: want 0 (no limit) or more", c.MaxPerEngine)
	}
	return nil
}

// parseEngineURL checks an engine base URL: http(s), a host, nothing after the port.
func parseEngineURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("-engine %q: want http://host:port", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "6878")
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}
