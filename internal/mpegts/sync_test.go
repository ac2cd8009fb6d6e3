package mpegts

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Aligning a stream that is in sync allocates nothing once warm (the packets go out in one
// reused buffer, not a slice grown packet by packet).
func BenchmarkAligner(b *testing.B) {
	chunk := make([]byte, 64<<10+100) // reads do not end on packet boundaries
	for i := 0; i+PacketSize <= len(chunk); i += PacketSize {
		chunk[i] = SyncByte
	}
	var a Aligner
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		a.Write(chunk)
	}
}

// The aligner hands back whole packets in sync as they are, and otherwise slides over garbage
// as it always did: random cuts of a stream with garbage in it come out as from an aligner that
// copies everything (the one before pieces went through uncopied).
func TestAlignerSameWithAndWithoutCopies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var stream []byte
	for i := range 400 {
		if i%37 == 5 { // garbage, some of it sync bytes
			for range rng.IntN(300) {
				stream = append(stream, []byte{SyncByte, 0x11, 0x22}[rng.IntN(3)])
			}
		}
		p := make([]byte, PacketSize)
		p[0], p[1] = SyncByte, byte(i)
		stream = append(stream, p...)
	}
	for round := range 200 {
		var a Aligner
		var want, got []byte
		var pending []byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(3*PacketSize))
			if round%2 == 0 {
				n = min(len(rest), PacketSize*(1+rng.IntN(4))) // whole packets, mostly
			}
			chunk := rest[:n]
			rest = rest[n:]
			got = append(got, a.Write(chunk)...)
			var out []byte
			pending, out = copyingAlign(pending, chunk)
			want = append(want, out...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: %d bytes aligned, want %d (or the same length, other bytes)", round, len(got), len(want))
		}
	}
}

// copyingAlign is the aligner as it was: every byte copied into pending, packets out of it.
func copyingAlign(pending, b []byte) ([]byte, []byte) {
	pending = append(pending, b...)
	p := pending
	var out []byte
	for len(p) >= PacketSize {
		if p[0] != SyncByte || (len(p) > PacketSize && p[PacketSize] != SyncByte) {
			p = p[1:]
			continue
		}
		out = append(out, p[:PacketSize]...)
		p = p[PacketSize:]
	}
	return append([]byte(nil), p...), out
}
