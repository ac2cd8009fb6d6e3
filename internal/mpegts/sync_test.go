package mpegts

import "testing"

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
