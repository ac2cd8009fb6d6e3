package mpegts

// Aligner turns a byte stream into whole packets, finding the sync byte again after garbage.
type Aligner struct {
	pending []byte
	out     []byte // what Write returned last, reused
}

// Write adds bytes and returns the whole packets now available (valid until the next call). When
// nothing is pending and b starts with whole packets in sync, as a live cache's pieces do, those
// are b itself, not a copy: a viewer engine's pump then holds no buffer the size of a piece here.
func (a *Aligner) Write(b []byte) []byte {
	if len(a.pending) == 0 {
		if n := inSync(b); n > 0 {
			a.pending = append(a.pending, b[n:]...)
			return b[:n:n]
		}
	}
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

// inSync is the length of b's whole packets when each starts with the sync byte and so does the
// partial packet after them, if any (what the loop above would take without sliding); else 0.
func inSync(b []byte) int {
	n := len(b) / PacketSize * PacketSize
	for i := 0; i < n; i += PacketSize {
		if b[i] != SyncByte {
			return 0
		}
	}
	if n < len(b) && b[n] != SyncByte {
		return 0
	}
	return n
}
