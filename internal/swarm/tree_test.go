package swarm

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aceswarm/aceswarm/internal/memnet"
	"github.com/aceswarm/aceswarm/internal/netem"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// Viewers on home links (100 ms ± 30 ms round trips, uploads of 1.5 times the bitrate) carry the
// stream themselves through the substream trees: most of what they receive was forwarded by
// other viewers, unasked, and the servers (a source and one relay) send a small share. Run in
// virtual time on a memory network; it fails if the trees do not form (nothing is forwarded),
// if viewers hang off the servers, or if a viewer misses pieces.
func TestSubstreamTreesCarryTheStream(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	const viewers, every, run, size = 10, 250 * time.Millisecond, 20 * time.Second, 188 * 174 // 8 blocks
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f, priv := testFile(t)
		mn := memnet.New()
		bitrate := float64(size) / every.Seconds()
		home := func() netem.Link {
			return netem.Link{Delay: 50 * time.Millisecond, Jitter: 15 * time.Millisecond, Up: netem.NewUplink(1.5 * bitrate)}
		}
		fast := netem.Link{Delay: 10 * time.Millisecond}
		src := simNode(t, ctx, mn, "10.0.0.1", fast, Config{Role: wire.RoleSource, File: f})
		relay := simNode(t, ctx, mn, "10.0.0.2", fast, Config{Role: wire.RoleSupport, File: f, Peers: []netip.AddrPort{src.addr}})
		var vs []*testNode
		for i := range viewers {
			peers := []netip.AddrPort{src.addr, relay.addr}
			for k := range i {
				peers = append(peers, vs[k].addr)
			}
			vs = append(vs, simNode(t, ctx, mn, fmt.Sprintf("10.0.1.%d", 1+i), home(), Config{Role: wire.RoleViewer, File: f, Peers: peers}))
		}
		const pieces = int(run / every)
		for n := range uint32(pieces) {
			if err := publishSized(ctx, src, priv, 1000+n, n%8 == 0, size); err != nil {
				t.Fatal(err)
			}
			time.Sleep(every)
		}
		time.Sleep(2 * time.Second)
		var received, forwarded, fromServers int64
		for i, v := range vs {
			m := v.sess.Metrics()
			received += m.MediaBytes[wire.RoleSource][1] + m.MediaBytes[wire.RoleSupport][1] + m.MediaBytes[wire.RoleViewer][1]
			fromServers += m.MediaBytes[wire.RoleSource][1] + m.MediaBytes[wire.RoleSupport][1]
			forwarded += m.ForwardedBytes
			if m.PiecesComplete < int64(pieces)*8/10 {
				t.Errorf("viewer %d completed %d of %d pieces", i, m.PiecesComplete, pieces)
			}
		}
		share := func(x int64) float64 { return float64(x) / float64(max(received, 1)) }
		t.Logf("viewers received %d bytes: %.0f%% forwarded by viewers, %.0f%% from the servers", received, 100*share(forwarded), 100*share(fromServers))
		if share(forwarded) < 0.45 {
			t.Errorf("viewers forwarded %.0f%% of what viewers received, want at least 45%%", 100*share(forwarded))
		}
		if share(fromServers) > 0.45 {
			t.Errorf("the servers sent %.0f%% of what viewers received, want at most 45%%", 100*share(fromServers))
		}
		cancel()
	})
}

