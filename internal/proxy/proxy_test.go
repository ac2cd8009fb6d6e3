package proxy

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/fakeengine"
)

// 50 clients on one channel all receive it over one engine session, and a sample decodes.
func TestFiftyClientsOneChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	needFFmpeg(t)
	r := newRig(t, 1, 0, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	readers := make([]*reader, 50)
	for i := range readers {
		wg.Go(func() { readers[i] = read(ctx, r.url(chanID(0)), 8*time.Second, 0) })
	}
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = ffmpegDecodes(ctx, r.url(chanID(0)), 6) })
	}
	wg.Wait()
	for i, rd := range readers {
		if rd.err != nil || rd.status != 200 || rd.bytes.Load() < 50_000 {
			t.Fatalf("client %d: status %d, %d bytes, err %v", i, rd.status, rd.bytes.Load(), rd.err)
		}
		startsAtKeyframe(t, rd.first)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := r.engines[0].Started(); n != 1 {
		t.Fatalf("%d engine sessions for one channel, want 1", n)
	}
}

// Clients joining a running channel start at once at its newest keyframe (PAT, PMT, keyframe).
func TestLateJoinerStartsAtKeyframe(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s")
	}
	r := newRig(t, 1, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go read(ctx, r.url(chanID(0)), time.Minute, 0)
	time.Sleep(20 * time.Second)
	best := time.Hour
	for range 3 {
		rd := read(ctx, r.url(chanID(0)), 2*time.Second, 0)
		if rd.status != 200 {
			t.Fatalf("late client: status %d, err %v", rd.status, rd.err)
		}
		startsAtKeyframe(t, rd.first)
		best = min(best, rd.ttfb)
	}
	t.Logf("late joiner's first byte after %v (best of 3)", best)
	if best > 300*time.Millisecond {
		t.Fatalf("late joiner's first byte after %v, want within 0.3 s", best)
	}
}

// 100 simultaneous first requests for one channel make exactly one engine session.
func TestSimultaneousFirstRequests(t *testing.T) {
	r := newRig(t, 1, 0, nil)
	r.engines[0].SetFaults(fakeengineSlow())
	ctx := context.Background()
	var wg sync.WaitGroup
	readers := make([]*reader, 100)
	for i := range readers {
		wg.Go(func() { readers[i] = read(ctx, r.url(chanID(7)), 10*time.Second, 1) })
	}
	wg.Wait()
	for i, rd := range readers {
		if rd.status != 200 || rd.bytes.Load() == 0 {
			t.Fatalf("client %d: status %d, err %v", i, rd.status, rd.err)
		}
	}
	if n := r.engines[0].Started(); n != 1 {
		t.Fatalf("%d engine sessions for 100 simultaneous requests, want 1", n)
	}
}

// 50 channels at once through one proxy all play, each on its own engine session and
// connection.
func TestFiftyChannels(t *testing.T) {
	r := newRig(t, 1, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	readers := make([]*reader, 50)
	for i := range readers {
		wg.Go(func() { readers[i] = read(ctx, r.url(chanID(i)), 15*time.Second, 40_000) })
	}
	wg.Wait()
	for i, rd := range readers {
		if rd.status != 200 || rd.bytes.Load() < 40_000 {
			t.Fatalf("channel %d: status %d, %d bytes, err %v", i, rd.status, rd.bytes.Load(), rd.err)
		}
	}
	if n := r.engines[0].Started(); n != 50 {
		t.Fatalf("%d engine sessions for 50 channels", n)
	}
}

func fakeengineSlow() fakeengine.Faults { return fakeengine.Faults{Prebuffer: time.Second} }
