// Package listen accepts connections the way a long-running server must: an error that passes
// (out of file descriptors, a connection aborted before it was accepted, a timeout) is waited
// out with a growing pause and never ends the listener.
package listen

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"syscall"
	"time"
)

// Pauses after a passing accept error: from minPause, doubling, at most maxPause (as net/http).
const (
	minPause = 5 * time.Millisecond
	maxPause = time.Second
)

// Accept returns the next connection of ln. Errors that pass are logged once per run of them
// and waited out; it returns an error only when ln is closed or ctx ends.
func Accept(ctx context.Context, ln net.Listener, log *slog.Logger) (net.Conn, error) {
	pause := time.Duration(0)
	for {
		nc, err := ln.Accept()
		if err == nil {
			return nc, nil
		}
		if ctx.Err() != nil || !passing(err) {
			return nil, err
		}
		if pause == 0 {
			log.Warn("accept failed; retrying", "addr", ln.Addr().String(), "err", err)
			pause = minPause
		} else {
			pause = min(2*pause, maxPause)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// passing tells whether an accept error is one the listener outlives.
func passing(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
