package mpegts

// Stream types of video codecs whose keyframes we detect.
const (
	StreamMPEG2 = 0x02
	StreamH264  = 0x1b
	StreamHEVC  = 0x24
)

// Program is what the PAT and PMT say about the stream.
type Program struct {
	PMTPID    uint16
	PCRPID    uint16
	VideoPID  uint16
	VideoType uint8
	HasVideo  bool
	FirstES   uint16 // the first elementary stream listed (audio on a radio channel), or 0
}

// section returns the section bytes (from table_id) of a PSI packet that starts a section.
func section(p Packet) []byte {
	pl := p.Payload()
	if !p.PUSI() || len(pl) < 1 || int(pl[0])+1 >= len(pl) {
		return nil
	}
	s := pl[1+int(pl[0]):]
	if len(s) < 3 {
		return nil
	}
	n := int(s[1]&0x0f)<<8 | int(s[2])
	if 3+n > len(s) || n < 9 {
		return nil // sections spanning packets are not needed for PAT/PMT of one program
	}
	return s[:3+n-4] // without CRC
}

// parsePAT returns the PID of the first program's PMT.
func parsePAT(p Packet) (uint16, bool) {
	s := section(p)
	if s == nil || s[0] != 0x00 {
		return 0, false
	}
	for e := s[8:]; len(e) >= 4; e = e[4:] {
		if prog := uint16(e[0])<<8 | uint16(e[1]); prog != 0 {
			return uint16(e[2]&0x1f)<<8 | uint16(e[3]), true
		}
	}
	return 0, false
}

// parsePMT fills the PCR and video PIDs of prog.
func parsePMT(p Packet, prog *Program) bool {
	s := section(p)
	if s == nil || s[0] != 0x02 || len(s) < 12 {
		return false
	}
	prog.PCRPID = uint16(s[8]&0x1f)<<8 | uint16(s[9])
	infoLen := int(s[10]&0x0f)<<8 | int(s[11])
	prog.HasVideo, prog.FirstES = false, 0
	for e := s[min(12+infoLen, len(s)):]; len(e) >= 5; {
		typ, pid := e[0], uint16(e[1]&0x1f)<<8|uint16(e[2])
		esLen := int(e[3]&0x0f)<<8 | int(e[4])
		if prog.FirstES == 0 {
			prog.FirstES = pid
		}
		if !prog.HasVideo && (typ == StreamH264 || typ == StreamHEVC || typ == StreamMPEG2) {
			prog.VideoPID, prog.VideoType, prog.HasVideo = pid, typ, true
		}
		e = e[min(5+esLen, len(e)):]
	}
	return true
}
