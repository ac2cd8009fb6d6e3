package mpegts

// PacketSize is the size of a TS packet.
const PacketSize = 188

// SyncByte starts every packet.
const SyncByte = 0x47

// Packet is one 188-byte TS packet.
type Packet []byte

// PID of the packet.
func (p Packet) PID() uint16 { return uint16(p[1]&0x1f)<<8 | uint16(p[2]) }

// PUSI tells whether a PES packet or section starts in this packet.
func (p Packet) PUSI() bool { return p[1]&0x40 != 0 }

// CC is the continuity counter.
func (p Packet) CC() uint8 { return p[3] & 0x0f }

// SetCC sets the continuity counter.
func (p Packet) SetCC(cc uint8) { p[3] = p[3]&0xf0 | cc&0x0f }

// HasPayload tells whether the packet carries payload.
func (p Packet) HasPayload() bool { return p[3]&0x10 != 0 }

func (p Packet) hasAdaptation() bool { return p[3]&0x20 != 0 && p[4] > 0 }

// RandomAccess tells whether the adaptation field's random_access_indicator is set.
func (p Packet) RandomAccess() bool { return p.hasAdaptation() && p[5]&0x40 != 0 }

// Payload returns the payload bytes, or nil.
func (p Packet) Payload() []byte {
	if !p.HasPayload() {
		return nil
	}
	off := 4
	if p[3]&0x20 != 0 {
		off += 1 + int(p[4])
	}
	if off >= PacketSize {
		return nil
	}
	return p[off:]
}

// PCR returns the PCR base (90 kHz) if the packet carries one.
func (p Packet) PCR() (int64, bool) {
	if !p.hasAdaptation() || p[4] < 7 || p[5]&0x10 == 0 {
		return 0, false
	}
	b := p[6:]
	return int64(b[0])<<25 | int64(b[1])<<17 | int64(b[2])<<9 | int64(b[3])<<1 | int64(b[4])>>7, true
}

// SetPCR rewrites the PCR base, keeping the extension.
func (p Packet) SetPCR(base int64) {
	b := p[6:]
	base &= 1<<33 - 1
	b[0], b[1], b[2], b[3] = byte(base>>25), byte(base>>17), byte(base>>9), byte(base>>1)
	b[4] = b[4]&0x7f | byte(base&1)<<7
}

// Valid tells whether b looks like a TS packet.
func Valid(b []byte) bool { return len(b) == PacketSize && b[0] == SyncByte }
