package engine

import (
	"context"
	"fmt"
	"time"

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
	t := time.NewTicker(p.s.n.cfg.PieceDuration / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-p.s.in.Out:
			if !ok {
				if rp, ok := c.Flush(time.Now().Add(time.Hour)); ok {
					p.publish(ctx, rp)
				}
				<-ctx.Done() // the source ended; keep serving the window
				return nil
			}
			if len(b) == 0 { // the input lost data: leave a hole so that players resync
				if rp, ok := c.Flush(time.Now().Add(time.Hour)); ok {
					p.publish(ctx, rp)
				}
				c = ingest.NewCutter(PieceLength, p.s.n.cfg.PieceDuration)
				p.next++
				continue
			}
			for _, rp := range c.Feed(b, time.Now()) {
				if err := p.publish(ctx, rp); err != nil {
					return err
				}
			}
		case now := <-t.C:
			if rp, ok := c.Flush(now); ok {
				if err := p.publish(ctx, rp); err != nil {
					return err
				}
			}
		}
	}
}

func (p *publisher) publish(ctx context.Context, rp ingest.RawPiece) error {
	cfg := p.s.n.cfg
	h := wire.NewHeader(p.s.key, p.ih, p.next, rp.Time.UnixMilli(), rp.Keyframe, rp.Data, transport.BlockLength)
	if err := transport.WriteRestart(cfg.CacheDir, cfg.Name, p.next); err != nil {
		return fmt.Errorf("--cache-dir: %w", err)
	}
	p.next++
	if err := p.sess.Publish(ctx, h, rp.Data); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
