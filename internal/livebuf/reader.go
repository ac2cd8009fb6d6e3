package livebuf

import (
	"context"
	"time"
)

// SkipAfter is how long a reader waits for a missing piece once a later piece is complete.
const SkipAfter = 2 * time.Second

// Reader walks the buffer in order from a keyframe, skipping pieces that missed their deadline.
type Reader struct {
	b       *Buffer
	cursor  uint32
	started bool
	gap     bool // the next piece follows missing data and must hold a keyframe
}

// NewReader returns a reader that starts at the newest complete keyframe piece.
func (b *Buffer) NewReader() *Reader { return &Reader{b: b} }

// Next returns the next piece to play; gap tells that data was skipped before it (or it is the
// first), so the caller must resync the stream at the piece's keyframe.
func (r *Reader) Next(ctx context.Context) (p *Piece, gap bool, err error) {
	for {
		b := r.b
		b.mu.Lock()
		p, gap = r.step()
		ch := b.notify
		b.mu.Unlock()
		if p != nil {
			return p, gap, nil
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// step runs with b.mu held.
func (r *Reader) step() (*Piece, bool) {
	b := r.b
	if !b.hasKey {
		return nil, false
	}
	if !r.started || r.cursor < b.first {
		r.cursor, r.started, r.gap = b.keyframe, true, true
	}
	if p := b.pieces[r.cursor]; p != nil && p.Complete && (!r.gap || p.Header.HasKeyframe()) {
		gap := r.gap
		r.cursor++
		r.gap = false
		return p, gap
	}
	if r.gap || r.overdue() {
		r.skipToKeyframe()
	}
	return nil, false
}

// overdue tells whether a piece after the cursor has been complete for SkipAfter.
func (r *Reader) overdue() bool {
	b := r.b
	for n := r.cursor + 1; n <= b.last && n > r.cursor; n++ {
		if p := b.pieces[n]; p != nil && p.Complete {
			return time.Since(p.DoneAt) > SkipAfter
		}
	}
	return false
}

// skipToKeyframe moves the cursor to the next complete keyframe piece, if there is one.
func (r *Reader) skipToKeyframe() {
	b := r.b
	for n := r.cursor + 1; n <= b.last && n > r.cursor; n++ {
		if p := b.pieces[n]; p != nil && p.Complete && p.Header.HasKeyframe() {
			r.cursor, r.gap = n, true
			return
		}
	}
}

// Position is the number of the next piece the reader will return.
func (r *Reader) Position() uint32 { return r.cursor }
