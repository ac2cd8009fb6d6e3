package swarm

import (
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

func TestSourceClock(t *testing.T) {
	now := time.UnixMilli(1_000_000_000)
	at := func(d time.Duration) *wire.PieceHeader { return &wire.PieceHeader{Time: now.Add(d).UnixMilli()} }
	var c sourceClock
	if c.future(at(time.Hour), now) {
		t.Fatal("with nothing seen, no header is from the future")
	}
	c.note(at(-30*time.Second), now) // an old piece of the window first
	c.note(at(2*time.Second), now)   // the live edge: the source's clock is 2 s ahead of ours
	c.note(at(-5*time.Second), now)
	if c.future(at(31*time.Second), now) {
		t.Fatal("a header 29 s ahead of the estimate was refused")
	}
	if !c.future(at(33*time.Second), now) {
		t.Fatal("a header 31 s ahead of the estimate was taken")
	}
	later := now.Add(clockStale + time.Second)
	if c.future(at(time.Hour), later) {
		t.Fatal("a stale estimate still refuses headers")
	}
	c.note(at(time.Hour), later) // the source's clock was stepped while the stream stalled
	if c.future(at(time.Hour+time.Second), later) {
		t.Fatal("the new estimate does not follow the stepped clock")
	}
}

// PlayAt paces a player delay after the fastest delivery of a header seen: a piece is held at
// most delay after its header could have arrived, and the pace moves earlier as faster headers
// come.
func TestPlayAtFollowsTheFastestHeader(t *testing.T) {
	s := &Session{}
	st := &loopState{s: s}
	if !s.PlayAt(1000, time.Second).IsZero() {
		t.Fatal("paced before any header")
	}
	now := time.UnixMilli(1_000_000_000)
	made := func(ago time.Duration) int64 { return now.Add(-ago).UnixMilli() }
	st.noteClock(&wire.PieceHeader{Time: made(2 * time.Second)}, now) // a piece of the window, 2 s old
	if got, want := s.PlayAt(made(2*time.Second), time.Second), now.Add(time.Second); !got.Equal(want) {
		t.Fatalf("piece whose header came now: at %v, want %v", got, want)
	}
	st.noteClock(&wire.PieceHeader{Time: made(600 * time.Millisecond)}, now) // the live edge, 0.6 s old
	if got, want := s.PlayAt(made(2*time.Second), time.Second), now.Add(-400*time.Millisecond); !got.Equal(want) {
		t.Fatalf("old piece after a fresh header: at %v, want %v", got, want)
	}
	if got, want := s.PlayAt(made(0), time.Second), now.Add(1600*time.Millisecond); !got.Equal(want) {
		t.Fatalf("piece made now: at %v, want %v", got, want)
	}
}
