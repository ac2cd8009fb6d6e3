package ingest

import (
	"bufio"
	"context"
	"io"
	"os"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// runFile plays a file in real time, paced by its PCR, once or looped.
func (in *Input) runFile(ctx context.Context) error {
	looper := mpegts.NewLooper()
	var pace pacer
	for {
		if err := in.playOnce(ctx, looper, &pace); err != nil || ctx.Err() != nil {
			return err
		}
		if !in.cfg.Loop {
			in.cfg.Logger.Info("source file ended", "source", in.cfg.Source)
			return nil
		}
		looper.Rewind()
	}
}

func (in *Input) playOnce(ctx context.Context, looper *mpegts.Looper, pace *pacer) error {
	f, err := os.Open(in.cfg.Source)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64*1024)
	var a mpegts.Aligner
	buf := make([]byte, 7*mpegts.PacketSize)
	for {
		n, err := io.ReadFull(r, buf)
		var out []byte
		pk := a.Write(buf[:n])
		for ; len(pk) >= mpegts.PacketSize; pk = pk[mpegts.PacketSize:] {
			before := len(out)
			out = looper.Append(out, mpegts.Packet(pk[:mpegts.PacketSize]))
			if len(out) == before {
				continue
			}
			if pcr, ok := mpegts.Packet(out[before:]).PCR(); ok && !pace.wait(ctx, pcr) {
				return nil
			}
		}
		if len(out) > 0 && !in.send(ctx, out) {
			return nil
		}
		if err != nil {
			return nil // end of file (or a short last read)
		}
	}
}

// pacer sleeps so that PCR time advances with wall-clock time.
type pacer struct {
	start   time.Time
	first   int64
	started bool
}

func (p *pacer) wait(ctx context.Context, pcr int64) bool {
	if !p.started || pcr < p.first {
		p.start, p.first, p.started = time.Now(), pcr, true
		return true
	}
	due := p.start.Add(time.Duration(pcr-p.first) * time.Second / 90000)
	if d := time.Until(due); d > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
		}
	}
	return true
}
