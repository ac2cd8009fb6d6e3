package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aceswarm/aceswarm/internal/engine"
	"github.com/aceswarm/aceswarm/internal/nodeweb"
	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/progress"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/version"
)

// removedFlags are the flags AceStream 3.0 no longer uses, with what replaced them.
var removedFlags = map[string]string{
	"stream-source":          "use --stream-source-node",
	"stream-node":            "use --stream-support-node",
	"add-authorized-peers":   "authorized peers are no longer put in the transport file; use --private-node 1 with --upload-to",
	"private-source":         "use --private-node 1",
	"support-node":           "use --download-from on the support node",
	"source-node":            "use --download-from on the support node",
	"allow-source-download":  "use --download-from and --upload-to",
	"allow-support-download": "use --download-from and --upload-to",
	"allow-peers-download":   "use --download-from and --upload-to",
}

// engineFlags holds the parsed engine command line.
type engineFlags struct {
	cfg                                          engine.Config
	sourceNode, supportNode, startupNode         bool
	showVersion, clientConsole                   bool
	downloadFrom, uploadTo, trackers, metas, sns listFlag
	privateNode, apiPort, statsInterval          int
	startTimeout, playerTimeout                  int
	statsPeers, remoteAccess                     bool
	libPath, monitorIP, token, cacheType         string
	ipFilter, geoipDB, logLevel                  string
	bitrate, cacheSize, rotateBytes              int64
	cacheSeconds                                 int
}

func (f *engineFlags) define(fs *flag.FlagSet) {
	c := &f.cfg
	fs.BoolVar(&f.sourceNode, "stream-source-node", false, "run a source node")
	fs.BoolVar(&f.supportNode, "stream-support-node", false, "run a support node")
	fs.BoolVar(&f.startupNode, "stream-startup-node", false, "run a startup node")
	fs.IntVar(&c.Port, "port", -1, "peer port (also the node web interface); default 8621, 7764 for a source")
	fs.StringVar(&c.Bind, "bind", "", "address to listen on and dial from")
	fs.StringVar(&c.AnnounceHost, "announce-host", "", "source: host written into the transport file for the built-in tracker (default: --bind, else this machine's address)")
	fs.IntVar(&c.HTTPPort, "http-port", defaultHTTPPort, "player HTTP API port (viewer engine)")
	fs.IntVar(&f.apiPort, "api-port", defaultAPIPort, "legacy TCP engine API port")
	fs.BoolVar(&c.BindAll, "bind-all", false, "answer the player API from any address")
	fs.IntVar(&f.startTimeout, "start-timeout", int(playback.DefaultStartTimeout/time.Second), "viewer: seconds to wait for a stream's first data before giving up")
	fs.IntVar(&f.playerTimeout, "player-timeout", int(playback.DefaultWriteTimeout/time.Second), "viewer: seconds a player may take no data before it is disconnected")
	fs.StringVar(&c.Source, "source", "", "source stream: http(s)://, udp://, a file, or - for stdin")
	fs.BoolVar(&c.SourceLoop, "source-loop", false, "play a file source again and again as one live stream")
	fs.IntVar(&c.SourceProgram, "source-program", 0, "keep only this program (its program_number) of a multiplexed source; default: every program, keyframes of the first with video")
	fs.StringVar(&c.Name, "name", "", "stream name (transport file name)")
	fs.StringVar(&c.Title, "title", "", "readable stream title")
	fs.StringVar(&c.Quality, "quality", "", "SD or HD")
	fs.StringVar(&c.Category, "category", "", "stream category")
	fs.Int64Var(&f.bitrate, "bitrate", 0, "stream bitrate in bytes per second; 0 measures it")
	fs.StringVar(&c.PublishDir, "publish-dir", "", "where the source writes <name>.acelive")
	fs.StringVar(&c.CacheDir, "cache-dir", "", "cache folder (source key and restart files)")
	fs.StringVar(&c.URL, "url", "", "transport file (path or URL) of the stream to relay")
	fs.Var(&f.downloadFrom, "download-from", "IP:PORT of a node to download from (repeatable)")
	fs.Var(&f.uploadTo, "upload-to", "IP:PORT of a node to upload to (repeatable)")
	fs.IntVar(&f.privateNode, "private-node", 0, "1 makes the node private")
	fs.StringVar(&f.monitorIP, "monitor-node-ip", "", "IP of the monitoring server")
	fs.Var(&f.trackers, "tracker", "tracker URL (repeatable)")
	fs.Var(&f.metas, "metatracker", "metatracker URL for the transport file (repeatable)")
	fs.Var(&f.sns, "startup-node", "IP:PORT of a startup node for the transport file (repeatable)")
	fs.StringVar(&f.cacheType, "live-cache-type", "disk", "disk or memory")
	fs.Int64Var(&f.cacheSize, "live-cache-size", engine.DefaultLiveCacheSize, "live cache size in bytes")
	fs.IntVar(&f.cacheSeconds, "live-cache-seconds", int(engine.DefaultLiveCacheTime/time.Second), "viewer: keep at most this many seconds of a stream (at its bitrate), within --live-cache-size")
	fs.DurationVar(&c.LiveDelay, "live-delay", playback.DefaultLiveDelay, "viewer: players of a live stream get it this far behind the live edge, so that late pieces do not stall them (0: as soon as it comes)")
	fs.IntVar(&c.MaxPeers, "max-peers", engine.DefaultMaxPeers, "most peers connected at once, per stream")
	fs.IntVar(&c.MaxConnections, "max-connections", engine.DefaultMaxConnections, "most incoming TCP connections open at once")
	fs.IntVar(&c.MaxUploadSlots, "max-upload-slots", engine.DefaultMaxUploadSlots, "most peers served at once, per stream")
	fs.Int64Var(&f.rotateBytes, "startup-rotate-bytes", engine.DefaultRotateBytes, "startup node: a peer that downloaded this much may be rotated out for a newcomer")
	fs.IntVar(&f.statsInterval, "stats-report-interval", int(nodeweb.DefaultInterval/time.Second), "monitoring refresh, seconds")
	fs.BoolVar(&f.statsPeers, "stats-report-peers", false, "list connected peers in monitoring")
	fs.BoolVar(&f.remoteAccess, "service-remote-access", false, "allow the web interface from other machines")
	fs.StringVar(&f.token, "service-access-token", "", "password of the web interface")
	fs.StringVar(&f.ipFilter, "ip-filter-config", "", "traffic filtration rules (JSON)")
	fs.StringVar(&f.geoipDB, "geoip-db", "", "MaxMind country database")
	fs.StringVar(&f.libPath, "lib-path", "", "accepted and ignored")
	fs.BoolVar(&f.clientConsole, "client-console", false, "accepted and ignored")
	fs.BoolVar(&f.showVersion, "version", false, "print the version")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
}

