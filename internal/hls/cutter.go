package hls

import (
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// cutter finds the access points of a spliced MPEG-TS (video keyframes; frame starts of the
// first stream on a channel without video) and cuts segments there, so every segment decodes on
// its own. A segment starts with the stream's own PAT and PMT when they come just before the
// access point, otherwise with copies of them. It lasts at least 90% of MinSegment (stream times
// jitter). A stream whose access points come further apart than the target duration is cut at
// the target without one, so the playlist stays valid.
type cutter struct {
	a     mpegts.Analyzer
	clock clock
	cur   []byte        // the segment being cut; nil before the first access point
	start time.Duration // its stream time
	patAt int           // offset in cur of its newest PAT packet, or -1
	disc  bool          // the next segment follows a gap
	limit time.Duration // the target duration, once the first segment set it
	rest  []byte        // the start of a packet split between writes
}

type emitFunc func(data []byte, dur time.Duration, disc bool)

// write takes stream bytes; a packet may be split between two writes.
func (c *cutter) write(out []byte, emit emitFunc) {
	if len(c.rest) > 0 {
		k := min(mpegts.PacketSize-len(c.rest), len(out))
		c.rest = append(c.rest, out[:k]...)
		out = out[k:]
		if len(c.rest) < mpegts.PacketSize {
			return
		}
		c.packet(mpegts.Packet(c.rest), emit)
		c.rest = c.rest[:0]
	}
	for ; len(out) >= mpegts.PacketSize; out = out[mpegts.PacketSize:] {
		c.packet(mpegts.Packet(out[:mpegts.PacketSize]), emit)
	}
	c.rest = append(c.rest, out...)
}

// packet takes one packet.
func (c *cutter) packet(p mpegts.Packet, emit emitFunc) {
	access := c.a.Feed(p) || c.a.AudioStart(p)
	now := c.clock.observe(p, c.a.Program)
	long := c.cur != nil && now-c.start >= MinSegment*9/10
	if access && (c.cur == nil || long) || c.cur != nil && c.limit > 0 && now-c.start >= c.limit {
		c.cutAt(now, emit)
	}
	if c.cur == nil {
		return
	}
	if p.PID() == 0 {
		c.patAt = len(c.cur)
	}
	c.cur = append(c.cur, p...)
}

// cutAt ends the current segment before the packet at stream time now and starts the next one.
func (c *cutter) cutAt(now time.Duration, emit emitFunc) {
	var next []byte
	if c.cur != nil && c.patAt >= 0 && len(c.cur)-c.patAt <= mpegts.PSILeadIn {
		next = append(next, c.cur[c.patAt:]...)
		c.cur = c.cur[:c.patAt]
	} else {
		next = c.a.AppendPSI(nil)
	}
	if c.cur != nil {
		emit(c.cur, now-c.start, c.disc)
		c.disc = false
	}
	c.cur, c.start, c.patAt = next, now, -1
	if len(next) > 0 && mpegts.Packet(next[:mpegts.PacketSize]).PID() == 0 {
		c.patAt = 0
	}
}

// gap ends the current segment with tail; the next starts at the next access point, after a
// discontinuity (none before the first segment). A segment that lasted no stream time at all
// (a gap right after an access point) is left out: a playlist cannot list a segment of 0 s.
func (c *cutter) gap(tail []byte, emit emitFunc) {
	if c.cur != nil {
		if dur := c.clock.now - c.start; dur > 0 {
			emit(append(c.cur, tail...), dur, c.disc)
		}
		c.disc = true
	}
	c.cur, c.patAt, c.rest = nil, -1, c.rest[:0]
	c.clock.ok = false
}

// clock turns the 33-bit DTS of the access stream's PES packets into a growing stream time; a
// step back or a jump of more than a minute (a restarted source) adds no time.
type clock struct {
	now  time.Duration
	prev int64
	ok   bool
}

func (k *clock) observe(p mpegts.Packet, prog mpegts.Program) time.Duration {
	pid := prog.VideoPID
	if !prog.HasVideo {
		pid = prog.FirstES
	}
	if p.PID() != pid || !p.PUSI() {
		return k.now
	}
	_, dts, ok := mpegts.Timestamps(p)
	if !ok {
		return k.now
	}
	if k.ok {
		if d := (dts - k.prev) & (1<<33 - 1); d < 60*90000 {
			k.now += time.Duration(d) * time.Second / 90000
		}
	}
	k.prev, k.ok = dts, true
	return k.now
}
