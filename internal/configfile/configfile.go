package configfile

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// File is a watched configuration file.
type File struct {
	path  string
	apply func([]byte) error // parses and, when the content is good, puts it in force
	log   *slog.Logger

	mu   sync.Mutex // guards mod, size
	mod  time.Time
	size int64
}

// New returns a watcher of path; apply parses the file's content and puts it in force, or
// returns an error naming what is wrong.
func New(path string, apply func([]byte) error, log *slog.Logger) *File {
	if log == nil {
		log = slog.Default()
	}
	return &File{path: path, apply: apply, log: log}
}

// Load reads the file and applies it. A bad file is not read again until it changes.
func (f *File) Load() error {
	st, err := os.Stat(f.path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.mod, f.size = st.ModTime(), st.Size()
	f.mu.Unlock()
	return f.apply(b)
}

func (f *File) changed() bool {
	st, err := os.Stat(f.path)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return !st.ModTime().Equal(f.mod) || st.Size() != f.size
}

// Run checks the file every period and on SIGHUP until ctx ends, applying it when it changed.
func (f *File) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			f.reload()
		case <-t.C:
			if f.changed() {
				f.reload()
			}
		}
	}
}

func (f *File) reload() {
	if err := f.Load(); err != nil {
		f.log.Error("config not reloaded; the previous one stays in force", "config", f.path, "err", err)
		return
	}
	f.log.Info("config reloaded", "config", f.path)
}
