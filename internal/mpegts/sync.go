package mpegts

// Aligner turns a byte stream into whole packets, finding the sync byte again after garbage.
type Aligner struct {
	pending []byte
	out     []byte // what Write returned last, reused
}

// Write adds bytes and returns the whole packets now available (valid until the next call).
func (a *Aligner) Write(b []byte) []byte {
	a.pending = append(a.pending, b...)
	p := a.pending
	out := a.out[:0]
	for len(p) >= PacketSize {
		if p[0] != SyncByte || (len(p) > PacketSize && p[PacketSize] != SyncByte) {
			p = p[1:] // lost sync: slide until a sync byte starts two packets in a row
			continue
		}
		out = append(out, p[:PacketSize]...)
		p = p[PacketSize:]
	}
	a.pending = append(a.pending[:0], p...)
	a.out = out
	return out
}