// A viewer expects each tree parent to forward the blocks of its substreams, though another
// parent's copy of a piece's header came first: two peers under the test's control each grant
// two substreams and forward a piece's header, the first one ahead; of the next piece, whose
// header only the first one forwards, the viewer asks neither of them for any block before a
// parent's patience runs out. (It took only the sender of the first copy of a header as
// forwarding, and asked for the other parent's blocks at once, which then came twice.)
func TestEveryParentIsExpectedToForward(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, priv := testFile(t)
	data, _ := signedPiece(f, priv, 0, 188*174) // 8 blocks: two in each substream
	header := func(n uint32) *wire.PieceHeader {
		_, h := signedPiece(f, priv, n, len(data))
		return h
	}
	const start, watched = 1000, 1000 + startPieces + 1
	first := header(start)
	depths := [2][wire.Substreams]uint8{{1, 1, wire.NoDepth, wire.NoDepth}, {wire.NoDepth, wire.NoDepth, 1, 1}}
	hello := func(i int) []*wire.Message {
		return []*wire.Message{
			{Type: wire.Hello, Role: wire.RoleSupport, Window: wire.WindowInfo{First: start, Last: start, Keyframe: start}, Header: first},
			{Type: wire.Unchoke}, {Type: wire.Tree, Free: 8, Depths: depths[i]},
		}
	}
	addrs, conns := rawPeers(t, f.InfoHash(), hello, "127.0.1.181", "127.0.1.182")
	viewer := startNode(t, ctx, "127.0.1.180", Config{Role: wire.RoleViewer, File: f, Peers: addrs})
	requests := make(chan wire.Message, 64)
	var parents [2]*attacker
	for i := range parents {
		parents[i] = <-conns[i]
		go func(p *attacker) { // grants what it is asked, and reports the block requests
			for {
				frame, err := wire.ReadFrame(p.nc, nil)
				if err != nil {
					return
				}
				m, _ := wire.Decode(frame)
				switch m.Type {
				case wire.Subscribe:
					p.send(&wire.Message{Type: wire.Tree, Mask: m.Mask, Free: 8, Depths: depths[i], Reply: true})
				case wire.Request:
					if m.Number < watched { // answered: pieces before the one watched
						p.send(&wire.Message{Type: wire.Piece, Number: m.Number, Block: m.Block, Data: blockOf(f, data, m.Block)})
						continue
					}
					requests <- *m
				}
			}
		}(parents[i])
	}
	waitUntil(t, 10*time.Second, "both peers forward two substreams to the viewer, and its first piece came", func() (ok bool) {
		viewer.sess.do(ctx, func(st *loopState) {
			_, buf := st.s.File()
			ok = st.depths() == [wire.Substreams]uint8{2, 2, 2, 2} && buf.Get(start) != nil
		})
		return ok
	})
	both := header(watched - 1) // not among the first pieces, which are asked of anyone at once
	parents[0].send(&wire.Message{Type: wire.Header, Header: both})
	time.Sleep(20 * time.Millisecond)
	parents[1].send(&wire.Message{Type: wire.Header, Header: both})
	time.Sleep(100 * time.Millisecond)
	parents[0].send(&wire.Message{Type: wire.Header, Header: header(watched)})
	timeout := time.After(minPatience - 100*time.Millisecond)
	for {
		select {
		case m := <-requests:
			if m.Number == watched {
				t.Fatalf("block %d of the piece whose header one parent forwarded asked for before its parent's patience ran out", m.Block)
			}
		case <-timeout:
			return
		}
	}
}

// A newcomer asks a relay for its first pieces, rather than a viewer whose home upload a crowd
// of newcomers would queue up behind: a support node and a viewer under the test's control hold
// the start piece, of four blocks (as many as a new peer may be asked at once), and the viewer
// asks the support node for all four and the other viewer for none (with no preference, its
// requests would go to both, the one with fewer in flight first).
func TestFirstPiecesComeFromARelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, priv := testFile(t)
	_, h := signedPiece(f, priv, 1000, 188*86) // 4 blocks
	_, peers := viewerAmong(t, ctx, f, h, false, []uint8{wire.RoleSupport, wire.RoleViewer}, "127.0.1.190", "127.0.1.191", "127.0.1.192")
	var asked [2]atomic.Int32
	for i, p := range peers {
		go func() { // answers GET_HEADER, counts the block requests
			for {
				frame, err := wire.ReadFrame(p.nc, nil)
				if err != nil {
					return
				}
				switch m, _ := wire.Decode(frame); m.Type {
				case wire.GetHeader: // once both HELLOs are in: the viewer starts with both peers known
					time.Sleep(200 * time.Millisecond)
					p.send(&wire.Message{Type: wire.Header, Header: h})
				case wire.Request:
					asked[i].Add(1)
				}
			}
		}()
	}
	waitUntil(t, 5*time.Second, "the viewer asks for the start piece's blocks", func() bool { return asked[0].Load()+asked[1].Load() > 0 })
	time.Sleep(300 * time.Millisecond)
	if a, b := asked[0].Load(), asked[1].Load(); a != 4 || b != 0 {
		t.Fatalf("the newcomer asked the support node for %d blocks of its start piece and the other viewer for %d; want 4 and 0", a, b)
	}
}
