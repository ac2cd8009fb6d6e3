package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aceswarm/aceswarm/internal/proxy"
)

// acexy's flags, each with its environment variable (a flag overrides its variable), and ours.
type proxyFlags struct {
	addr, scheme, host string
	port               int
	m3u8               bool
	m3u8Timeout, empty time.Duration
	noResponse         time.Duration
	buffer             sizeFlag
	start, stall       time.Duration
	linger, client     time.Duration
	maxChannels        int
	engines            envList
	license            bool
	logLevel           string
}

func runProxy(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm proxy")
	var f proxyFlags
	f.buffer = proxy.DefaultBufferSize
	fs.StringVar(&f.addr, "addr", defaultProxyAddr, "address to listen on (ACEXY_LISTEN_ADDR)")
	fs.StringVar(&f.scheme, "scheme", "http", "scheme of the engine (ACEXY_SCHEME)")
	fs.StringVar(&f.host, "acestream-host", "localhost", "host of the engine (ACEXY_HOST)")
	fs.IntVar(&f.port, "acestream-port", 6878, "port of the engine (ACEXY_PORT)")
	fs.BoolVar(&f.m3u8, "m3u8", false, "/ace/getstream answers HLS (ACEXY_M3U8)")
	fs.DurationVar(&f.m3u8Timeout, "m3u8-stream-timeout", proxy.DefaultM3U8StreamTimeout, "an HLS channel nobody asks for this long stops (ACEXY_M3U8_STREAM_TIMEOUT)")
	fs.DurationVar(&f.empty, "empty-timeout", proxy.DefaultEmptyTimeout, "a channel without data from the engine this long ends (ACEXY_EMPTY_TIMEOUT)")
	fs.Var(&f.buffer, "buffer-size", "bytes of each channel's buffer, e.g. 4.2MiB or 64KiB (ACEXY_BUFFER_SIZE)")
	fs.DurationVar(&f.noResponse, "no-response-timeout", proxy.DefaultNoResponseTimeout, "time the engine has to answer a new session (ACEXY_NO_RESPONSE_TIMEOUT)")
	fs.DurationVar(&f.start, "start-timeout", proxy.DefaultStartTimeout, "a new channel without data this long answers 504 (ACEXY_START_TIMEOUT)")
	fs.DurationVar(&f.stall, "stall-timeout", proxy.DefaultStallTimeout, "a silent engine connection is reopened after this (ACEXY_STALL_TIMEOUT)")
	fs.DurationVar(&f.linger, "linger", proxy.DefaultLinger, "the engine session outlives the last client this long (ACEXY_LINGER)")
	fs.DurationVar(&f.client, "client-timeout", proxy.DefaultClientTimeout, "a client that takes nothing this long is disconnected (ACEXY_CLIENT_TIMEOUT)")
	fs.IntVar(&f.maxChannels, "max-channels", proxy.DefaultMaxChannels, "channels at once at most; each holds up to -buffer-size (ACEXY_MAX_CHANNELS)")
	fs.Var(&f.engines, "engine", "engine base URL, repeatable; a name with several addresses is several engines (ACEXY_ENGINES, comma-separated)")
	fs.BoolVar(&f.license, "license", false, "print the license and exit")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error (ACEXY_LOG_LEVEL)")
	if err := applyEnv(fs, os.LookupEnv); err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.license {
		fmt.Fprintln(env.Stdout, licenseText)
		return nil
	}
	if fs.NArg() > 0 {
		return usagef("aceswarm proxy: unexpected argument %q", fs.Arg(0))
	}
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if err := readOrchestrator(&cfg); err != nil {
		return err
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return usagef("-addr %q: %v", f.addr, err)
	}
	cfg.Listener, cfg.Logger = ln, log
	if _, set := os.LookupEnv("GOGC"); !set {
		// The heap is mostly stream bytes on their way out: collect at 50% growth instead of
		// 100%, which keeps 500 clients at 36 MiB instead of 40 for no measurable CPU (docs/benchmarks.md).
		debug.SetGCPercent(50)
	}
	p, err := proxy.New(cfg)
	if err != nil {
		ln.Close()
		return usageError{err.Error()}
	}
	return p.Run(ctx)
}

