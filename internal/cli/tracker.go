package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aceswarm/aceswarm/internal/metatracker"
	"github.com/aceswarm/aceswarm/internal/tracker"
	"github.com/aceswarm/aceswarm/internal/transport"
)

func runTracker(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm tracker")
	listen := fs.String("listen", defaultTrackerListen, "host:port for HTTP (/announce) and UDP announces")
	log, err := parseWithLog(fs, args, env, "info")
	if err != nil {
		return err
	}
	srv, err := tracker.New(tracker.Config{Listen: *listen, Logger: log})
	if err != nil {
		return usageError{err.Error()}
	}
	return srv.Run(ctx)
}

func runMetatracker(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm metatracker")
	listen := fs.String("listen", defaultMetatrackerListen, "host:port to answer on")
	config := fs.String("config", "", "JSON configuration, re-read when it changes")
	log, err := parseWithLog(fs, args, env, "info")
	if err != nil {
		return err
	}
	srv, err := metatracker.New(metatracker.ServerConfig{Listen: *listen, ConfigPath: *config, Logger: log})
	if err != nil {
		return usageError{err.Error()}
	}
	return srv.Run(ctx)
}

// infoJSON is what `aceswarm info` prints.
type infoJSON struct {
	InfoHash           string   `json:"infohash"`
	Name               string   `json:"name"`
	Title              string   `json:"title"`
	Quality            string   `json:"quality"`
	Category           string   `json:"category"`
	Bitrate            int64    `json:"bitrate"`
	PieceLength        int64    `json:"piece_length"`
	BlockLength        int64    `json:"block_length"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
	PublicKey          string   `json:"public_key"`
	Trackers           []string `json:"trackers"`
	Metatrackers       []string `json:"metatrackers"`
	StartupNodes       []string `json:"startup_nodes"`
}

func runInfo(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm info")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: aceswarm info FILE|URL")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	f, _, err := transport.Load(ctx, http.DefaultClient, fs.Arg(0))
	if err != nil {
		return usageError{err.Error()}
	}
	out := infoJSON{
		InfoHash: f.InfoHash().String(), Name: f.Info.Name, Title: f.Info.Title, Quality: f.Info.Quality,
		Category: f.Info.Category, Bitrate: f.Info.Bitrate, PieceLength: f.Info.PieceLength,
		BlockLength: f.Info.BlockLength, SignatureAlgorithm: f.Info.SignatureAlgorithm,
		PublicKey: hexString(f.Info.PublicKey), Trackers: nonNil(f.Trackers()),
		Metatrackers: nonNil(f.Metatrackers), StartupNodes: nonNil(f.StartupNodes),
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func hexString(s string) string { return hex.EncodeToString([]byte(s)) }
