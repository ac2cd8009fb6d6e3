package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/synth"
)

// frame is one synthetic frame as a player received it.
type frame struct {
	seq     uint32
	src     time.Time // when the source made it
	arrived time.Time
	key     bool
}

// frameReader finds the synthetic frames in a TS byte stream cut anywhere.
type frameReader struct {
	pending []byte
}

func (r *frameReader) feed(b []byte, now time.Time) []frame {
	r.pending = append(r.pending, b...)
	var out []frame
	p := r.pending
	for ; len(p) >= mpegts.PacketSize; p = p[mpegts.PacketSize:] {
		pk := mpegts.Packet(p[:mpegts.PacketSize])
		if !mpegts.Valid(pk) || pk.PID() != synth.VideoPID || !pk.PUSI() {
			continue
		}
		pl := pk.Payload()
		if len(pl) < 9 || len(pl) < 9+int(pl[8])+21 {
			continue
		}
		es := pl[9+int(pl[8]):]
		if !bytes.Equal(es[5:9], synth.Marker[:]) {
			continue
		}
		out = append(out, frame{
			seq: binary.BigEndian.Uint32(es[9:]), key: es[4] == 0x65, arrived: now,
			src: time.UnixMilli(int64(binary.BigEndian.Uint64(es[13:]))),
		})
	}
	r.pending = append(r.pending[:0], p...)
	return out
}

// player reads one stream and records when each frame arrived.
type player struct {
	url       string                                       // an engine's stream URL (bench swarm)
	open      func(context.Context) (io.ReadCloser, error) // opens the stream
	requested time.Time

	mu        sync.Mutex // guards everything below
	firstByte time.Time
	firstKey  time.Time
	frames    []frame
	bytes     int64
	err       error
	stopped   time.Time // when a churned-out player was stopped
}

func (p *player) run(ctx context.Context) {
	p.mu.Lock()
	p.requested = time.Now()
	p.mu.Unlock()
	body, err := p.open(ctx)
	if err != nil {
		p.setErr(err)
		return
	}
	defer body.Close()
	var r frameReader
	buf := make([]byte, 64<<10)
	for {
		n, err := body.Read(buf)
		now := time.Now()
		if n > 0 {
			frames := r.feed(buf[:n], now)
			p.mu.Lock()
			if p.firstByte.IsZero() {
				p.firstByte = now
			}
			for _, f := range frames {
				if f.key && p.firstKey.IsZero() {
					p.firstKey = now
				}
				if !p.firstKey.IsZero() {
					p.frames = append(p.frames, f)
				}
			}
			p.bytes += int64(n)
			p.mu.Unlock()
		}
		if err != nil {
			if err != io.EOF && ctx.Err() == nil {
				p.setErr(err)
			}
			return
		}
	}
}

func (p *player) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// Prebuffer is how much media a player holds before it starts to play.
const Prebuffer = time.Second

// playback is the result of playing a viewer's frames in real time from a small buffer.
type playback struct {
	onTime, expected int
	skipped          int // frames that never came (part of expected)
	stalls           int
	stallTime        time.Duration
	firstStall       time.Time // when the first stall began
	lags             []float64 // seconds, one per second of playing
	samples          []sample  // per second: lag and buffer
}

type sample struct {
	at     time.Time
	lag    float64 // seconds
	buffer float64 // seconds of media held
}

// simulate plays the frames: playing starts once Prebuffer of media has arrived, each frame is
// due 1/synth.FPS after the previous one, a frame that has not arrived when due stalls the player until
// it does. Frames made before end-grace that never arrived count as late; so do skipped ones.
func simulate(frames []frame, end time.Time, grace time.Duration) playback {
	var pb playback
	if len(frames) == 0 {
		return pb
	}
	first := frames[0]
	start := first.arrived
	for _, f := range frames {
		if time.Duration(f.seq-first.seq)*time.Second/synth.FPS >= Prebuffer {
			start = f.arrived
			break
		}
		start = f.arrived.Add(Prebuffer) // too few frames yet: the player starts after Prebuffer
	}
	due := start
	lastSample := time.Time{}
	cutoff := end.Add(-grace)
	prev := first.seq - 1
	for i, f := range frames {
		if f.src.After(cutoff) {
			break
		}
		pb.expected += int(f.seq - prev) // skipped frames are expected too
		pb.skipped += int(f.seq - prev - 1)
		prev = f.seq
		if f.arrived.After(due) {
			if pb.stalls == 0 {
				pb.firstStall = due
			}
			pb.stalls++
			pb.stallTime += f.arrived.Sub(due)
			due = f.arrived
		} else {
			pb.onTime++
		}
		if due.Sub(lastSample) >= time.Second {
			lastSample = due
			lag := due.Sub(f.src).Seconds()
			pb.lags = append(pb.lags, lag)
			pb.samples = append(pb.samples, sample{at: due, lag: lag, buffer: buffered(frames[i:], due)})
		}
		due = due.Add(time.Second / synth.FPS)
	}
	return pb
}

// buffered is how much media has arrived by t among frames (which start at the one playing).
func buffered(frames []frame, t time.Time) float64 {
	n := 0
	for _, f := range frames {
		if f.arrived.After(t) {
			break
		}
		n++
	}
	return float64(n) / synth.FPS
}
