package fanout

import (
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// Where a client may start. A video channel: at keyframes. A channel without video: at the
// start of a frame of its first stream, at most every audioRAPEvery. A channel in which neither
// can be found (scrambled, an unknown codec): once no access point was found for rapFallback, at
// a packet boundary every rapFallbackEvery, with PAT and PMT in front.
const (
	audioRAPEvery    = 500 * time.Millisecond
	rapFallback      = 10 * time.Second
	rapFallbackEvery = 2 * time.Second
)

// Ingest turns the bytes of a channel's upstream connections into the ring's stream. Each
// connection is taken from its first random access point on (PAT and PMT in front), and one
// Splicer runs for the whole channel, so the PES packets a broken connection cut short never
// reach a client and continuity counters run on across reopens: the stream clients get is one
// decodable MPEG-TS, however often the upstream was reopened. Random access points are found in
// the output and indexed in the ring.
type Ingest struct {
	ring  *Ring
	align mpegts.Aligner
	sp    *mpegts.Splicer

	gated     bool            // dropping input until a random access point
	gateSince time.Time       // when the current connection started
	in        mpegts.Analyzer // the current connection's program, while gated

	out      mpegts.Analyzer // the output's program
	lastRAP  time.Time       // wall time of the newest access point
	lastReal time.Time       // ... that was not a fallback
	buf      []byte

	fallback, fallbackEvery time.Duration // rapFallback and rapFallbackEvery; tests shorten them
}

func NewIngest(r *Ring, now time.Time) *Ingest {
	return &Ingest{ring: r, sp: mpegts.NewSplicer(), gated: true, gateSince: now, lastReal: now,
		fallback: rapFallback, fallbackEvery: rapFallbackEvery}
}

// Reconnect tells that the bytes after now come from a new upstream connection.
func (g *Ingest) Reconnect(now time.Time) {
	g.emit(g.sp.Gap(g.buf[:0]), now)
	g.align = mpegts.Aligner{}
	g.in = mpegts.Analyzer{}
	g.gated, g.gateSince = true, now
}

// Skip tells that the bytes after now follow missing data of the same stream: the output goes
// on at the next random access point, the program as known so far.
func (g *Ingest) Skip(now time.Time) {
	g.emit(g.sp.Gap(g.buf[:0]), now)
	g.align = mpegts.Aligner{}
	g.gated, g.gateSince = true, now
}

// Write takes upstream bytes that arrived at now.
func (g *Ingest) Write(b []byte, now time.Time) {
	pk := g.align.Write(b)
	if g.gated {
		if pk = g.gate(pk, now); pk == nil {
			return
		}
	}
	g.buf = g.sp.Write(g.buf[:0], pk)
	g.emit(g.buf, now)
}

// gate drops packets until the connection reaches a random access point and returns the rest,
// with the connection's PAT and PMT in front, or nil.
func (g *Ingest) gate(pk []byte, now time.Time) []byte {
	for i := 0; i+mpegts.PacketSize <= len(pk); i += mpegts.PacketSize {
		p := mpegts.Packet(pk[i : i+mpegts.PacketSize])
		kf := g.in.Feed(p)
		if kf || g.in.AudioStart(p) || now.Sub(g.gateSince) >= g.fallback {
			g.gated = false
			return append(g.in.AppendPSI(nil), pk[i:]...)
		}
	}
	return nil
}

// emit adds spliced output to the ring, split at its random access points.
func (g *Ingest) emit(out []byte, now time.Time) {
	from, patAt := 0, -1
	var pending *RAP
	for i := 0; i+mpegts.PacketSize <= len(out); i += mpegts.PacketSize {
		p := mpegts.Packet(out[i : i+mpegts.PacketSize])
		kf := g.out.Feed(p)
		if p.PID() == 0 {
			patAt = i
		}
		if !g.isRAP(p, kf, now) {
			continue
		}
		r := &RAP{PSI: g.out.AppendPSI(nil)}
		at := i
		if patAt >= from && i-patAt <= mpegts.PSILeadIn {
			at, r.PSI = patAt, nil // the stream's own PAT and PMT lead in
		}
		if at > from || pending != nil {
			g.ring.Add(out[from:at], pending)
		}
		from, pending, patAt = at, r, -1
	}
	if len(out) > from || pending != nil {
		g.ring.Add(out[from:], pending)
	}
}

func (g *Ingest) isRAP(p mpegts.Packet, kf bool, now time.Time) bool {
	switch {
	case kf:
		g.lastReal = now
	case g.out.AudioStart(p) && now.Sub(g.lastRAP) >= audioRAPEvery:
		g.lastReal = now
	case now.Sub(g.lastReal) >= g.fallback && now.Sub(g.lastRAP) >= g.fallbackEvery:
	default:
		return false
	}
	g.lastRAP = now
	return true
}
