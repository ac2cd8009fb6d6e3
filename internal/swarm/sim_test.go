package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aceswarm/aceswarm/internal/memnet"
	"github.com/aceswarm/aceswarm/internal/netem"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// simNode starts a node on a memory network in the current synctest bubble, its links shaped
// by link (each node shaping what it sends).
func simNode(t *testing.T, ctx context.Context, mn *memnet.Network, ip string, link netem.Link, cfg Config) *testNode {
	t.Helper()
	addr := netip.AddrPortFrom(netip.MustParseAddr(ip), 9000)
	ln, err := mn.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	shape := func(c net.Conn) net.Conn { return netem.Shape(c, link) }
	cfg = testConfig(cfg, addr)
	cfg.Dial, cfg.WrapConn = mn.Dialer(addr.Addr()), shape
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHost(ln, cfg.PeerID, http.NotFoundHandler(), s.log)
	h.Wrap = shape
	h.Add(s)
	go h.Run(ctx)
	go s.Run(ctx)
	return &testNode{h, s, addr}
}

// A swarm on home links (100 ms ± 30 ms, uploads of 1.5 times the bitrate) runs on a memory
// network in virtual time: the session code as it is, its timers and its connections, with a
// minute of stream taking as long as the machine needs to compute it. Every viewer gets the
// stream, and the delivery times are reported in virtual time.
func TestSwarmInVirtualTime(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	const viewers, every, run = 12, 50 * time.Millisecond, 15 * time.Second
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f, priv := testFile(t)
		mn := memnet.New()
		bitrate := float64(188*50) / every.Seconds() // bytes a second
		home := func() netem.Link {
			return netem.Link{Delay: 50 * time.Millisecond, Jitter: 15 * time.Millisecond, Up: netem.NewUplink(1.5 * bitrate)}
		}
		src := simNode(t, ctx, mn, "10.0.0.1", netem.Link{Delay: 10 * time.Millisecond}, Config{Role: wire.RoleSource, File: f})
		relay := simNode(t, ctx, mn, "10.0.0.2", netem.Link{Delay: 10 * time.Millisecond},
			Config{Role: wire.RoleSupport, File: f, Peers: []netip.AddrPort{src.addr}})
		var vs []*testNode
		for i := range viewers {
			// what a tracker would hand out: the servers and a few viewers that came before
			peers := []netip.AddrPort{src.addr, relay.addr}
			for k := range min(i, 10) {
				peers = append(peers, vs[(i*7+k*13)%i].addr)
			}
			vs = append(vs, simNode(t, ctx, mn, fmt.Sprintf("10.0.%d.%d", 1+i/250, 1+i%250), home(),
				Config{Role: wire.RoleViewer, File: f, Peers: peers}))
		}
		made := map[uint32]time.Time{}
		var mu sync.Mutex
		delays := make([][]time.Duration, viewers)
		var wg sync.WaitGroup
		for i, v := range vs {
			wg.Go(func() {
				<-v.sess.Ready()
				_, buf := v.sess.File()
				r := buf.NewReader()
				for {
					p, err := r.Next(ctx)
					if err != nil {
						return
					}
					mu.Lock()
					delays[i] = append(delays[i], time.Since(made[p.Header.Number]))
					mu.Unlock()
				}
			})
		}
		for n := uint32(1000); n < 1000+uint32(run/every); n++ {
			mu.Lock()
			made[n] = time.Now()
			mu.Unlock()
			if err := publish(ctx, src, priv, n, n%40 == 0); err != nil {
				t.Fatal(err)
			}
			time.Sleep(every)
		}
		time.Sleep(2 * time.Second)
		cancel()
		wg.Wait()
		var all []time.Duration
		for i, d := range delays {
			if len(d) < int(run/every)/2 {
				t.Errorf("viewer %d got %d of %d pieces", i, len(d), run/every)
			}
			all = append(all, d...)
		}
		slices.Sort(all)
		if len(all) > 0 {
			t.Logf("%d viewers, %v of stream in virtual time: %d pieces delivered, delay p50 %v, p95 %v, max %v",
				viewers, run, len(all), all[len(all)/2], all[len(all)*95/100], all[len(all)-1])
		}
	})
}

// Connections handed to a session as it stops are closed, never left open in a queue: 20
// arrive before the loop runs, and the loop stops at once.
func TestConnectionsHandedOverAtStopAreClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _ := testFile(t)
		s, err := New(testConfig(Config{Role: wire.RoleViewer, File: f}, netip.MustParseAddrPort("10.0.0.9:9000")))
		if err != nil {
			t.Fatal(err)
		}
		var theirs []net.Conn
		for range 20 {
			mine, other := net.Pipe()
			theirs = append(theirs, other)
			go s.Accept(mine, wire.Handshake{InfoHash: s.cfg.InfoHash, PeerID: NewPeerID()})
		}
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Run(ctx)
		synctest.Wait()
		for i, c := range theirs {
			c.SetReadDeadline(time.Now().Add(time.Minute))
			var err error
			for err == nil {
				_, err = c.Read(make([]byte, 1<<10))
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("connection %d was left open: %v", i, err)
			}
		}
	})
}
