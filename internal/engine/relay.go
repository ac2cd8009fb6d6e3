package engine

import (
	"context"
	"net/http"
	"time"

	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// relay is a support or startup node: it keeps the live window and serves any number of peers.
type relay struct{ n *Node }

func (r *relay) run(ctx context.Context) error {
	n := r.n
	f, raw := r.load(ctx)
	if f == nil {
		return nil
	}
	cfg := n.sessionConfig(roleOf(n.cfg.Mode))
	cfg.InfoHash, cfg.File, cfg.Raw = f.InfoHash(), f, raw
	s, err := swarm.New(cfg)
	if err != nil {
		return err
	}
	n.log.Info("relaying", "infohash", cfg.InfoHash.String(), "name", f.Info.Name)
	return n.runSession(ctx, s)
}

// load fetches the transport file, retrying while it cannot be had.
func (r *relay) load(ctx context.Context) (*transport.File, []byte) {
	wait := time.Second
	for {
		f, raw, err := transport.Load(ctx, http.DefaultClient, r.n.cfg.URL)
		if err == nil {
			return f, raw
		}
		r.n.log.Warn("transport file unavailable, retrying", "url", r.n.cfg.URL, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}
