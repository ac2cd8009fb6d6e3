package testclip

// Multiplex returns the clip as a DVB-like multiplex: its PAT lists first a radio program (PMT
// PID 0x200, one MP2 stream that never comes) and then the clip's program, whose PMT carries 300
// bytes of descriptors, so that it spans two packets. The sections' CRCs are right.
func Multiplex() []byte {
	m := &muxer{cc: map[uint16]byte{}}
	for b := TS; len(b) >= 188; b = b[188:] {
		p := b[:188]
		switch pid := uint16(p[1]&0x1f)<<8 | uint16(p[2]); pid {
		case 0:
			m.section(0, []byte{0x00, 0, 0, 0, 1, 0xc1, 0, 0, 0, 5, 0xe2, 0x00, 0, 1, 0xf0, 0x00}) // programs 5 and 1
			m.section(0x200, []byte{0x02, 0, 0, 0, 5, 0xc1, 0, 0, 0xe2, 0x01, 0xf0, 0, 0x04, 0xe2, 0x01, 0xf0, 0})
		case 0x1000:
			m.section(0x1000, bigPMT(p))
		default:
			m.out = append(m.out, p...)
		}
	}
	return m.out
}

type muxer struct {
	out []byte
	cc  map[uint16]byte
}

// section writes a section (its length and CRC filled in) in as many packets as it takes.
func (m *muxer) section(pid uint16, s []byte) {
	n := len(s) + 4 - 3
	s[1], s[2] = 0xb0|byte(n>>8), byte(n)
	c := crc(s)
	s = append(s, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	payload := append([]byte{0}, s...) // pointer field
	for first := true; len(payload) > 0; first = false {
		p := make([]byte, 188)
		for i := range p {
			p[i] = 0xff
		}
		p[0], p[1], p[2], p[3] = 0x47, byte(pid>>8)&0x1f, byte(pid), 0x10|m.cc[pid]&0x0f
		if first {
			p[1] |= 0x40
		}
		m.cc[pid]++
		k := copy(p[4:], payload)
		payload = payload[k:]
		m.out = append(m.out, p...)
	}
}

// bigPMT is the clip's PMT section (from its one packet) with 300 bytes of private data
// descriptors added to the program info.
func bigPMT(p []byte) []byte {
	pl := p[4:]
	if p[3]&0x20 != 0 {
		pl = p[5+int(p[4]):]
	}
	s := pl[1+int(pl[0]):]
	n := 3 + (int(s[1]&0x0f)<<8 | int(s[2]))
	s = s[:n-4] // without the CRC
	infoLen := int(s[10]&0x0f)<<8 | int(s[11])
	var desc []byte
	for range 30 {
		desc = append(desc, 0x0f, 8, 'a', 'c', 'e', 's', 'w', 'a', 'r', 'm') // private_data_indicator-like
	}
	out := append([]byte(nil), s[:12]...)
	out = append(out, s[12:12+infoLen]...)
	out = append(out, desc...)
	out = append(out, s[12+infoLen:]...)
	l := infoLen + len(desc)
	out[10], out[11] = 0xf0|byte(l>>8), byte(l)
	return out
}

// crc is MPEG-2's CRC-32 (the mpegts package's, repeated so that this package stays a leaf).
func crc(b []byte) uint32 {
	c := uint32(0xffffffff)
	for _, x := range b {
		c ^= uint32(x) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
	}
	return c
}
