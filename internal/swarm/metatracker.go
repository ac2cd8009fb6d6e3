package swarm

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/metatracker"
)

const metatrackerRetry = 30 * time.Second

// metatrackers lists the transport file's metatrackers and the configured ones.
func (s *Session) metatrackers() []string {
	out := slices.Clone(s.cfg.Metatrackers)
	if f, _ := s.File(); f != nil {
		for _, u := range f.Metatrackers {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// metatrackerLoop asks every metatracker every interval it gives; new ones (from a transport
// file that arrives later) get their own poller.
func (s *Session) metatrackerLoop(ctx context.Context) {
	eachURL(ctx, s.metatrackers, s.pollMetatracker)
}

func (s *Session) pollMetatracker(ctx context.Context, url string) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: s.httpTransport()}
	for {
		wait := metatrackerRetry
		r, err := metatracker.Fetch(ctx, client, url, s.cfg.InfoHash.String())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("metatracker failed; retrying", "metatracker", url, "err", err, "in", wait)
		} else {
			wait = time.Duration(r.Interval) * time.Second
			s.AddDiscovered(ctx, r.Trackers, parseAddrs(r.StartupNodes))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
