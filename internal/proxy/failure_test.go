package proxy

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/fakeengine"
)

// The last client leaving stops the engine session after the linger and closes the playback
// connection, also when the engine answers the stop with an error.
func TestLastClientLeaves(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	for _, stopErr := range []bool{false, true} {
		t.Run(map[bool]string{false: "stop ok", true: "stop fails"}[stopErr], func(t *testing.T) {
			r := newRig(t, 1, 0, nil)
			e := r.engines[0]
			e.SetFaults(fakeengine.Faults{StopError: stopErr})
			rd := read(context.Background(), r.url(chanID(1)), 2*time.Second, 0)
			if rd.status != 200 || rd.bytes.Load() == 0 {
				t.Fatalf("status %d, err %v", rd.status, rd.err)
			}
			waitFor(t, 10*time.Second, "the engine session to be stopped and its connection closed", func() bool {
				return e.Stops() == 1 && e.Sessions() == 0 && e.Playing() == 0
			})
			if n := e.Started(); n != 1 {
				t.Fatalf("%d sessions started", n)
			}
		})
	}
}

// Killing the engine of a channel moves it to another engine: the client keeps its connection,
// ffmpeg -xerror decodes across the switch, and the gap is measured.
func TestFailoverKeepsClients(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	needFFmpeg(t)
	r := newRig(t, 2, 0, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	var decodeErr error
	wg.Go(func() { decodeErr = ffmpegDecodes(ctx, r.url(chanID(2)), 16) })
	var rd *reader
	wg.Go(func() { rd = read(ctx, r.url(chanID(2)), 16*time.Second, 0) })
	var first *fakeengine.Engine
	waitFor(t, 10*time.Second, "a channel on an engine", func() bool {
		for _, e := range r.engines {
			if e.Playing() > 0 {
				first = e
			}
		}
		return first != nil
	})
	time.Sleep(4 * time.Second)
	first.Close()
	wg.Wait()
	if decodeErr != nil {
		t.Fatalf("across the failover: %v", decodeErr)
	}
	if rd.status != 200 || rd.err != nil {
		t.Fatalf("client: status %d, err %v", rd.status, rd.err)
	}
	other := r.engines[0]
	if other == first {
		other = r.engines[1]
	}
	if other.Started() == 0 {
		t.Fatal("the other engine never got the channel")
	}
	t.Logf("longest gap a client saw across the failover: %v", rd.gaps)
	if rd.gaps > 5*time.Second {
		t.Fatalf("gap of %v across the failover", rd.gaps)
	}
}

// A stalled client is disconnected after -client-timeout; the others see no gap.
func TestStalledClientDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, 1, 8_000_000, func(c *Config) { c.ClientTimeout = 2 * time.Second })
	ctx := context.Background()
	var wg sync.WaitGroup
	readers := make([]*reader, 3)
	for i := range readers {
		wg.Go(func() { readers[i] = read(ctx, r.url(chanID(3)), 12*time.Second, 0) })
	}
	time.Sleep(time.Second)
	stalled := rawClient(t, strings.TrimPrefix(r.base, "http://"), "/ace/getstream?id="+chanID(3))
	defer stalled.Close()
	waitFor(t, 11*time.Second, "the stalled client to be dropped", func() bool {
		return counterValue(r.proxy.metrics.slowDrops) == 1
	})
	wg.Wait()
	for i, rd := range readers {
		if rd.status != 200 || rd.err != nil {
			t.Fatalf("client %d: status %d, err %v", i, rd.status, rd.err)
		}
		t.Logf("client %d: longest gap between reads %v", i, rd.gaps)
		if rd.gaps > time.Second {
			t.Fatalf("client %d waited %v for data while another client stalled", i, rd.gaps)
		}
	}
}

// A dead channel answers 504 within -start-timeout; a channel whose engine reports an error
// answers 502 at once; a request for another channel right after works.
func TestDeadChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, 1, 0, func(c *Config) { c.StartTimeout = 3 * time.Second })
	e := r.engines[0]
	e.SetFaults(fakeengine.Faults{Dead: true})
	start := time.Now()
	status, body := get(t, r.url(chanID(4)))
	took := time.Since(start)
	if status != http.StatusGatewayTimeout || !strings.Contains(body, "no data") || took > 6*time.Second {
		t.Fatalf("dead channel: %d %q after %v", status, body, took)
	}
	e.SetFaults(fakeengine.Faults{Dead: true, StatError: "stream is offline"})
	start = time.Now()
	status, body = get(t, r.url(chanID(5)))
	if took := time.Since(start); status != http.StatusBadGateway || !strings.Contains(body, "stream is offline") || took > 2500*time.Millisecond {
		t.Fatalf("channel with an engine error: %d %q after %v", status, body, took)
	}
	e.SetFaults(fakeengine.Faults{})
	rd := read(context.Background(), r.url(chanID(6)), 2*time.Second, 0)
	if rd.status != 200 || rd.bytes.Load() == 0 {
		t.Fatalf("next channel: status %d, err %v", rd.status, rd.err)
	}
	waitFor(t, 10*time.Second, "no session and no connection left", func() bool { return e.Sessions() == 0 && e.Playing() == 0 })
}

