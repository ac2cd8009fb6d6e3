package fanout

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// A paced client sends the piece it starts at at once and each later piece when its pace says,
// whatever the ring already holds; a client that fell out of the ring starts again at once at
// the newest access point; a pace with no estimate yet (the zero time) holds nothing.
func TestClientPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const piece = signalBytes // bytes a piece: readers are woken at once
		g := NewRing(1 << 20)
		t0 := time.Now().UnixMilli()
		add := func(i int, rap bool) { // piece i, made i half-seconds after t0
			g.Stamp(t0 + int64(i)*500)
			var r *RAP
			if rap {
				r = &RAP{}
			}
			g.Add(bytes.Repeat([]byte{byte(i)}, piece), r)
		}
		for i := range 3 {
			add(i, i == 0)
		}
		start, _ := g.Newest()
		const delay = 2 * time.Second
		var paceKnown atomic.Bool
		paceKnown.Store(true)
		cl := &Client{Timeout: time.Minute, Pace: func(ts int64) time.Time {
			if !paceKnown.Load() {
				return time.Time{}
			}
			return time.UnixMilli(ts).Add(delay)
		}}
		srv, player := net.Pipe()
		cl.Conn = srv
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go cl.Run(ctx, g, start, nil)

		began := time.Now()
		got := func(want time.Duration) {
			t.Helper()
			b := make([]byte, piece)
			if _, err := io.ReadFull(player, b); err != nil {
				t.Fatal(err)
			}
			if at := time.Since(began); at != want {
				t.Fatalf("piece %d (to %d) came at %v, want %v", b[0], b[piece-1], at, want)
			}
		}
		got(0)                            // the start piece: at once
		got(delay + 500*time.Millisecond) // then each at its time plus delay
		got(delay + 1000*time.Millisecond)
		time.Sleep(time.Second)
		add(3, false) // made at 1.5 s, due at 3.5 s: late, so at once
		got(4 * time.Second)
		paceKnown.Store(false)
		add(4, false)
		got(4 * time.Second)
		paceKnown.Store(true)
		// The client falls out of the ring: with two blocks kept, piece 8 evicts its position in
		// the same Add that brings the access point it starts again at, at once.
		g.limit = 2 * BlockSize
		for i := 5; i < 10; i++ {
			add(i, i == 8)
		}
		got(4 * time.Second)               // piece 8, at once
		got(delay + 4500*time.Millisecond) // piece 9, at its pace
		player.Close()
	})
}
