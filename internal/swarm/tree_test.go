package swarm

import (
	"context"
	"fmt"
	"net/netip"
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
