package ingest

import (
	"context"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// RawPiece is a piece before it is numbered and signed.
type RawPiece struct {
	Data     []byte
	Keyframe int32 // offset of the keyframe packet, or -1
	Time     time.Time
}

// Cutter cuts packets into pieces: a new piece at every video keyframe (beginning with the
// current PAT and PMT), and otherwise when a piece reaches its duration or its largest size. On a
// channel without video (radio), a piece begins, with PAT and PMT, at the first frame of the
// audio stream once the duration is reached, and counts as a keyframe piece: players start there.
// Continuity counters are rewritten so the inserted PAT/PMT keep the stream continuous.
type Cutter struct {
	sel    *mpegts.Selector // with a program chosen: keeps that one only
	err    error            // the selector's, once it failed
	kept   int64            // bytes of the packets taken (after the selector)
	maxLen int
	dur    time.Duration
	an     mpegts.Analyzer
	cc     *mpegts.Continuity
	cur    []byte
	kf     int32
	start  time.Time
}

// NewCutter returns a cutter for pieces of at most maxLen bytes and about dur each.
func NewCutter(maxLen int, dur time.Duration) *Cutter {
	return &Cutter{maxLen: maxLen - maxLen%mpegts.PacketSize, dur: dur, cc: mpegts.NewContinuity(), kf: -1}
}

// Select keeps only program number n of a multiplex (see mpegts.Selector); 0 keeps every program
// and follows the first with video.
func (c *Cutter) Select(n uint16) {
	c.sel, c.an.Want = nil, n
	if n != 0 {
		c.sel = &mpegts.Selector{Number: n}
	}
}

// Kept is how many bytes of packets the cutter took: with a program chosen, that program's.
func (c *Cutter) Kept() int64 { return c.kept }

// Err is the error that stopped the cutter taking packets: a chosen program the stream lacks.
func (c *Cutter) Err() error { return c.err }

// Feed adds whole packets and returns the pieces they completed.
func (c *Cutter) Feed(pkts []byte, now time.Time) []RawPiece {
	var out []RawPiece
	var kept []byte
	for ; len(pkts) >= mpegts.PacketSize && c.err == nil; pkts = pkts[mpegts.PacketSize:] {
		p := mpegts.Packet(pkts[:mpegts.PacketSize])
		if c.sel != nil {
			if kept, c.err = c.sel.Append(kept[:0], p); len(kept) == 0 {
				continue
			}
			p = mpegts.Packet(kept)
		}
		c.kept += mpegts.PacketSize
		key := c.an.Feed(p)
		age := now.Sub(c.start)
		if c.an.AudioStart(p) { // a radio channel: a piece starts at a frame once it is due
			key = len(c.cur) == 0 || age >= c.dur
		}
		full := len(c.cur)+mpegts.PacketSize > c.maxLen
		late := age >= c.dur && (c.an.Program.HasVideo || age >= 2*c.dur) // no frame start found
		if len(c.cur) > 0 && (key || full || late) {
			out = append(out, c.take())
		}
		if len(c.cur) == 0 {
			c.start = now
		}
		if key {
			for _, psi := range c.an.PSI() {
				c.cur = c.cc.Insert(c.cur, psi)
			}
		}
		before := len(c.cur)
		c.cur = c.cc.Append(c.cur, p)
		if key && len(c.cur) > before && c.kf < 0 {
			c.kf = int32(before)
		}
	}
	return out
}

// Flush returns the current piece if it is older than the piece duration.
func (c *Cutter) Flush(now time.Time) (RawPiece, bool) {
	if len(c.cur) == 0 || now.Sub(c.start) < c.dur {
		return RawPiece{}, false
	}
	return c.take(), true
}

func (c *Cutter) take() RawPiece {
	p := RawPiece{Data: c.cur, Keyframe: c.kf, Time: c.start}
	c.cur, c.kf = nil, -1
	return p
}

// Run cuts the chunks of in (an Input's Out) until in closes, giving the last piece too, or ctx
// ends. A piece is also flushed once it is due, checked four times a piece duration. At a
// discontinuity (an empty chunk) the current piece is given, the cutter starts afresh and hole is
// called, so that the caller can leave a piece number out and players resync. It returns the
// first error of piece.
func (c *Cutter) Run(ctx context.Context, in <-chan []byte, piece func(RawPiece) error, hole func()) error {
	t := time.NewTicker(c.dur / 4)
	defer t.Stop()
	flush := func(now time.Time) error {
		if rp, ok := c.Flush(now); ok {
			return piece(rp)
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-in:
			switch {
			case !ok:
				return flush(time.Now().Add(time.Hour))
			case len(b) == 0:
				if err := flush(time.Now().Add(time.Hour)); err != nil {
					return err
				}
				fresh := NewCutter(c.maxLen, c.dur)
				fresh.Select(c.an.Want)
				*c = *fresh
				hole()
				continue
			}
			for _, rp := range c.Feed(b, time.Now()) {
				if err := piece(rp); err != nil {
					return err
				}
			}
			if c.err != nil {
				return c.err
			}
		case now := <-t.C:
			if err := flush(now); err != nil {
				return err
			}
		}
	}
}
