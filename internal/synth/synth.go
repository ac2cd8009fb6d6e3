package synth

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// The synthetic stream: H.264-looking video frames at FPS on VideoPID, a keyframe every GOP
// frames, each frame's first bytes carrying a Marker, its sequence number and the wall-clock
// time it was made, so that a player can measure lag and continuity from the bytes alone.
const (
	FPS      = 25
	GOP      = 50
	VideoPID = 0x100
	pmtPID   = 0x1000
)

// Marker starts every frame's elementary-stream bytes.
var Marker = [4]byte{'A', 'W', 'T', 'S'}

// Synth writes the synthetic stream in real time.
type Synth struct {
	frameBytes int
	cc         map[uint16]uint8
	seq        uint32
}

// New returns a generator for a stream of bitsPerSecond.
func New(bitsPerSecond int) *Synth {
	return &Synth{frameBytes: max(64, bitsPerSecond/8/FPS), cc: map[uint16]uint8{}}
}

// RunCounting writes frames to w at FPS until ctx ends or a write fails, adding the bytes
// written to total.
func (s *Synth) RunCounting(ctx context.Context, w io.Writer, total *atomic.Int64) {
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * time.Second / FPS)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(due)):
		}
		n, err := w.Write(s.Frame(time.Now()))
		total.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// Frame returns the packets of the next frame (with PAT and PMT before each keyframe).
func (s *Synth) Frame(now time.Time) []byte {
	seq := s.seq
	s.seq++
	key := seq%GOP == 0
	var out []byte
	if key || seq%(FPS/10) == 0 {
		out = append(out, s.psi(0, patSection())...)
		out = append(out, s.psi(pmtPID, pmtSection())...)
	}
	pts := int64(seq)*90000/FPS + 90000
	es := make([]byte, s.frameBytes)
	nal := byte(0x41)
	if key {
		nal = 0x65
	}
	copy(es, []byte{0, 0, 0, 1, nal})
	copy(es[5:], Marker[:])
	binary.BigEndian.PutUint32(es[9:], seq)
	binary.BigEndian.PutUint64(es[13:], uint64(now.UnixMilli()))
	pes := append(pesHeader(pts), es...)
	return append(out, s.packetize(pes, key, pts)...)
}

func pesHeader(pts int64) []byte {
	h := []byte{0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0, 0, 0, 0, 0}
	h[9] = 0x21 | byte(pts>>29)&0x0e
	h[10] = byte(pts >> 22)
	h[11] = byte(pts>>14) | 1
	h[12] = byte(pts >> 7)
	h[13] = byte(pts<<1) | 1
	return h
}

// packetize cuts a PES into packets; the first carries PCR (and the random access flag), the
// last is padded with adaptation-field stuffing.
func (s *Synth) packetize(pes []byte, key bool, pts int64) []byte {
	var out []byte
	for first := true; len(pes) > 0; first = false {
		var af []byte // adaptation field after its length byte; nil: none
		if first {
			base := pts - 9000
			af = []byte{0x10, byte(base >> 25), byte(base >> 17), byte(base >> 9), byte(base >> 1), byte(base&1)<<7 | 0x7e, 0}
			if key {
				af[0] |= 0x40
			}
		}
		room := mpegts.PacketSize - 4
		if af != nil {
			room -= 1 + len(af)
		}
		if k := room - len(pes); k > 0 {
			switch {
			case af != nil:
				af = append(af, bytes.Repeat([]byte{0xff}, k)...)
			case k == 1:
				af = []byte{}
			default:
				af = append([]byte{0}, bytes.Repeat([]byte{0xff}, k-2)...)
			}
		}
		p := make([]byte, 4, mpegts.PacketSize)
		p[0], p[1], p[2], p[3] = mpegts.SyncByte, byte(VideoPID>>8), byte(VideoPID&0xff), 0x10|s.nextCC(VideoPID)
		if first {
			p[1] |= 0x40
		}
		if af != nil {
			p[3] |= 0x20
			p = append(append(p, byte(len(af))), af...)
		}
		n := mpegts.PacketSize - len(p)
		p = append(p, pes[:n]...)
		pes = pes[n:]
		out = append(out, p...)
	}
	return out
}

func (s *Synth) nextCC(pid uint16) byte {
	cc := s.cc[pid]
	s.cc[pid] = (cc + 1) & 0x0f
	return cc
}

// psi makes one packet carrying a section (with its CRC) on pid.
func (s *Synth) psi(pid uint16, section []byte) []byte {
	p := make([]byte, mpegts.PacketSize)
	for i := range p {
		p[i] = 0xff
	}
	p[0], p[1], p[2], p[3] = mpegts.SyncByte, 0x40|byte(pid>>8), byte(pid), 0x10|s.nextCC(pid)
	p[4] = 0
	copy(p[5:], section)
	return p
}

func patSection() []byte {
	s := []byte{0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xe0 | pmtPID>>8, pmtPID & 0xff}
	return withCRC(s)
}

func pmtSection() []byte {
	s := []byte{0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe0 | VideoPID>>8, VideoPID & 0xff, 0xf0, 0,
		mpegts.StreamH264, 0xe0 | VideoPID>>8, VideoPID & 0xff, 0xf0, 0}
	return withCRC(s)
}

// withCRC appends the MPEG-2 CRC-32 of a section.
func withCRC(s []byte) []byte {
	return binary.BigEndian.AppendUint32(s, mpegts.CRC32(s))
}