// 20 storms of 200 clients leaving at once at 20 Mbit/s: no crash, no race (the suite runs
// with -race), and goroutines back to their baseline.
func TestDisconnectStorms(t *testing.T) {
	if testing.Short() {
		t.Skip("storms")
	}
	r := newRig(t, 1, 20_000_000, nil)
	ctx := context.Background()
	read(ctx, r.url(chanID(8)), 2*time.Second, 1)
	time.Sleep(2 * time.Second) // the first channel ended
	base, heap := runtime.NumGoroutine(), heapInUse()
	for range 20 {
		sctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() { read(sctx, r.url(chanID(8)), 5*time.Second, 0) })
		}
		time.Sleep(400 * time.Millisecond)
		cancel() // everyone leaves at once
		wg.Wait()
	}
	waitFor(t, 15*time.Second, "goroutines back to the baseline", func() bool {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		return runtime.NumGoroutine() <= base+5 && r.engines[0].Sessions() == 0
	})
	if h := heapInUse(); h > heap+16<<20 {
		t.Fatalf("heap %d MiB after the storms, %d MiB before", h>>20, heap>>20)
	}
	if n := r.engines[0].Started(); n > 21 {
		t.Fatalf("%d engine sessions for 20 storms", n)
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// A client that pauses longer than the ring holds skips to the newest keyframe when it reads
// again, and goes on receiving.
func TestPausedClientSkipsAhead(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, 1, 8_000_000, func(c *Config) { c.BufferSize = MinBufferSize })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := http.Get(r.url(chanID(11)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64<<10)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // the player pauses, then reads as fast as it can
	got := 0
	for counterValue(r.proxy.metrics.skips) == 0 || got < 1<<20 {
		n, err := resp.Body.Read(buf)
		if err != nil || ctx.Err() != nil {
			t.Fatalf("after the pause: %v, %d bytes, %v skips", err, got, counterValue(r.proxy.metrics.skips))
		}
		if counterValue(r.proxy.metrics.skips) > 0 {
			got += n
		}
	}
	if counterValue(r.proxy.metrics.slowDrops) != 0 {
		t.Fatal("the paused client was dropped, not skipped ahead")
	}
}

// An engine whose playback connections go silent: each is reopened after -stall-timeout while
// the client keeps its connection, and ffmpeg -xerror decodes across the splices.
func TestSilentUpstreamIsReopened(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	needFFmpeg(t)
	r := newRig(t, 1, 0, func(c *Config) { c.StallTimeout = time.Second })
	r.engines[0].SetFaults(fakeengine.Faults{StallAfter: 3 * time.Second})
	if err := ffmpegDecodes(context.Background(), r.url(chanID(12)), 12); err != nil {
		t.Fatal(err)
	}
	if n := counterValue(r.proxy.metrics.reopens); n < 2 {
		t.Fatalf("%v reopens in 12 s of connections that stall after 3 s", n)
	}
}

// A channel that gets no data for -empty-timeout ends cleanly: its clients' streams end.
func TestEmptyChannelEnds(t *testing.T) {
	r := newRig(t, 1, 0, func(c *Config) { c.EmptyTimeout = 3 * time.Second })
	var rd *reader
	done := make(chan struct{})
	go func() {
		defer close(done)
		rd = read(context.Background(), r.url(chanID(13)), 30*time.Second, 0)
	}()
	waitFor(t, 10*time.Second, "the channel to play", func() bool { return r.engines[0].Playing() == 1 })
	killed := time.Now()
	r.engines[0].Close()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the client's stream did not end")
	}
	took := time.Since(killed)
	if rd.status != 200 || rd.bytes.Load() == 0 || took < 2500*time.Millisecond {
		t.Fatalf("status %d, %d bytes, ended %v after the engine died", rd.status, rd.bytes.Load(), took)
	}
	t.Logf("the stream ended %v after its engine died (-empty-timeout 3s)", took)
}
