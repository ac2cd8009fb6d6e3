package mpegts

import (
	"testing"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// FuzzStream feeds arbitrary bytes (raw source input) through the aligner, the analyzer, the
// splicer and the continuity and loop rewriters: nothing panics, and what comes out is whole
// packets.
func FuzzStream(f *testing.F) {
	f.Add(testclip.TS[:188*40])
	f.Add([]byte{SyncByte, 0x40, 0, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		var al Aligner
		var an Analyzer
		sp := NewSplicer()
		lo := NewLooper()
		var out, looped []byte
		pk := al.Write(b)
		for i := 0; i+PacketSize <= len(pk); i += PacketSize {
			p := Packet(pk[i : i+PacketSize])
			an.Feed(p)
			an.AudioStart(p)
			Timestamps(p)
			looped = lo.Append(looped, p)
		}
		an.AppendPSI(nil)
		out = sp.Write(out, pk)
		out = sp.Gap(out)
		for _, s := range [][]byte{out, looped} {
			if len(s)%PacketSize != 0 {
				t.Fatalf("%d bytes out: not whole packets", len(s))
			}
		}
	})
}