// config turns the flags into the proxy's configuration.
func (f *proxyFlags) config() (proxy.Config, error) {
	engines := f.engines.vals
	if len(engines) == 0 {
		if f.scheme != "http" && f.scheme != "https" {
			return proxy.Config{}, usagef("-scheme %q: want http or https", f.scheme)
		}
		if f.port < 1 || f.port > 65535 {
			return proxy.Config{}, usagef("-acestream-port %d: want 1 to 65535", f.port)
		}
		engines = []string{f.scheme + "://" + net.JoinHostPort(f.host, strconv.Itoa(f.port))}
	}
	return proxy.Config{
		Engines: engines, M3U8: f.m3u8, M3U8StreamTimeout: f.m3u8Timeout, EmptyTimeout: f.empty,
		BufferSize: int64(f.buffer), NoResponseTimeout: f.noResponse, StartTimeout: f.start,
		StallTimeout: f.stall, Linger: f.linger, ClientTimeout: f.client, MaxChannels: f.maxChannels,
	}, nil
}

// readOrchestrator reads acexy's orchestrator variables: ACEXY_ORCH_URL, ACEXY_ORCH_APIKEY,
// ACEXY_CONTAINER_ID and ACEXY_MAX_STREAMS_PER_ENGINE (1 with an orchestrator, as acexy; no cap
// without one unless set).
func readOrchestrator(cfg *proxy.Config) error {
	cfg.Orchestrator = strings.TrimSpace(os.Getenv("ACEXY_ORCH_URL"))
	cfg.OrchestratorKey = os.Getenv("ACEXY_ORCH_APIKEY")
	cfg.ContainerID = os.Getenv("ACEXY_CONTAINER_ID")
	if cfg.Orchestrator != "" {
		cfg.MaxPerEngine = 1
	}
	if v, ok := os.LookupEnv("ACEXY_MAX_STREAMS_PER_ENGINE"); ok && strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return usagef("ACEXY_MAX_STREAMS_PER_ENGINE %q: want a whole number, 0 for no limit", v)
		}
		cfg.MaxPerEngine = n
	}
	return nil
}

// proxyEnv maps acexy's environment variables (and ours) to flags.
var proxyEnv = map[string]string{
	"ACEXY_LISTEN_ADDR": "addr", "ACEXY_SCHEME": "scheme", "ACEXY_HOST": "acestream-host", "ACEXY_PORT": "acestream-port",
	"ACEXY_M3U8": "m3u8", "ACEXY_M3U8_STREAM_TIMEOUT": "m3u8-stream-timeout", "ACEXY_EMPTY_TIMEOUT": "empty-timeout",
	"ACEXY_BUFFER_SIZE": "buffer-size", "ACEXY_NO_RESPONSE_TIMEOUT": "no-response-timeout", "ACEXY_LOG_LEVEL": "log-level",
	"ACEXY_START_TIMEOUT": "start-timeout", "ACEXY_STALL_TIMEOUT": "stall-timeout", "ACEXY_LINGER": "linger",
	"ACEXY_CLIENT_TIMEOUT": "client-timeout", "ACEXY_MAX_CHANNELS": "max-channels",
}

// applyEnv sets flags from the environment before the command line is parsed, so a flag given
// overrides its variable. A bad value is an error naming the variable (acexy silently took 0).
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	for name, fl := range proxyEnv {
		if v, ok := lookup(name); ok && v != "" {
			if err := fs.Set(fl, v); err != nil {
				return usagef("%s %q: %v", name, v, err)
			}
		}
	}
	if v, ok := lookup("ACEXY_ENGINES"); ok && v != "" {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				fs.Set("engine", e)
			}
		}
	}
	fs.VisitAll(func(fl *flag.Flag) { // a value on the command line replaces these
		if l, ok := fl.Value.(*envList); ok {
			l.fromEnv = len(l.vals) > 0
		}
	})
	return nil
}

// envList is a repeatable flag whose values from the environment are replaced, not added to, by
// the first value given on the command line.
type envList struct {
	vals    []string
	fromEnv bool
}

func (l *envList) String() string { return strings.Join(l.vals, ",") }

func (l *envList) Set(v string) error {
	if l.fromEnv {
		l.vals, l.fromEnv = nil, false
	}
	l.vals = append(l.vals, v)
	return nil
}

// sizeFlag is a byte count written plainly or humanized: 4.2MiB, 64KiB, 4MB, 1048576.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := 1.0
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > 1<<40 {
		return 0, fmt.Errorf("want a size such as 4.2MiB, 64KiB or 1048576")
	}
	return int64(f * mult), nil
}

const licenseText = `aceswarm proxy reimplements the interface of acexy (GPL-3.0, github.com/Javinator9889/acexy):
its endpoint, flags and environment variables. It contains none of acexy's code.`
