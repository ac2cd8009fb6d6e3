package mpegts

import "bytes"

// Stream types of video codecs whose keyframes we detect.
const (
	StreamMPEG2 = 0x02
	StreamH264  = 0x1b
	StreamHEVC  = 0x24
)

// Program is what the PAT and PMT say about the stream.
type Program struct {
	Number    uint16 // program_number
	PMTPID    uint16
	PCRPID    uint16
	VideoPID  uint16
	VideoType uint8
	HasVideo  bool
	FirstES   uint16   // the first elementary stream listed (audio on a radio channel), or 0
	ES        []uint16 // every elementary stream's PID, in the PMT's order
}

// maxSection bounds a PSI section (ISO/IEC 13818-1: 1,024 bytes for PAT and PMT; 4,096 for
// private sections).
const maxSection = 4096

// assembler collects one PID's PSI section across packets. A section is complete when
// section_length bytes arrived and its CRC-32 checks.
type assembler struct {
	buf  []byte // section bytes from table_id
	pkts []byte // the packets that carried them
	want int    // total section length, 0 while none is being collected
}

// feed takes a packet of the PID and returns the section (without CRC) and the packets that
// carried it once complete.
func (s *assembler) feed(p Packet) (section, pkts []byte) {
	pl := p.Payload()
	if p.PUSI() {
		if len(pl) < 1 || int(pl[0])+1 > len(pl) {
			s.want = 0
			return nil, nil
		}
		s.buf, s.pkts, s.want = append(s.buf[:0], pl[1+int(pl[0]):]...), append(s.pkts[:0], p...), 0
	} else {
		if s.want == 0 && len(s.buf) == 0 {
			return nil, nil // a continuation of a section whose start we missed
		}
		s.buf, s.pkts = append(s.buf, pl...), append(s.pkts, p...)
	}
	if s.want == 0 && len(s.buf) >= 3 {
		s.want = 3 + (int(s.buf[1]&0x0f)<<8 | int(s.buf[2]))
		if s.want < 12 || s.want > maxSection {
			s.buf, s.want = s.buf[:0], 0
			return nil, nil
		}
	}
	if s.want == 0 || len(s.buf) < s.want {
		return nil, nil
	}
	sec := s.buf[:s.want]
	s.want = 0
	if CRC32(sec) != 0 { // the CRC over the whole section, its own included, is 0
		s.buf = s.buf[:0]
		return nil, nil
	}
	out, carried := bytes.Clone(sec[:len(sec)-4]), bytes.Clone(s.pkts)
	s.buf = s.buf[:0]
	return out, carried
}

// parsePAT lists the programs of a PAT section: (program_number, PMT PID), network PID left out.
func parsePAT(s []byte) (progs [][2]uint16, ok bool) {
	if len(s) < 8 || s[0] != 0x00 {
		return nil, false
	}
	for e := s[8:]; len(e) >= 4; e = e[4:] {
		if num := uint16(e[0])<<8 | uint16(e[1]); num != 0 {
			progs = append(progs, [2]uint16{num, uint16(e[2]&0x1f)<<8 | uint16(e[3])})
		}
	}
	return progs, true
}

// parsePMT reads a PMT section into prog: the PCR PID, the first elementary stream, and the first
// video stream of a codec whose keyframes we find.
func parsePMT(s []byte, prog *Program) bool {
	if len(s) < 12 || s[0] != 0x02 {
		return false
	}
	prog.Number = uint16(s[3])<<8 | uint16(s[4])
	prog.PCRPID = uint16(s[8]&0x1f)<<8 | uint16(s[9])
	infoLen := int(s[10]&0x0f)<<8 | int(s[11])
	prog.HasVideo, prog.FirstES, prog.VideoPID, prog.VideoType, prog.ES = false, 0, 0, 0, nil
	for e := s[min(12+infoLen, len(s)):]; len(e) >= 5; {
		typ, pid := e[0], uint16(e[1]&0x1f)<<8|uint16(e[2])
		esLen := int(e[3]&0x0f)<<8 | int(e[4])
		if prog.FirstES == 0 {
			prog.FirstES = pid
		}
		prog.ES = append(prog.ES, pid)
		if !prog.HasVideo && (typ == StreamH264 || typ == StreamHEVC || typ == StreamMPEG2) {
			prog.VideoPID, prog.VideoType, prog.HasVideo = pid, typ, true
		}
		e = e[min(5+esLen, len(e)):]
	}
	return true
}

var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC32 is the CRC-32 of MPEG-2 PSI (polynomial 0x04C11DB7, not reflected, initial all ones).
func CRC32(b []byte) uint32 {
	c := uint32(0xffffffff)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
