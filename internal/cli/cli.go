package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Env is what a command may use of its process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs a command and returns the process exit status.
func Main(ctx context.Context, args []string, env Env) int {
	err := run(ctx, args, env)
	var help helpRequest
	if errors.As(err, &help) {
		help.print(env.Stdout)
		return 0
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(env.Stderr, "aceswarm: "+firstLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func run(ctx context.Context, args []string, env Env) error {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "engine":
		return runEngine(ctx, args, env)
	case "tracker":
		return runTracker(ctx, args, env)
	case "metatracker":
		return runMetatracker(ctx, args, env)
	case "info":
		return runInfo(ctx, args, env)
	case "demo":
		return runDemo(ctx, args, env)
	case "bench":
		return runBench(ctx, args, env)
	case "proxy":
		return runProxy(ctx, args, env)
	case "health":
		return runHealth(ctx, args, env)
	case "clip":
		return runClip(ctx, args, env)
	case "help":
		fmt.Fprint(env.Stdout, helpText)
		return nil
	}
	return usagef("unknown command %q (commands: engine, tracker, metatracker, proxy, info, demo, bench, health, clip; run 'aceswarm help')", cmd)
}

const helpText = `aceswarm: an open peer-to-peer live-streaming network, compatible with AceStream 3.0.

  aceswarm [engine flags]            run a node (viewer engine unless a --stream-*-node flag is given)
  aceswarm tracker --listen ADDR     run a BitTorrent tracker (HTTP /announce and UDP)
  aceswarm metatracker --listen ADDR --config FILE
                                     run a metatracker
  aceswarm proxy [flags]             run acexy's proxy: one engine session per channel, many clients
  aceswarm info FILE|URL             print a transport file as JSON
  aceswarm demo                      run a whole swarm on this machine with a test stream
  aceswarm bench swarm [flags]       measure a whole swarm on this machine
  aceswarm bench fanout --url URL    measure many clients reading one stream
  aceswarm health [URL]              exit 0 if URL (default: the engine's service API) answers 200
  aceswarm clip FILE                 write the embedded test clip to FILE (a source to loop)

Every flag is described in docs/cli.md.
`

// newFlagSet returns a flag set that reports errors as one line.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// helpRequest is -h or --help: Main prints the flags of fs.
type helpRequest struct{ fs *flag.FlagSet }

func (h helpRequest) Error() string { return "help requested" }

func (h helpRequest) print(w io.Writer) {
	if h.fs.Name() == "aceswarm" { // the engine: the subcommands too
		fmt.Fprint(w, helpText)
	}
	fmt.Fprintf(w, "\nflags of %s:\n", h.fs.Name())
	var b strings.Builder
	h.fs.SetOutput(&b)
	h.fs.PrintDefaults()
	fmt.Fprint(w, strings.ReplaceAll("\n"+b.String(), "\n  -", "\n  --")[1:]) // --flag, as in the docs
}

// parse parses flags, turning the flag package's errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return helpRequest{fs}
		}
		msg := strings.Replace(err.Error(), "flag provided but not defined: -", "unknown flag --", 1)
		msg = strings.Replace(msg, " for flag -", " for flag --", 1)
		return usagef("%s", msg)
	}
	return nil
}

// parseWithLog adds --log-level (default def) to fs, parses args and returns the logger.
func parseWithLog(fs *flag.FlagSet, args []string, env Env, def string) (*slog.Logger, error) {
	level := fs.String("log-level", def, "debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return newLogger(env.Stderr, *level)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
