package proxy

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/fakeengine"
)

// A name with several addresses is several engines; localhost and IP addresses stay as given.
func TestPoolExpandsNames(t *testing.T) {
	lookup := func(host string) ([]string, error) {
		if host == "acestream" {
			return []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, nil
		}
		return []string{"10.9.9.9", "10.9.9.8"}, nil
	}
	var urls []*url.URL
	for _, s := range []string{"http://acestream:6878", "http://localhost:6878", "http://192.0.2.1:6878"} {
		u, _ := parseEngineURL(s)
		urls = append(urls, u)
	}
	p := &pool{urls: urls}
	p.resolve(lookup)
	var got []string
	for _, e := range p.status() {
		got = append(got, e.URL)
	}
	want := []string{"http://10.0.0.1:6878", "http://10.0.0.2:6878", "http://10.0.0.3:6878", "http://localhost:6878", "http://192.0.2.1:6878"}
	if len(got) != len(want) {
		t.Fatalf("engines %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("engines %v, want %v", got, want)
		}
	}
	// The name shrinks to one address: the others go, except one a channel still uses.
	e := p.acquire(nil, nil)
	p.resolve(func(string) ([]string, error) { return []string{"10.0.0.9"}, nil })
	st := p.status()
	if len(st) != 3+1 || !e.gone {
		t.Fatalf("after the name shrank: %v (engine in use gone=%v)", st, e.gone)
	}
}

// Channels go to the least loaded engine, at most maxPer each.
func TestPoolLeastLoaded(t *testing.T) {
	var urls []*url.URL
	for _, s := range []string{"http://127.0.0.1:1", "http://127.0.0.1:2"} {
		u, _ := parseEngineURL(s)
		urls = append(urls, u)
	}
	p := newPool(urls, nil, 2, nil, nil)
	a, b := p.acquire(nil, nil), p.acquire(nil, nil)
	if a == nil || b == nil || a == b {
		t.Fatalf("two channels on %v and %v", a, b)
	}
	p.acquire(nil, nil)
	p.acquire(nil, nil)
	if e := p.acquire(nil, nil); e != nil {
		t.Fatalf("a fifth channel on %s beyond 2 per engine", e.base)
	}
}

// An engine that does not answer a session request within -no-response-timeout is left for
// another one.
func TestHangingEngineIsSkipped(t *testing.T) {
	r := newRig(t, 2, 0, func(c *Config) { c.NoResponseTimeout = 300 * time.Millisecond })
	for _, e := range r.engines {
		e.SetFaults(fakeengine.Faults{StartDelay: time.Minute})
	}
	r.engines[1].SetFaults(fakeengine.Faults{})
	rd := read(context.Background(), r.url(chanID(50)), 3*time.Second, 0)
	if rd.status != 200 || rd.bytes.Load() == 0 || r.engines[1].Started() == 0 {
		t.Fatalf("status %d, err %v, working engine started %d", rd.status, rd.err, r.engines[1].Started())
	}
	r.proxy.pool.mu.Lock()
	defer r.proxy.pool.mu.Unlock()
	for _, e := range r.proxy.pool.engines {
		if e.base.String() == r.engines[0].URL() && e.fails == 0 {
			t.Fatal("the hanging engine was never asked (the test would pass without the timeout)")
		}
	}
}

// An engine that fails its health checks takes no new channels, and its channel moves to a
// healthy engine while the client stays connected.
func TestUnhealthyEngineLosesItsChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, 2, 0, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	var rd *reader
	wg.Go(func() { rd = read(ctx, r.url(chanID(51)), 20*time.Second, 0) })
	var sick, well *fakeengine.Engine
	waitFor(t, 10*time.Second, "the channel on an engine", func() bool {
		for i, e := range r.engines {
			if e.Playing() > 0 {
				sick, well = e, r.engines[1-i]
			}
		}
		return sick != nil
	})
	sick.SetFaults(fakeengine.Faults{Unhealthy: true})
	waitFor(t, 15*time.Second, "the channel to move to the healthy engine", func() bool {
		return well.Playing() == 1 && sick.Playing() == 0
	})
	rd2 := read(ctx, r.url(chanID(52)), 2*time.Second, 0)
	if rd2.status != 200 || sick.Started() != 1 {
		t.Fatalf("new channel: status %d; the sick engine got %d sessions", rd2.status, sick.Started())
	}
	wg.Wait()
	if rd.status != 200 || rd.err != nil {
		t.Fatalf("the client of the moved channel: status %d, err %v", rd.status, rd.err)
	}
}

// URLs an engine answers are made reachable from the proxy.
func TestURLsOnTheEngine(t *testing.T) {
	remote, _ := url.Parse("http://10.1.2.3:6878")
	local, _ := url.Parse("http://127.0.0.1:6878")
	for _, c := range []struct {
		in   string
		base *url.URL
		want string
	}{
		{"http://127.0.0.1:6878/ace/r/ab/cd", remote, "http://10.1.2.3:6878/ace/r/ab/cd"},
		{"http://localhost:6878/ace/r/ab/cd", remote, "http://10.1.2.3:6878/ace/r/ab/cd"},
		{"/ace/stat/ab/cd", remote, "http://10.1.2.3:6878/ace/stat/ab/cd"},
		{"http://10.9.9.9:6878/ace/r/ab/cd", remote, "http://10.9.9.9:6878/ace/r/ab/cd"},
		{"http://127.0.0.1:6878/ace/r/ab/cd", local, "http://127.0.0.1:6878/ace/r/ab/cd"},
		{"", remote, ""},
	} {
		if got := onEngine(c.in, c.base); got != c.want {
			t.Errorf("onEngine(%q, %s) = %q, want %q", c.in, c.base, got, c.want)
		}
	}
}

// An engine listed twice (by the orchestrator, or by two names with one address) is one engine.
func TestPoolListsAnEngineOnce(t *testing.T) {
	u, _ := parseEngineURL("http://127.0.0.1:1")
	v, _ := parseEngineURL("http://127.0.0.1:1")
	p := &pool{urls: []*url.URL{u, v}}
	p.resolve(func(h string) ([]string, error) { return []string{h}, nil })
	if n := len(p.status()); n != 1 {
		t.Fatalf("%d engines", n)
	}
}
