package mpegts

// Continuity rewrites continuity counters so that a stream spliced from pieces (with gaps, or from
// a restarted or looped source) stays continuous for the demuxer. After Gap, each PID resumes only
// at a packet that starts a PES or section, so no demuxer sees half a frame.
type Continuity struct {
	next   [8192]uint8 // next CC to write, per PID
	last   [8192]int8  // last CC read, per PID; -1 none
	synced [8192]bool
	seen   [8192]bool
}

// NewContinuity returns a rewriter whose first packet of each PID must start a PES or section.
func NewContinuity() *Continuity {
	c := &Continuity{}
	c.Gap()
	return c
}

// Gap tells that packets are missing before the next one.
func (c *Continuity) Gap() {
	c.synced = [8192]bool{}
	for i := range c.last {
		c.last[i] = -1
	}
}

// Append copies p to dst with a rewritten CC, or drops it; it returns dst.
func (c *Continuity) Append(dst []byte, p Packet) []byte {
	pid := p.PID()
	if pid == 0x1fff {
		return dst
	}
	if p.HasPayload() {
		if int8(p.CC()) == c.last[pid] {
			return dst // a duplicate packet
		}
		c.last[pid] = int8(p.CC())
		if !c.synced[pid] {
			if !p.PUSI() {
				return dst
			}
			c.synced[pid] = true
		}
	}
	start := len(dst)
	dst = append(dst, p...)
	q := Packet(dst[start:])
	if !c.seen[pid] {
		c.seen[pid], c.next[pid] = true, p.CC()
	}
	if p.HasPayload() {
		q.SetCC(c.next[pid])
		c.next[pid]++
	} else {
		q.SetCC(c.next[pid] - 1)
	}
	return dst
}

// Insert appends a copy of p (a packet repeated on purpose, such as PAT or PMT) with the next CC
// of its PID, without treating it as a duplicate.
func (c *Continuity) Insert(dst []byte, p Packet) []byte {
	pid := p.PID()
	start := len(dst)
	dst = append(dst, p...)
	if !c.seen[pid] {
		c.seen[pid], c.next[pid] = true, p.CC()
	}
	Packet(dst[start:]).SetCC(c.next[pid])
	c.next[pid]++
	return dst
}
