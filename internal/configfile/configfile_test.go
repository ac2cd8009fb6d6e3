package configfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A change is applied on SIGHUP even when the periodic check is far away; a bad edit is not.
func TestReloadOnSIGHUPKeepsGoodConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.txt")
	os.WriteFile(path, []byte("one"), 0o644)
	var current atomic.Value
	f := New(path, func(b []byte) error {
		if string(b) == "bad" {
			return errors.New("bad content")
		}
		current.Store(string(b))
		return nil
	}, nil)
	if err := f.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // Run has registered for SIGHUP
	for _, c := range []struct{ write, want string }{{"two", "two"}, {"bad", "two"}, {"three", "three"}} {
		os.WriteFile(path, []byte(c.write), 0o644)
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		deadline := time.Now().Add(2 * time.Second)
		for current.Load() != c.want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := current.Load(); got != c.want {
			t.Fatalf("after writing %q and SIGHUP: %v, want %q", c.write, got, c.want)
		}
	}
}
