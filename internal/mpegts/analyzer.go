package mpegts

import "bytes"

// Analyzer follows a stream packet by packet: it learns the program from the PAT and PMT, keeps
// the latest PAT and PMT packets, and finds keyframes.
type Analyzer struct {
	Program Program
	pat     []byte
	pmt     []byte
}

// Feed looks at one packet and reports whether a video keyframe starts in it.
func (a *Analyzer) Feed(p Packet) (keyframe bool) {
	pid := p.PID()
	switch {
	case pid == 0:
		if pmt, ok := parsePAT(p); ok {
			a.Program.PMTPID = pmt
			a.pat = append(a.pat[:0], p...)
		}
	case pid == a.Program.PMTPID && a.Program.PMTPID != 0:
		if parsePMT(p, &a.Program) {
			a.pmt = append(a.pmt[:0], p...)
		}
	case a.Program.HasVideo && pid == a.Program.VideoPID && p.PUSI():
		return p.RandomAccess() || hasIDR(esPayload(p), a.Program.VideoType)
	}
	return false
}

// PSI returns copies of the latest PAT and PMT packets, or nil before both were seen.
func (a *Analyzer) PSI() [][]byte {
	if a.pat == nil || a.pmt == nil {
		return nil
	}
	return [][]byte{bytes.Clone(a.pat), bytes.Clone(a.pmt)}
}

// PSILeadIn: a PAT this few bytes before a keyframe (with its PMT) leads into it, so a player or a
// segment starting there starts at the PAT instead of at copies of it.
const PSILeadIn = 8 * PacketSize

// AppendPSI appends the latest PAT and PMT packets to dst (nothing before both were seen).
func (a *Analyzer) AppendPSI(dst []byte) []byte {
	if a.pat == nil || a.pmt == nil {
		return dst
	}
	return append(append(dst, a.pat...), a.pmt...)
}

// AudioStart tells whether p starts a frame of the program's first stream on a program without
// video (a radio channel): where a player can start when there is no keyframe.
func (a *Analyzer) AudioStart(p Packet) bool {
	prog := a.Program
	return !prog.HasVideo && prog.FirstES != 0 && p.PID() == prog.FirstES && p.PUSI()
}

// hasIDR scans elementary-stream bytes for a NAL unit that starts a decodable picture.
func hasIDR(es []byte, typ uint8) bool {
	for i := 0; i+3 < len(es); i++ {
		if es[i] != 0 || es[i+1] != 0 || es[i+2] != 1 {
			continue
		}
		nal := es[i+3]
		switch typ {
		case StreamH264:
			if t := nal & 0x1f; t == 5 || t == 7 {
				return true
			}
		case StreamHEVC:
			if t := nal >> 1 & 0x3f; (t >= 16 && t <= 21) || t == 32 || t == 33 {
				return true
			}
		case StreamMPEG2:
			if nal == 0xb3 { // sequence header
				return true
			}
		}
	}
	return false
}
