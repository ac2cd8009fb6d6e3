package fanout

import (
	"bytes"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/synth"
)

// tsPacket builds one packet, with adaptation-field stuffing when payload is short.
func tsPacket(pid uint16, pusi bool, cc uint8, payload []byte) []byte {
	p := bytes.Repeat([]byte{0xff}, mpegts.PacketSize)
	p[0], p[1], p[2] = mpegts.SyncByte, byte(pid>>8)&0x1f, byte(pid)
	if pusi {
		p[1] |= 0x40
	}
	payload = payload[:min(len(payload), 184)]
	if len(payload) == 184 {
		p[3] = 0x10 | cc&0x0f
		copy(p[4:], payload)
		return p
	}
	p[3] = 0x30 | cc&0x0f
	af := 183 - len(payload)
	p[4] = byte(af)
	if af > 0 {
		p[5] = 0
	}
	copy(p[5+af:], payload)
	return p
}

// radioPSI is a PAT and a PMT for one program with one AAC stream on PID 0x101.
func radioPSI(cc uint8) []byte {
	pat := withCRC([]byte{0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xe1, 0x00})
	pmt := withCRC([]byte{0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe1, 0x01, 0xf0, 0, 0x0f, 0xe1, 0x01, 0xf0, 0})
	return append(tsPacket(0, true, cc, append([]byte{0}, pat...)), tsPacket(0x100, true, cc, append([]byte{0}, pmt...))...)
}

// withCRC appends a section's CRC-32.
func withCRC(s []byte) []byte {
	c := mpegts.CRC32(s)
	return append(s, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
}

// ringBytes returns everything the ring holds.
func ringBytes(g *Ring) []byte {
	bufs, _, _, _ := g.Read(0, nil)
	var b []byte
	for _, s := range bufs {
		b = append(b, s...)
	}
	return b
}

// A channel without video starts at audio frames, at most every audioRAPEvery.
func TestIngestRadioStartsAtAudioFrames(t *testing.T) {
	r := NewRing(16 << 20)
	t0 := time.Unix(1000, 0)
	g := NewIngest(r, t0)
	for i := range 200 { // 200 AAC frames of 21 ms, PSI every 10
		now := t0.Add(time.Duration(i) * 21 * time.Millisecond)
		var b []byte
		if i%10 == 0 {
			b = radioPSI(uint8(i / 10))
		}
		pes := []byte{0, 0, 1, 0xc0, 0, 0, 0x80, 0, 0}
		b = append(b, tsPacket(0x101, true, uint8(2*i), pes)...)
		b = append(b, tsPacket(0x101, false, uint8(2*i+1), []byte{1, 2, 3})...)
		g.Write(b, now)
	}
	out := ringBytes(r)
	if mpegts.Packet(out[:mpegts.PacketSize]).PID() != 0 {
		t.Fatal("the stream does not start with the PAT")
	}
	if len(r.raps) < 6 {
		t.Fatalf("%d access points in 4.2 s of radio", len(r.raps))
	}
	for _, rp := range r.raps {
		p := mpegts.Packet(out[rp.Off : rp.Off+mpegts.PacketSize])
		if rp.PSI == nil && p.PID() == 0 {
			continue // the stream's own PAT leads in
		}
		if p.PID() != 0x101 || !p.PUSI() {
			t.Fatalf("access point at %d is PID %#x, PUSI %v", rp.Off, p.PID(), p.PUSI())
		}
	}
}

// A stream whose program cannot be found gets access points at packet boundaries once none was
// found for the fallback time, then every fallbackEvery.
func TestIngestFallbackAccessPoints(t *testing.T) {
	r := NewRing(16 << 20)
	t0 := time.Unix(1000, 0)
	g := NewIngest(r, t0)
	g.fallback, g.fallbackEvery = time.Second, 500*time.Millisecond
	scrambled := bytes.Repeat([]byte{0x5a}, 184)
	for i := range 300 { // 3 s, no PAT
		now := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		g.Write(tsPacket(0x200, i%5 == 0, uint8(i), scrambled), now)
	}
	if n := len(r.raps); n < 3 || n > 5 {
		t.Fatalf("%d fallback access points in 2 s after the fallback, want about 4", n)
	}
	if r.end == 0 {
		t.Fatal("nothing passed the gate")
	}
}

// After a reconnect the new connection is taken from its first keyframe (PAT and PMT in front),
// and continuity counters run on across the splice.
func TestIngestReconnectSplicesAtKeyframe(t *testing.T) {
	r := NewRing(64 << 20)
	t0 := time.Unix(1000, 0)
	g := NewIngest(r, t0)
	now := t0
	feed := func(s *synth.Synth, frames int) {
		for range frames {
			now = now.Add(40 * time.Millisecond)
			g.Write(s.Frame(now), now)
		}
	}
	feed(synth.New(2_000_000), 70)
	spliceAt := r.end
	g.Reconnect(now)
	other := synth.New(2_000_000)
	for range 13 { // the new connection joins mid-GOP
		other.Frame(now)
	}
	feed(other, 100)
	out := ringBytes(r)
	var a mpegts.Analyzer
	last := map[uint16]int{}
	firstVideoAfter := true
	for i := 0; i+mpegts.PacketSize <= len(out); i += mpegts.PacketSize {
		p := mpegts.Packet(out[i : i+mpegts.PacketSize])
		kf := a.Feed(p)
		if p.HasPayload() {
			if prev, ok := last[p.PID()]; ok && int(p.CC()) != (prev+1)&15 {
				t.Fatalf("PID %#x at %d: CC %d after %d", p.PID(), i, p.CC(), prev)
			}
			last[p.PID()] = int(p.CC())
		}
		if int64(i) >= spliceAt && firstVideoAfter && a.Program.HasVideo && p.PID() == a.Program.VideoPID {
			if !kf {
				t.Fatalf("the first video packet after the splice (at %d) is not a keyframe", i)
			}
			firstVideoAfter = false
		}
	}
	if firstVideoAfter {
		t.Fatal("no video after the splice")
	}
}

// FuzzIngest feeds arbitrary upstream bytes, with reconnects and skips: nothing panics, the ring
// holds whole packets, and every access point is at a packet of the ring.
func FuzzIngest(f *testing.F) {
	f.Add(synth.New(2_000_000).Frame(time.Unix(0, 0)), uint8(3))
	f.Add([]byte{0x47, 0x40, 0, 0x10}, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, every uint8) {
		r := NewRing(1 << 20)
		t0 := time.Unix(1000, 0)
		g := NewIngest(r, t0)
		g.fallback, g.fallbackEvery = 0, 0
		for i := 0; len(b) > 0; i++ {
			k := min(len(b), 1+int(every)*50)
			g.Write(b[:k], t0.Add(time.Duration(i)*time.Millisecond))
			b = b[k:]
			switch {
			case every > 0 && i%int(every) == 1:
				g.Reconnect(t0)
			case every > 0 && i%int(every) == 2:
				g.Skip(t0)
			}
		}
		all := ringBytes(r)
		if len(all)%mpegts.PacketSize != 0 {
			t.Fatalf("the ring holds %d bytes: not whole packets", len(all))
		}
		for _, rp := range r.raps {
			if rp.Off%mpegts.PacketSize != 0 || rp.Off > r.end {
				t.Fatalf("access point at %d of %d", rp.Off, r.end)
			}
		}
	})
}
