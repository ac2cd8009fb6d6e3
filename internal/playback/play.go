package playback

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/aceswarm/aceswarm/internal/fanout"
	"github.com/aceswarm/aceswarm/internal/mpegts"
)

var (
	errStopped = errors.New("playback session stopped")
	errSeek    = errors.New("liveseek")
)

// Start waits for the stream's start point: the newest access point of its ring. It fails when
// ctx ends, the session stops or the stream ends first.
func (s *Session) Start(ctx context.Context) (fanout.RAP, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.ctx, func() { cancel(errStopped) })
	defer stop()
	r, err := s.st.ring.WaitStart(ctx)
	if err != nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return r, err
}

// Play writes head, then the stream from start on to conn, until ctx ends, the session stops,
// or the player takes nothing for the write timeout. Players at the live edge share the ring's
// bytes (see fanout.Client); a player of a session sent back in time by a liveseek reads the
// live buffer itself.
func (s *Session) Play(ctx context.Context, conn net.Conn, start fanout.RAP, head []byte) error {
	s.addReader(1)
	defer s.addReader(-1)
	parent := ctx
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stop := context.AfterFunc(s.ctx, func() { cancel(errStopped) })
	defer stop()
	gen := s.seekGen.Load()
	if gen > 0 { // the session was sent back in time: its players play from there
		if head != nil {
			conn.SetWriteDeadline(time.Now().Add(s.c.cfg.WriteTimeout))
			if _, err := conn.Write(head); err != nil {
				return err
			}
		}
		return s.playSeeking(parent, conn)
	}
	first := true
	cl := fanout.Client{Conn: conn, Timeout: s.c.cfg.WriteTimeout, Wrote: func(n, off int64) {
		if first && s.c.cfg.Started != nil {
			first = false
			s.c.cfg.Started(time.Since(s.created))
		}
		s.c.served.Add(n)
		s.sentOff.Store(off)
		if s.seekGen.Load() != gen {
			cancel(errSeek)
		}
	}}
	if d := s.c.cfg.LiveDelay; d > 0 {
		src := s.st.src
		cl.Pace = func(t int64) time.Time { return src.PlayAt(t, d) }
	}
	err := cl.Run(ctx, s.st.ring, start, head)
	if context.Cause(ctx) != errSeek {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	return s.playSeeking(parent, conn)
}

// playSeeking plays from the session's liveseek target, reading the live buffer itself, and
// follows later seeks.
func (s *Session) playSeeking(ctx context.Context, conn net.Conn) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.ctx, func() { cancel(errStopped) })
	defer stop()
	_, buf := s.st.src.File()
	rd := buf.NewReader()
	sp := mpegts.NewSplicer()
	var out []byte
	gen := int64(-1)
	for {
		if g := s.seekGen.Load(); g != gen {
			gen = g
			s.mu.Lock()
			to := s.seekTo
			s.mu.Unlock()
			rd.SeekTime(to)
		}
		c, err := rd.Next(ctx)
		if err != nil {
			return context.Cause(ctx)
		}
		out = out[:0]
		if c.Gap {
			out = sp.Gap(out)
		}
		out = sp.Write(out, c.Data)
		conn.SetWriteDeadline(time.Now().Add(s.c.cfg.WriteTimeout))
		n, err := conn.Write(out)
		s.c.served.Add(int64(n))
		if err != nil {
			return err
		}
		s.seekPos.Store(c.Header.Time)
	}
}
