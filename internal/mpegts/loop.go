package mpegts

const defaultFrame = 3600 // 40 ms at 90 kHz

// Looper rewrites the packets of a file played again and again so that the loops form one
// continuous live stream: timestamps keep growing and continuity counters keep counting.
type Looper struct {
	cc                *Continuity
	offset            int64
	first, last       int64
	haveFirst         bool
	lastVideo, minGap int64
	analyzer          Analyzer
}

// NewLooper returns a Looper for the first pass over the file.
func NewLooper() *Looper { return &Looper{cc: NewContinuity(), lastVideo: -1} }

// Rewind starts the next pass: later timestamps are shifted past the end of this one.
func (l *Looper) Rewind() {
	gap := l.minGap
	if gap <= 0 {
		gap = defaultFrame
	}
	l.offset += l.last - l.first + gap
	l.haveFirst, l.lastVideo = false, -1
}

// Append rewrites p (a copy is appended to dst) and returns dst.
func (l *Looper) Append(dst []byte, p Packet) []byte {
	l.analyzer.Feed(p)
	start := len(dst)
	dst = l.cc.Append(dst, p)
	if len(dst) == start {
		return dst
	}
	q := Packet(dst[start:])
	if pcr, ok := q.PCR(); ok {
		l.observe(pcr)
		q.SetPCR(pcr + l.offset)
	}
	if pts, dts, ok := Timestamps(q); ok {
		l.observe(dts)
		l.observe(pts)
		if q.PID() == l.analyzer.Program.VideoPID && l.analyzer.Program.HasVideo {
			l.observeVideo(dts)
		}
		ShiftTimestamps(q, l.offset)
	}
	return dst
}

func (l *Looper) observe(ts int64) {
	if !l.haveFirst {
		l.first, l.last, l.haveFirst = ts, ts, true
	}
	l.first, l.last = min(l.first, ts), max(l.last, ts)
}

func (l *Looper) observeVideo(dts int64) {
	if l.lastVideo >= 0 {
		if d := dts - l.lastVideo; d > 0 && (l.minGap == 0 || d < l.minGap) {
			l.minGap = d
		}
	}
	l.lastVideo = dts
}
