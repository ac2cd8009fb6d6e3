package mpegts

// pesHeader returns the PES payload of a packet that starts a PES, and the offset of its
// optional-header flags, or ok=false.
func pesStart(p Packet) (pl []byte, ok bool) {
	if !p.PUSI() {
		return nil, false
	}
	pl = p.Payload()
	if len(pl) < 9 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 {
		return nil, false
	}
	switch pl[3] { // stream ids without the optional header
	case 0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xff, 0xf2, 0xf8:
		return nil, false
	}
	return pl, true
}

// Timestamps returns the PTS and DTS of a packet that starts a PES (DTS = PTS when absent).
func Timestamps(p Packet) (pts, dts int64, ok bool) {
	pl, ok := pesStart(p)
	if !ok || pl[7]&0x80 == 0 || len(pl) < 14 {
		return 0, 0, false
	}
	pts = readTS(pl[9:])
	dts = pts
	if pl[7]&0x40 != 0 && len(pl) >= 19 {
		dts = readTS(pl[14:])
	}
	return pts, dts, true
}

// ShiftTimestamps adds delta (90 kHz) to the PTS and DTS of a packet that starts a PES.
func ShiftTimestamps(p Packet, delta int64) {
	pl, ok := pesStart(p)
	if !ok || pl[7]&0x80 == 0 || len(pl) < 14 {
		return
	}
	writeTS(pl[9:], readTS(pl[9:])+delta)
	if pl[7]&0x40 != 0 && len(pl) >= 19 {
		writeTS(pl[14:], readTS(pl[14:])+delta)
	}
}

// esPayload is the elementary-stream bytes after the PES header, in a PES-starting packet.
func esPayload(p Packet) []byte {
	pl, ok := pesStart(p)
	if !ok {
		return nil
	}
	off := 9 + int(pl[8])
	if off >= len(pl) {
		return nil
	}
	return pl[off:]
}

func readTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

func writeTS(b []byte, ts int64) {
	ts &= 1<<33 - 1
	b[0] = b[0]&0xf1 | byte(ts>>29)&0x0e
	b[1] = byte(ts >> 22)
	b[2] = byte(ts>>14) | 1
	b[3] = byte(ts >> 7)
	b[4] = byte(ts<<1) | 1
}
