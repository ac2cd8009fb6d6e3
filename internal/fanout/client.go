package fanout

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// WaitStart waits for the ring's newest random access point: the first one of a channel that is
// starting. It fails with the ring's error when the ring ended first, or with ctx's.
func (g *Ring) WaitStart(ctx context.Context) (RAP, error) {
	for {
		r, ok, changed, err := g.WaitRAP()
		switch {
		case ok:
			return r, nil
		case err != nil:
			return RAP{}, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return RAP{}, ctx.Err()
		}
	}
}

// Client writes a ring to one connection: each wake-up sends everything new in one writev from
// the ring's own blocks, so a client costs its cursor and its socket, never a copy of the
// stream. A client that falls out of the ring skips to the newest access point; one whose write
// takes longer than Timeout ends; neither slows anyone else.
type Client struct {
	Conn    net.Conn
	Timeout time.Duration
	// Wrote, when set, is called after each write with the bytes written and the ring offset
	// reached.
	Wrote func(n int64, off int64)
	// Skipped, when set, is called when the client fell out of the ring.
	Skipped func()
	// Pace, when set, holds the stream at a steady delay behind live: bytes stamped t (the
	// source's clock, see Ring.Stamp) go out no sooner than Pace(t). The piece the client
	// starts at (and restarts at after a skip) goes at once, so the player's first picture does
	// not wait; the ones after it fill the player's buffer at the pace, so a player starts
	// playing the same distance behind live whenever it joined (see docs/protocol.md).
	Pace func(t int64) time.Time

	bufs     net.Buffers // what the next write sends
	stamps   []Stamp     // scratch for paced reads
	paceFrom int64       // stamps after this offset are paced
}

// Run writes head, then the ring from start on. It returns ctx's error when ctx ends, the ring's
// error once everything before the end was sent, or the write's error (os.ErrDeadlineExceeded
// for a client that took nothing for Timeout).
func (cl *Client) Run(ctx context.Context, g *Ring, start RAP, head []byte) error {
	cl.bufs = append(cl.bufs[:0], head)
	if start.PSI != nil {
		cl.bufs = append(cl.bufs, start.PSI)
	}
	off := start.Off
	cl.paceFrom = off
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		ahead := len(cl.bufs) // head and PSI waiting in front of the ring's bytes
		bufs, end, changed, err := g.Read(off, cl.bufs)
		if errors.Is(err, ErrBehind) {
			if !cl.skip(g, &off) {
				return err
			}
			continue
		}
		var due time.Time
		if cl.Pace != nil && end > off {
			until, at, held := cl.paced(g, off, end)
			if !held { // evicted since read: read again, and fall behind
				cl.bufs = bufs[:ahead]
				continue
			}
			if due = at; until < end {
				bufs, end, err = keep(bufs, ahead, until-off), until, nil
			}
		}
		if len(bufs) > 0 {
			n, werr := cl.write(bufs)
			if cl.Wrote != nil {
				cl.Wrote(n, end)
			}
			if werr != nil {
				return werr
			}
			off = end
		}
		cl.bufs = cl.bufs[:0]
		if err != nil { // the ring ended and everything was sent
			return err
		}
		var wake <-chan time.Time
		if !due.IsZero() {
			timer = resetTimer(timer, time.Until(due))
			wake = timer.C
		}
		select {
		case <-changed:
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// paced returns how far from off the client may send now (end when all of it) and, when not all
// of it, when more may go; false when off was evicted since it was read.
func (cl *Client) paced(g *Ring, off, end int64) (int64, time.Time, bool) {
	var ok bool
	if cl.stamps, ok = g.Stamps(off, end, cl.stamps[:0]); !ok {
		return off, time.Time{}, false
	}
	now := time.Now()
	for _, st := range cl.stamps {
		if st.Off <= cl.paceFrom {
			continue
		}
		if at := cl.Pace(st.T); at.After(now) {
			return st.Off, at, true
		}
	}
	return end, time.Time{}, true
}

// keep cuts bufs so that n bytes are left after its first ahead slices.
func keep(bufs net.Buffers, ahead int, n int64) net.Buffers {
	for i := ahead; i < len(bufs); i++ {
		if n == 0 {
			return bufs[:i]
		}
		l := min(int64(len(bufs[i])), n)
		bufs[i] = bufs[i][:l]
		n -= l
		if n == 0 {
			return bufs[:i+1]
		}
	}
	return bufs
}

// resetTimer returns t (or a new timer) set to fire after d.
func resetTimer(t *time.Timer, d time.Duration) *time.Timer {
	if t == nil {
		return time.NewTimer(d)
	}
	t.Reset(d)
	return t
}

// write sends bufs in one writev with the client's deadline.
func (cl *Client) write(bufs net.Buffers) (int64, error) {
	cl.Conn.SetWriteDeadline(time.Now().Add(cl.Timeout))
	return bufs.WriteTo(cl.Conn)
}

// skip moves a client that fell out of the ring to the newest access point.
func (cl *Client) skip(g *Ring, off *int64) bool {
	r, ok := g.Newest()
	if !ok {
		return false
	}
	if cl.Skipped != nil {
		cl.Skipped()
	}
	*off = r.Off
	cl.paceFrom = r.Off
	if r.PSI != nil {
		cl.bufs = append(cl.bufs, r.PSI)
	}
	return true
}

// Head is the response head of an MPEG-TS stream written on a connection taken over from
// net/http (HTTP/1.0 for an HTTP/1.0 request).
func Head(r *http.Request) []byte {
	head := "HTTP/1.1 200 OK\r\n"
	if !r.ProtoAtLeast(1, 1) {
		head = "HTTP/1.0 200 OK\r\n"
	}
	return []byte(head + "Content-Type: video/mp2t\r\nCache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n")
}

// Segmenter is what Cut feeds: an HLS segmenter (see package hls).
type Segmenter interface {
	Write(b []byte)
	Break(tail []byte)
}

// Cut feeds the ring from start (PAT and PMT in front) to seg until the ring ends or ctx does. A
// cutter that fell out of the ring (only when the machine cannot keep up) starts again at the
// newest access point, after a break.
func Cut(ctx context.Context, g *Ring, start RAP, seg Segmenter) {
	off := start.Off
	seg.Write(start.PSI)
	var bufs net.Buffers
	for {
		b, end, changed, err := g.Read(off, bufs[:0])
		if errors.Is(err, ErrBehind) {
			r, _ := g.Newest()
			off = r.Off
			seg.Break(nil)
			seg.Write(r.PSI)
			continue
		}
		bufs = b
		for _, s := range bufs {
			seg.Write(s)
		}
		off = end
		if err != nil {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}
