package fakeengine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/aceswarm/aceswarm/internal/ingest"
	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/testclip"
)

// Broadcast is the live stream that fake engines serve, as a swarm would deliver it: writes go
// to every subscriber; a new subscriber first gets the current group of pictures (PAT, PMT, the
// newest keyframe and what followed it), as an engine that has prebuffered does. Several fake
// engines given the same Broadcast serve the same timeline, like real engines in one swarm.
type Broadcast struct {
	mu   sync.Mutex // guards everything below
	a    mpegts.Analyzer
	gop  []byte
	subs map[chan []byte]struct{}
}

// NewBroadcast returns a broadcast with nothing written yet.
func NewBroadcast() *Broadcast { return &Broadcast{subs: map[chan []byte]struct{}{}} }

// Write sends whole TS packets to every subscriber; a subscriber whose queue is full misses them.
func (b *Broadcast) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i+mpegts.PacketSize <= len(p); i += mpegts.PacketSize {
		pk := mpegts.Packet(p[i : i+mpegts.PacketSize])
		if b.a.Feed(pk) {
			b.gop = b.a.AppendPSI(b.gop[:0])
		}
		if b.gop != nil {
			b.gop = append(b.gop, pk...)
		}
	}
	for ch := range b.subs {
		select {
		case ch <- append([]byte(nil), p...):
		default:
		}
	}
	return len(p), nil
}

// subscribe returns a queue of the stream from the current group of pictures on.
func (b *Broadcast) subscribe() (chan []byte, func()) {
	ch := make(chan []byte, 256)
	b.mu.Lock()
	if b.gop != nil {
		ch <- append([]byte(nil), b.gop...)
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// RunClip plays the embedded test clip (H.264 + AAC, a keyframe every 2 s) into b in real time,
// looped as one live stream, until ctx ends. dir is where the clip's file is written.
func RunClip(ctx context.Context, b *Broadcast, dir string) error {
	path := filepath.Join(dir, "clip.ts")
	if err := os.WriteFile(path, testclip.TS, 0o644); err != nil {
		return err
	}
	in, err := ingest.New(ingest.Config{Source: path, Loop: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	for chunk := range in.Out {
		b.Write(chunk)
	}
	return <-done
}
