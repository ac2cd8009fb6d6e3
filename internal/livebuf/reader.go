package livebuf

import (
	"context"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// SkipAfter is how long a reader waits for a missing piece once a later piece is complete.
const SkipAfter = 2 * time.Second

// Reader walks the buffer in order from a keyframe, skipping pieces that missed their deadline.
type Reader struct {
	b        *Buffer
	cursor   uint32
	started  bool
	gap      bool  // the next piece follows missing data and must hold a keyframe
	maxLag   int64 // ms; 0: no limit
	lastTime int64 // source time of the last piece returned, ms
}

// SetMaxLag makes the reader jump to the newest keyframe when it falls this far behind live.
func (r *Reader) SetMaxLag(d time.Duration) { r.maxLag = d.Milliseconds() }

// SeekTime moves the reader to the first keyframe piece made at or after unix second t (or the
// oldest one held).
func (r *Reader) SeekTime(t int64) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for n := b.first; b.hasLast && n <= b.last && n >= b.first; n++ {
		if p := b.pieces[n]; p != nil && p.Complete && p.Header.HasKeyframe() && p.Header.Time >= t*1000 {
			r.cursor, r.started, r.gap = n, true, true
			return
		}
	}
}

// NewReader returns a reader that starts at the newest complete keyframe piece.
func (b *Buffer) NewReader() *Reader { return &Reader{b: b} }

// Chunk is a piece handed to a reader.
type Chunk struct {
	Header *wire.PieceHeader
	Data   []byte
	// Gap tells that data was skipped before this piece (or that it is the first), so the
	// stream must be resynced at its keyframe.
	Gap bool
}

// Next returns the next piece to play.
func (r *Reader) Next(ctx context.Context) (Chunk, error) {
	for {
		b := r.b
		b.mu.Lock()
		p, gap := r.step()
		ch := b.notify
		b.mu.Unlock()
		var data []byte
		var err error
		if p != nil { // outside the lock: a complete piece is never written again
			data, err = b.store.ReadAt(p.Header.Number, 0, int(p.Header.Length))
		}
		if p != nil && err == nil {
			r.lastTime = p.Header.Time
			return Chunk{Header: p.Header, Data: data, Gap: gap}, nil
		}
		if p != nil {
			r.gap = true // the piece could not be read: resync after it
			continue
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return Chunk{}, ctx.Err()
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
	if !r.started || r.cursor < b.first || r.tooFarBehind() {
		r.cursor, r.started, r.gap = b.keyframe, true, true
	}
	if p := b.pieces[r.cursor]; p != nil && p.Complete && (!r.gap || p.Header.HasKeyframe()) {
		gap := r.gap
		r.cursor++
		r.gap = false
		return p, gap
	}
	if r.gap || r.overdue() || r.cursor < b.gone {
		r.skipToKeyframe()
	}
	return nil, false
}

// tooFarBehind tells whether the reader lags live by more than its limit (b.mu held).
func (r *Reader) tooFarBehind() bool {
	if r.maxLag == 0 || !r.b.hasLast || r.lastTime == 0 || r.cursor > r.b.keyframe {
		return false
	}
	newest := r.b.pieces[r.b.last]
	return newest != nil && newest.Header.Time-r.lastTime > r.maxLag
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