// checkRemoved names the replacement of a flag AceStream no longer uses.
func checkRemoved(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if repl, ok := removedFlags[name]; ok && strings.HasPrefix(a, "-") {
			return usagef("--%s is no longer used: %s", name, repl)
		}
	}
	return nil
}

// build turns the flags into the engine configuration.
func (f *engineFlags) build() error {
	c := &f.cfg
	modes := 0
	for _, on := range []bool{f.sourceNode, f.supportNode, f.startupNode} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return usagef("give only one of --stream-source-node, --stream-support-node, --stream-startup-node")
	}
	switch {
	case f.sourceNode:
		c.Mode = engine.Source
	case f.supportNode:
		c.Mode = engine.Support
	case f.startupNode:
		c.Mode = engine.Startup
	}
	if c.Port == -1 {
		c.Port = defaultPeerPort
		if c.Mode == engine.Source {
			c.Port = defaultSourcePort
		}
	}
	if c.Mode == engine.Source {
		if err := checkSourceFlags(c); err != nil {
			return err
		}
	}
	if f.bitrate < 0 {
		return usagef("--bitrate %d: must not be negative", f.bitrate)
	}
	c.Bitrate, c.LiveCacheSize, c.LiveCacheType, c.RotateBytes = f.bitrate, f.cacheSize, f.cacheType, f.rotateBytes
	if f.cacheSeconds < 1 || f.cacheSeconds > 3600 {
		return usagef("--live-cache-seconds %d: want 1 to 3600", f.cacheSeconds)
	}
	c.LiveCacheTime = time.Duration(f.cacheSeconds) * time.Second
	if c.LiveDelay < 0 || c.LiveDelay >= c.LiveCacheTime {
		return usagef("--live-delay %v: want 0 up to less than --live-cache-seconds (%d)", c.LiveDelay, f.cacheSeconds)
	}
	if f.cacheType != "disk" && f.cacheType != "memory" {
		return usagef("--live-cache-type %q: want disk or memory", f.cacheType)
	}
	if f.privateNode != 0 && f.privateNode != 1 {
		return usagef("--private-node %d: want 0 or 1", f.privateNode)
	}
	if f.rotateBytes <= 0 {
		return usagef("--startup-rotate-bytes %d: must be positive", f.rotateBytes)
	}
	if f.statsInterval <= 0 {
		return usagef("--stats-report-interval %d: must be a positive number of seconds", f.statsInterval)
	}
	if f.startTimeout <= 0 || f.playerTimeout <= 0 {
		return usagef("--start-timeout and --player-timeout must be positive numbers of seconds")
	}
	c.APIPort, c.IPFilterConfig, c.GeoIPDB = f.apiPort, f.ipFilter, f.geoipDB
	c.StartTimeout, c.PlayerTimeout = time.Duration(f.startTimeout)*time.Second, time.Duration(f.playerTimeout)*time.Second
	c.Private, c.StatsInterval, c.StatsPeers = f.privateNode == 1, time.Duration(f.statsInterval)*time.Second, f.statsPeers
	c.RemoteAccess, c.AccessToken = f.remoteAccess, f.token
	if strings.Contains(f.token, "/") {
		return usagef("--service-access-token: must not contain /")
	}
	if f.monitorIP != "" {
		ip, err := netip.ParseAddr(f.monitorIP)
		if err != nil {
			return usagef("--monitor-node-ip %q: want an IP address", f.monitorIP)
		}
		c.MonitorIP = ip
	}
	for _, a := range f.downloadFrom {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return usagef("--download-from %q: want IPv4_ADDRESS:PORT", a)
		}
		c.DownloadFrom = append(c.DownloadFrom, ap)
	}
	for _, a := range f.uploadTo {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return usagef("--upload-to %q: want IPv4_ADDRESS:PORT", a)
		}
		c.UploadTo = append(c.UploadTo, ap)
	}
	for _, a := range f.sns {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return usagef("--startup-node %q: want IPv4_ADDRESS:PORT", a)
		}
	}
	c.Trackers, c.Metatrackers, c.StartupNodes = f.trackers, f.metas, f.sns
	return nil
}

