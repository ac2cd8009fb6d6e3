package fanout

import (
	"time"

	"bytes"
	"errors"
	"testing"
)

// Reads from any offset give the bytes added there, across blocks; the ring holds at most its
// limit; an evicted offset is ErrBehind; after close, what is left, then the error.
func TestRingReadsAndEvicts(t *testing.T) {
	g := NewRing(3 * BlockSize)
	var all []byte
	for i := range 5000 {
		chunk := bytes.Repeat([]byte{byte(i)}, 97+i%200)
		g.Add(chunk, nil)
		all = append(all, chunk...)
	}
	if held := g.end - g.start; held > g.limit || held < g.limit-BlockSize {
		t.Fatalf("holds %d bytes, limit %d", held, g.limit)
	}
	for _, off := range []int64{g.start, g.start + 1, g.start + BlockSize - 1, g.start + BlockSize, g.end - 5} {
		bufs, end, _, err := g.Read(off, nil)
		if err != nil || end != g.end || !bytes.Equal(bytes.Join(bufs, nil), all[off:]) {
			t.Fatalf("read at %d: %v, end %d", off, err, end)
		}
	}
	if _, _, _, err := g.Read(g.start-1, nil); !errors.Is(err, ErrBehind) {
		t.Fatalf("evicted offset: %v", err)
	}
	g.Close(ErrEnded)
	if bufs, _, _, err := g.Read(g.end-3, nil); err != nil || len(bytes.Join(bufs, nil)) != 3 {
		t.Fatalf("after close, the rest: %v", err)
	}
	if _, _, _, err := g.Read(g.end, nil); !errors.Is(err, ErrEnded) {
		t.Fatalf("after close, at the end: %v", err)
	}
}

// Stamps tell the time of the bytes at an offset, and go with the blocks they stamped.
func TestRingStamps(t *testing.T) {
	g := NewRing(2 * BlockSize)
	if g.TimeAt(0) != 0 {
		t.Fatal("time before any stamp")
	}
	for i := range 10 {
		g.Stamp(int64(1000 * (i + 1)))
		g.Add(make([]byte, BlockSize/2), nil)
	}
	if got := g.TimeAt(g.end); got != 10000 {
		t.Fatalf("time at the end: %d", got)
	}
	if got := g.TimeAt(g.end - BlockSize/2 - 1); got != 9000 {
		t.Fatalf("time before the newest stamp: %d", got)
	}
	if len(g.stamps) > 6 || g.stamps[0].off > g.start {
		t.Fatalf("%d stamps kept, the first at %d, the ring from %d", len(g.stamps), g.stamps[0].off, g.start)
	}
	if ts, ok := g.Stamps(g.end-BlockSize, g.end, nil); !ok || len(ts) != 2 || ts[1].T != 10000 {
		t.Fatalf("stamps of the newest block: %v %v", ts, ok)
	}
	if ts, ok := g.Stamps(g.start-1, g.end, nil); ok || len(ts) != 0 {
		t.Fatalf("stamps of evicted bytes: %v %v, want none and false", ts, ok)
	}
}

// KeepFor bounds a ring in stream time: with a block a second, each starting at an access
// point, and 3 s kept, the ring holds the last 4 blocks (the oldest one up to 3 s before the
// newest bytes) however large its byte limit.
func TestRingKeepsSecondsOfStream(t *testing.T) {
	g := NewRing(100 * BlockSize)
	g.KeepFor(3 * time.Second)
	for i := range 10 {
		g.Stamp(int64(1000 * (i + 1)))
		g.Add(make([]byte, BlockSize), &RAP{})
	}
	if n := len(g.blocks); n != 4 {
		t.Fatalf("%d blocks held, want 4", n)
	}
	if got := g.TimeAt(g.start + 1); got != 7000 {
		t.Fatalf("oldest bytes held made at %d, want 7000", got)
	}
	unbounded := NewRing(100 * BlockSize)
	for i := range 10 {
		unbounded.Stamp(int64(1000 * (i + 1)))
		unbounded.Add(make([]byte, BlockSize), nil)
	}
	if len(unbounded.blocks) != 10 {
		t.Fatalf("without KeepFor, %d blocks held", len(unbounded.blocks))
	}
}

// Bounded in stream time, a ring still holds the newest access point, so that a new client
// starts at once on a stream whose keyframes are further apart than the time kept: with a block a
// second, an access point every 8 blocks and 3 s kept, it holds from the newest access point on
// (and never more than 3 s once it is that recent).
func TestRingKeepsTheNewestAccessPoint(t *testing.T) {
	g := NewRing(100 * BlockSize)
	g.KeepFor(3 * time.Second)
	for i := range 30 {
		var r *RAP
		if i%8 == 0 {
			r = &RAP{}
		}
		g.Stamp(int64(1000 * (i + 1)))
		g.Add(make([]byte, BlockSize), r)
		newestRAP := int64(i/8*8) * BlockSize
		want := max(min(newestRAP, int64(i-3)*BlockSize), 0) // the last 4 blocks, or from the access point
		if g.start != want {
			t.Fatalf("after block %d: held from block %d, want %d", i, g.start/BlockSize, want/BlockSize)
		}
		if r, ok, _, _ := g.WaitRAP(); !ok || r.Off != newestRAP {
			t.Fatalf("after block %d: newest access point %d (%v), want %d", i, r.Off, ok, newestRAP)
		}
	}
}
