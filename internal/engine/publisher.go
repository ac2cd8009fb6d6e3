package engine

import (
	"context"
	"fmt"

	"github.com/aceswarm/aceswarm/internal/ingest"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// publisher numbers, signs and publishes the source's pieces.
type publisher struct {
	s    *source
	sess *swarm.Session
	ih   transport.InfoHash
	next uint32
}

func (p *publisher) loop(ctx context.Context, c *ingest.Cutter) error {
	err := c.Run(ctx, p.s.in.Out, func(rp ingest.RawPiece) error { return p.publish(ctx, rp) },
		func() { p.next++ }) // the input lost data: leave a hole so that players resync
	if err != nil {
		if c.Err() != nil {
			return fmt.Errorf("--source-program: %w", err)
		}
		return err
	}
	<-ctx.Done() // the source ended; keep serving the window
	return nil
}

func (p *publisher) publish(ctx context.Context, rp ingest.RawPiece) error {
	cfg := p.s.n.cfg
	h := wire.NewHeader(p.s.key, p.ih, p.next, rp.Time.UnixMilli(), rp.Keyframe, rp.Data, transport.BlockLength)
	if err := transport.WriteRestart(cfg.CacheDir, cfg.Name, p.next); err != nil {
		return fmt.Errorf("--cache-dir: %w", err)
	}
	p.next++
	p.s.cut.Add(int64(len(rp.Data)))
	if err := p.sess.Publish(ctx, h, rp.Data); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
