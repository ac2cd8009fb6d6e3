package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// Config of a source input.
type Config struct {
	Source string // URL, path, or "-"
	Loop   bool   // for files: play again and again as one live stream
	Stdin  io.Reader
	Logger *slog.Logger
}

// Input delivers packets of a source.
type Input struct {
	cfg  Config
	kind string
	u    *url.URL
	// Out receives chunks of whole packets; it is closed when Run returns.
	Out chan []byte
}

// New checks the source's form; it opens nothing.
func New(cfg Config) (*Input, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	in := &Input{cfg: cfg, Out: make(chan []byte, 64)}
	switch {
	case cfg.Source == "":
		return nil, fmt.Errorf("--source is required")
	case cfg.Source == "-":
		in.kind = "stdin"
	case strings.Contains(cfg.Source, "://"):
		u, err := url.Parse(cfg.Source)
		if err != nil {
			return nil, fmt.Errorf("--source %q: %v", cfg.Source, err)
		}
		in.u = u
		switch u.Scheme {
		case "http", "https":
			in.kind = "http"
		case "udp":
			if u.Port() == "" {
				return nil, fmt.Errorf("--source %q: udp needs a port", cfg.Source)
			}
			if la := u.Query().Get("localaddr"); la != "" && net.ParseIP(la) == nil {
				return nil, fmt.Errorf("--source %q: localaddr %q is not an IP address", cfg.Source, la)
			}
			in.kind = "udp"
		case "file":
			in.kind, in.cfg.Source = "file", u.Path
		default:
			return nil, fmt.Errorf("--source %q: unsupported scheme %q (use http, https, udp, a file or -)", cfg.Source, u.Scheme)
		}
	default:
		in.kind = "file"
	}
	if in.kind == "file" {
		if _, err := os.Stat(in.cfg.Source); err != nil {
			return nil, fmt.Errorf("--source: %v", err)
		}
	}
	if cfg.Loop && in.kind != "file" {
		return nil, fmt.Errorf("--source-loop works with a file source, not %s", in.kind)
	}
	return in, nil
}

// Run reads until ctx ends or a file source ends; network sources are retried with backoff.
func (in *Input) Run(ctx context.Context) error {
	defer close(in.Out)
	switch in.kind {
	case "stdin":
		r := in.cfg.Stdin
		if r == nil {
			r = os.Stdin
		}
		return in.copy(ctx, r)
	case "http":
		return in.retry(ctx, in.runHTTP)
	case "udp":
		return in.retry(ctx, in.runUDP)
	}
	return in.runFile(ctx)
}

// Discontinuity is sent on Out (an empty chunk) when data was lost: the source reconnected.
var Discontinuity = []byte{}

// retry runs f again after failures, waiting 1 s, 2 s, 4 s … up to 30 s.
func (in *Input) retry(ctx context.Context, f func(context.Context) error) error {
	wait := time.Second
	for attempt := 0; ; attempt++ {
		if attempt > 0 && !in.send(ctx, Discontinuity) {
			return nil
		}
		start := time.Now()
		err := f(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 30*time.Second {
			wait = time.Second
		}
		in.cfg.Logger.Warn("source unavailable, retrying", "source", in.cfg.Source, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// copy aligns a byte stream into packets and sends them.
func (in *Input) copy(ctx context.Context, r io.Reader) error {
	var a mpegts.Aligner
	buf := make([]byte, 64*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if pk := a.Write(buf[:n]); len(pk) > 0 && !in.send(ctx, append([]byte(nil), pk...)) {
				return nil
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func (in *Input) send(ctx context.Context, b []byte) bool {
	select {
	case in.Out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}
