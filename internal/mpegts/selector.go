package mpegts

import (
	"fmt"
	"slices"
)

// Selector keeps one program of a multiplex (a DVB transport stream carries several): its PMT,
// its elementary streams and its PCR, with a PAT rewritten to list only that program. Every other
// PID (other programs, SI tables, null packets) is dropped, so viewers get one channel and its
// bitrate only.
type Selector struct {
	Number uint16 // the program_number to keep

	pat    assembler
	pmt    assembler
	pmtPID uint16 // 0 until the PAT named it
	keep   []uint16
	patCC  uint8
}

// Append appends p to dst when it belongs to the program, the PAT rewritten. It fails once a
// complete PAT does not list the program, naming the programs it does list.
func (s *Selector) Append(dst []byte, p Packet) ([]byte, error) {
	pid := p.PID()
	switch {
	case pid == 0:
		sec, _ := s.pat.feed(p)
		if sec == nil {
			return dst, nil
		}
		progs, ok := parsePAT(sec)
		if !ok {
			return dst, nil
		}
		i := slices.IndexFunc(progs, func(pr [2]uint16) bool { return pr[0] == s.Number })
		if i < 0 {
			nums := make([]uint16, len(progs))
			for k, pr := range progs {
				nums[k] = pr[0]
			}
			return dst, fmt.Errorf("program %d is not in the stream; its programs are %v", s.Number, nums)
		}
		if s.pmtPID != progs[i][1] {
			s.pmtPID, s.keep = progs[i][1], nil
		}
		s.patCC++
		return append(dst, patPacket(sec, s.Number, s.pmtPID, s.patCC)...), nil
	case pid == s.pmtPID && s.pmtPID != 0:
		if sec, _ := s.pmt.feed(p); sec != nil {
			var prog Program
			if parsePMT(sec, &prog) && prog.Number == s.Number {
				s.keep = append(prog.ES, prog.PCRPID)
			}
		}
		return append(dst, p...), nil
	case slices.Contains(s.keep, pid):
		return append(dst, p...), nil
	}
	return dst, nil
}

// patPacket is one packet carrying a PAT with one program, the transport stream id and version of
// the section it replaces.
func patPacket(orig []byte, number, pmtPID uint16, cc uint8) []byte {
	sec := []byte{
		0x00, 0xb0, 13, // table_id, section_syntax_indicator, section_length: 5 + 4 + 4
		orig[3], orig[4], orig[5], 0, 0, // transport_stream_id, version/current_next, section numbers
		byte(number >> 8), byte(number), 0xe0 | byte(pmtPID>>8), byte(pmtPID),
	}
	crc := CRC32(sec)
	sec = append(sec, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
	p := make([]byte, PacketSize)
	p[0], p[1], p[2], p[3] = 0x47, 0x40, 0x00, 0x10|cc&0x0f // sync, PUSI and PID 0, payload only
	p[4] = 0                                                // pointer_field
	n := copy(p[5:], sec)
	for i := 5 + n; i < PacketSize; i++ {
		p[i] = 0xff
	}
	return p
}
