package mpegts

// Splicer prepares pieces for a player so that the stream stays decodable across gaps (skipped
// pieces, a restarted source). It passes on each PES packet only once it is complete (the next
// PES of its PID has started), keeping the packets' order, so that at a gap it can drop the PES
// packets that were cut short instead of handing the player a corrupt frame. Continuity counters
// are rewritten (see Continuity). The cost is a delay of about one video frame.
type Splicer struct {
	cc    *Continuity
	queue []queued
	open  map[uint16]*pes // the PES being received on each PID
}

type pes struct{ complete bool }

type queued struct {
	p     [PacketSize]byte
	group *pes // nil: complete on its own
}

// NewSplicer returns a splicer whose first packet of each PID must start a PES or section.
func NewSplicer() *Splicer {
	return &Splicer{cc: NewContinuity(), open: map[uint16]*pes{}}
}

// Write takes whole packets and appends to dst what can be sent now.
func (s *Splicer) Write(dst, pkts []byte) []byte {
	for ; len(pkts) >= PacketSize; pkts = pkts[PacketSize:] {
		s.add(Packet(pkts[:PacketSize]))
	}
	return s.flush(dst)
}

func (s *Splicer) add(p Packet) {
	pid := p.PID()
	if pid == 0x1fff {
		return
	}
	var q queued
	copy(q.p[:], p)
	if p.HasPayload() {
		if p.PUSI() {
			if prev := s.open[pid]; prev != nil {
				prev.complete = true
			}
			pl := p.Payload()
			isPES := len(pl) >= 3 && pl[0] == 0 && pl[1] == 0 && pl[2] == 1
			s.open[pid] = &pes{complete: !isPES} // sections are complete on their own
		}
		q.group = s.open[pid]
		if q.group == nil {
			return // joined mid-PES: wait for the start of the next one
		}
	}
	s.queue = append(s.queue, q)
}

func (s *Splicer) flush(dst []byte) []byte {
	i := 0
	for ; i < len(s.queue); i++ {
		q := &s.queue[i]
		if q.group != nil && !q.group.complete {
			break
		}
		dst = s.cc.Append(dst, Packet(q.p[:]))
	}
	s.queue = append(s.queue[:0], s.queue[i:]...)
	return dst
}

// Gap tells that data is missing before the next Write: the complete PES packets still queued
// are appended to dst, the incomplete ones dropped, and every PID waits for a new PES start.
func (s *Splicer) Gap(dst []byte) []byte {
	for _, q := range s.queue {
		if q.group == nil || q.group.complete {
			dst = s.cc.Append(dst, Packet(q.p[:]))
		}
	}
	s.queue = s.queue[:0]
	clear(s.open)
	s.cc.Gap()
	return dst
}
