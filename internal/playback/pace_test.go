package playback

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/synth"
)

// With LiveDelay, a player gets each piece after the one it starts at no sooner than delay after
// the piece was made (the test source's pieces reach the engine the moment they are made), so
// every player plays the same distance behind live; without it, a new piece goes out at once.
func TestPlayersArePacedBehindLive(t *testing.T) {
	for _, delay := range []time.Duration{0, 1500 * time.Millisecond} {
		r := newRig(t, Config{LiveDelay: delay})
		r.live(t, ihOf(5))
		s, _ := r.core.Open(Content{InfoHash: ihOf(5)}, "k", Options{ClientSessionID: -1})
		start, err := s.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		server, client := tcpPair(t)
		go s.Play(t.Context(), server, start, nil)
		soonest := time.Hour // the least time from a frame's making to its arrival
		frames := 0
		buf := make([]byte, 64<<10)
		var pending []byte
		client.SetReadDeadline(time.Now().Add(4 * time.Second))
		for {
			n, err := client.Read(buf)
			now := time.Now()
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.Index(pending, synth.Marker[:])
				if i < 0 || len(pending) < i+16 {
					break
				}
				made := time.UnixMilli(int64(binary.BigEndian.Uint64(pending[i+8:])))
				if frames++; frames > synth.GOP/2 { // past the start piece
					soonest = min(soonest, now.Sub(made))
				}
				pending = pending[i+16:]
			}
			if err != nil {
				break
			}
		}
		s.Stop()
		if frames < 2*synth.GOP/2 {
			t.Fatalf("delay %v: %d frames", delay, frames)
		}
		if delay > 0 && soonest < delay {
			t.Fatalf("delay %v: a frame came %v after it was made", delay, soonest)
		}
		if delay == 0 && soonest >= time.Second {
			t.Fatalf("not paced: the soonest frame came %v after it was made", soonest)
		}
	}
}
