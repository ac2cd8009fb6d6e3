package engine

import (
	"context"
	"crypto/ed25519"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aceswarm/aceswarm/internal/ingest"
	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// directCache is the live buffer of a direct_url stream: it lives in memory, like a player's
// read-ahead, whatever --live-cache-type says.
const directCache = 32 << 20

// directSource plays an HTTP MPEG-TS URL (direct_url=) as a live stream without a swarm: the
// source node's ingest (reconnects, stall detection) and cutter make its pieces, a memory
// buffer holds them, and the playback core serves them as it serves a swarm's.
type directSource struct {
	ready chan struct{}
	buf   *livebuf.Buffer
	file  *transport.File
	recv  atomic.Int64
}

// newDirectSource checks c.DirectURL and plays it until ctx ends.
func (v *viewer) newDirectSource(ctx context.Context, c playback.Content) (playback.Source, error) {
	in, err := ingest.New(ingest.Config{Source: c.DirectURL, Logger: v.n.log.With("direct_url", c.DirectURL)})
	if err != nil {
		return nil, err
	}
	d := &directSource{
		ready: make(chan struct{}),
		buf:   livebuf.New(transport.BlockLength, directCache, livebuf.NewMemoryStore()),
		file:  &transport.File{Info: transport.Info{Name: c.DirectURL, Title: c.DirectURL, Live: 1}},
	}
	v.wg.Go(func() { in.Run(ctx) })
	v.wg.Go(func() { d.run(ctx, in, c.InfoHash, v.n.cfg.PieceDuration) })
	return d, nil
}

func (d *directSource) run(ctx context.Context, in *ingest.Input, ih transport.InfoHash, every time.Duration) {
	defer d.buf.Close()
	_, key, _ := ed25519.GenerateKey(nil) // the buffer keeps signed pieces; nobody else sees them
	var n uint32
	var ready sync.Once
	ingest.NewCutter(PieceLength, every).Run(ctx, in.Out, func(rp ingest.RawPiece) error {
		h := wire.NewHeader(key, ih, n, rp.Time.UnixMilli(), rp.Keyframe, rp.Data, transport.BlockLength)
		n++
		d.recv.Add(int64(len(rp.Data)))
		if d.buf.AddComplete(h, rp.Data) == nil {
			ready.Do(func() { close(d.ready) })
		}
		return nil
	}, func() { n++ })
}

func (d *directSource) Ready() <-chan struct{}                   { return d.ready }
func (d *directSource) File() (*transport.File, *livebuf.Buffer) { return d.file, d.buf }
func (d *directSource) RawFile() []byte                          { return nil }

// PlayAt does not pace: a direct stream comes from one server, at its own pace.
func (d *directSource) PlayAt(int64, time.Duration) time.Time { return time.Time{} }
func (d *directSource) Stats() swarm.Stats {
	return swarm.Stats{Downloaded: d.recv.Load(), DownloadedMedia: d.recv.Load()}
}
