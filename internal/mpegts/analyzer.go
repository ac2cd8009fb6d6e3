package mpegts

import "bytes"

// Analyzer follows a stream packet by packet: it learns the programs from the PAT and their PMTs
// (sections may span packets; each is CRC-checked), follows one program — the first with video
// in the PAT's order, else the first; or the one numbered Want — keeps the packets of the latest
// PAT and of that program's PMT, and finds keyframes.
type Analyzer struct {
	Want    uint16 // the program_number to follow; 0 for the first with video
	Program Program
	pat     []byte // packets of the latest PAT
	pmt     []byte // packets of the followed program's latest PMT
	progs   [][2]uint16
	pmts    map[uint16]pmtInfo // by PMT PID
	asm     map[uint16]*assembler
}

type pmtInfo struct {
	prog Program
	pkts []byte
}

// Feed looks at one packet and reports whether a video keyframe starts in it.
func (a *Analyzer) Feed(p Packet) (keyframe bool) {
	pid := p.PID()
	switch {
	case pid == 0:
		if sec, pkts := a.assemble(p); sec != nil {
			if progs, ok := parsePAT(sec); ok {
				a.progs, a.pat = progs, pkts
				a.choose()
			}
		}
	case a.isPMT(pid):
		if sec, pkts := a.assemble(p); sec != nil {
			var prog Program
			if parsePMT(sec, &prog) {
				prog.PMTPID = pid
				if a.pmts == nil {
					a.pmts = map[uint16]pmtInfo{}
				}
				a.pmts[pid] = pmtInfo{prog, pkts}
				a.choose()
			}
		}
	case a.Program.HasVideo && pid == a.Program.VideoPID && p.PUSI():
		return p.RandomAccess() || hasIDR(esPayload(p), a.Program.VideoType)
	}
	return false
}

func (a *Analyzer) assemble(p Packet) (section, pkts []byte) {
	if a.asm == nil {
		a.asm = map[uint16]*assembler{}
	}
	s := a.asm[p.PID()]
	if s == nil {
		s = &assembler{}
		a.asm[p.PID()] = s
	}
	return s.feed(p)
}

func (a *Analyzer) isPMT(pid uint16) bool {
	for _, pr := range a.progs {
		if pr[1] == pid {
			return true
		}
	}
	return false
}

// choose follows the first program with video in the PAT's order, else the first whose PMT was
// seen.
func (a *Analyzer) choose() {
	var first *pmtInfo
	for _, pr := range a.progs {
		info, ok := a.pmts[pr[1]]
		if !ok || a.Want != 0 && pr[0] != a.Want {
			continue
		}
		if info.prog.HasVideo {
			a.Program, a.pmt = info.prog, info.pkts
			return
		}
		if first == nil {
			first = &info
		}
	}
	if first != nil {
		a.Program, a.pmt = first.prog, first.pkts
	}
}

// PSI returns copies of the packets of the latest PAT and PMT, one by one, or nil before both
// were seen.
func (a *Analyzer) PSI() [][]byte {
	if a.pat == nil || a.pmt == nil {
		return nil
	}
	var out [][]byte
	for _, b := range [][]byte{a.pat, a.pmt} {
		for ; len(b) >= PacketSize; b = b[PacketSize:] {
			out = append(out, bytes.Clone(b[:PacketSize]))
		}
	}
	return out
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
