package engineapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aceswarm/aceswarm/internal/playback"
)

// refusing is a Player that loads nothing.
type refusing struct{}

func (refusing) Resolve(context.Context, string, string) (playback.Content, error) {
	return playback.Content{}, errors.New("no content in this test")
}
func (refusing) Describe(_ context.Context, c playback.Content) (playback.Content, error) {
	return c, errors.New("no content in this test")
}
func (refusing) Open(playback.Content, string, bool) (*playback.Session, error) {
	return nil, errors.New("no content in this test")
}

// FuzzLine runs arbitrary command lines, before and after READY: nothing panics and every reply
// is one line.
func FuzzLine(f *testing.F) {
	for _, l := range []string{"HELLOBG version=3", "LOADASYNC 1 INFOHASH abc 0 0 0", "START PID x 0 output_format=hls",
		"LIVESEEK 12", "GETCID infohash=ab", " \t", "STOP", "SETOPTIONS use_stop_notifications=1"} {
		f.Add(l)
	}
	s := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, refusing{})
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") {
			return
		}
		local, remote := net.Pipe()
		defer remote.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			b, _ := io.ReadAll(remote)
			for _, reply := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
				if strings.ContainsAny(reply, "\r\n") {
					t.Errorf("reply %q is not one line", reply)
				}
			}
		}()
		c := &client{s: s, nc: local}
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		for _, authed := range []bool{false, true} {
			c.authed = authed
			if !c.handle(ctx, &wg, line) {
				break
			}
		}
		cancel()
		wg.Wait()
		c.stopSession()
		local.Close()
		<-done
	})
}
