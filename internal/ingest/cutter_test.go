package ingest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/testclip"
)

func TestCutterStartsPiecesAtKeyframesWithPSI(t *testing.T) {
	c := NewCutter(64<<10, 500*time.Millisecond)
	now := time.Unix(0, 0)
	var pieces []RawPiece
	clip := testclip.TS
	for i := 0; i < len(clip); i += 188 * 10 {
		now = now.Add(50 * time.Millisecond)
		pieces = append(pieces, c.Feed(clip[i:min(i+188*10, len(clip))], now)...)
	}
	keys := 0
	for _, p := range pieces {
		if len(p.Data) > 64<<10 || len(p.Data)%188 != 0 {
			t.Fatalf("piece of %d bytes", len(p.Data))
		}
		if p.Keyframe < 0 {
			continue
		}
		keys++
		if p.Keyframe != 2*188 || mpegts.Packet(p.Data[:188]).PID() != 0 {
			t.Fatalf("keyframe piece does not begin with PAT, PMT, keyframe: offset %d", p.Keyframe)
		}
		var a mpegts.Analyzer
		a.Feed(mpegts.Packet(p.Data[:188]))
		a.Feed(mpegts.Packet(p.Data[188:376]))
		if !a.Feed(mpegts.Packet(p.Data[376:564])) {
			t.Fatal("third packet of a keyframe piece is not a keyframe")
		}
	}
	if keys != 8 {
		t.Fatalf("%d keyframe pieces, want 8", keys)
	}
	var all []byte
	for _, p := range pieces {
		all = append(all, p.Data...)
	}
	if bytes.Count(all, []byte{0x47}) == 0 || len(pieces) < 15 {
		t.Fatalf("%d pieces", len(pieces))
	}
}

// Run gives every piece of the input, the last one too when it closes, and marks a
// discontinuity once, after giving the piece it cut short.
func TestCutterRun(t *testing.T) {
	in := make(chan []byte, 4)
	clip := testclip.TS[:188*2000]
	in <- clip[:188*1000]
	in <- []byte{} // the input lost data
	in <- clip[188*1000:]
	close(in)
	var got []byte
	var holes, pieces int
	err := NewCutter(1<<20, time.Hour).Run(context.Background(), in, func(rp RawPiece) error {
		got = append(got, rp.Data...)
		pieces++
		return nil
	}, func() { holes++ })
	if err != nil || holes != 1 || pieces < 3 || len(got) < len(clip) {
		t.Fatalf("err %v, %d holes, %d pieces, %d of %d bytes", err, holes, pieces, len(got), len(clip))
	}
}