// checkSourceFlags checks the flags AceStream 3.0 made required and their values; what every
// source needs (--source, --name, the folders) engine.Config.Validate checks.
func checkSourceFlags(c *engine.Config) error {
	switch {
	case c.Title == "":
		return usagef("--title is required for a source node")
	case c.Quality == "":
		return usagef("--quality is required for a source node (SD or HD)")
	case !slices.Contains(transport.Qualities, c.Quality):
		return usagef("--quality %q: want SD or HD", c.Quality)
	case c.Category == "":
		return usagef("--category is required for a source node (%s)", strings.Join(transport.Categories, ", "))
	case !slices.Contains(transport.Categories, c.Category):
		return usagef("--category %q: want one of %s", c.Category, strings.Join(transport.Categories, ", "))
	}
	return nil
}

// parseEngine parses an engine command line.
func parseEngine(args []string) (*engineFlags, *flag.FlagSet, error) {
	if err := checkRemoved(args); err != nil {
		return nil, nil, err
	}
	var f engineFlags
	fs := newFlagSet("aceswarm")
	f.define(fs)
	if err := parse(fs, args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if f.showVersion {
		return &f, fs, nil
	}
	return &f, fs, f.build()
}

func runEngine(ctx context.Context, args []string, env Env) error {
	f, _, err := parseEngine(args)
	if err != nil {
		return err
	}
	if f.showVersion {
		fmt.Fprintln(env.Stdout, version.Line())
		return nil
	}
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	f.cfg.Logger, f.cfg.Stdin = log, env.Stdin
	if f.cfg.Mode == engine.Source && progress.Terminal(env.Stderr) {
		f.cfg.Progress = env.Stderr
	}
	if f.cfg.LiveCacheType == "memory" {
		// One node in this process: keep the heap near the cache size (a viewer engine raises
		// the limit for its streams and players, see playback.Config.MemoryBase).
		f.cfg.MemoryBase = f.cfg.LiveCacheSize + 64<<20
		debug.SetMemoryLimit(f.cfg.MemoryBase)
	}
	n, err := engine.New(f.cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	return n.Run(ctx)
}
