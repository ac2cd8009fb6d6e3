package engine

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/dashboard"
	"github.com/aceswarm/aceswarm/internal/promtest"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// /metrics of a source's web port and of a viewer engine's player port parse, hold the figures
// operators watch, and move with the traffic: bytes grow, a player and its startup are counted,
// and a peer banned for an absurd claim counts under its reason.
func TestMetricsMoveWithTraffic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	src, _, path := runSource(t, ctx, "127.0.8.1", nil)
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.8.2", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()},
		Activity: time.Second, IdleStop: 500 * time.Millisecond})
	playCtx, stopPlaying := context.WithCancel(ctx)
	p := play(t, playCtx, streamURL(v, path))
	p.starts(t, "the player")
	srcURL := "http://" + src.Addr().String() + "/metrics"
	viewerURL := "http://" + v.APIAddr().String() + "/metrics"
	before, vBefore := promtest.Scrape(t, srcURL), promtest.Scrape(t, viewerURL)
	for _, name := range []string{"aceswarm_node_info", "aceswarm_streams", "aceswarm_peers", "aceswarm_media_bytes_total",
		"aceswarm_wire_bytes_total", "aceswarm_pieces_total", "aceswarm_bans_total", "aceswarm_dropped_blocks_total", "aceswarm_reasked_blocks_total",
		"aceswarm_forwarded_bytes_total", "aceswarm_duplicate_bytes_total", "aceswarm_cache_bytes", "aceswarm_source_bytes_total", "go_goroutines", "process_resident_memory_bytes"} {
		if before[name] == nil {
			t.Errorf("the source's /metrics has no %s", name)
		}
	}
	for _, name := range []string{"aceswarm_players", "aceswarm_player_bytes_total", "aceswarm_startup_seconds",
		"aceswarm_stalls_total", "aceswarm_stall_seconds_total", "aceswarm_player_lag_seconds"} {
		if vBefore[name] == nil {
			t.Errorf("the viewer's /metrics has no %s", name)
		}
	}
	if got := promtest.Value(vBefore, "aceswarm_players", "format", "ts"); got != 1 {
		t.Errorf("players: %v", got)
	}
	if lag := vBefore["aceswarm_player_lag_seconds"]; lag == nil || lag.Metric[0].GetSummary().GetSampleCount() != 1 {
		t.Errorf("lag of the one player: %v", lag)
	}
	if got := promtest.Value(vBefore, "aceswarm_startup_seconds"); got != 1 {
		t.Errorf("startups observed: %v", got)
	}
	var dash dashboard.Snapshot // the dashboard reads the same figures
	if code, body := getJSON(t, "http://"+v.APIAddr().String()+"/dashboard.json", ""); code != 200 || json.Unmarshal(body, &dash) != nil ||
		dash.Role != "viewer" || dash.Players != 1 || dash.Startups != 1 || dash.StartupSum <= 0 || len(dash.Streams) != 1 || len(dash.Streams[0].Peers) != 1 {
		t.Errorf("dashboard.json: %d %s", code, body)
	}
	if got := promtest.Value(vBefore, "aceswarm_peers", "peer_role", "source"); got != 1 {
		t.Errorf("the viewer's peers of role source: %v", got)
	}

	// A peer claiming a piece far beyond the edge is banned.
	nc, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.8.3")}, net.TCPAddrFromAddrPort(v.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ih := v.ActiveStreams()[0]
	nc.Write(wire.Handshake{InfoHash: ih, PeerID: swarm.NewPeerID()}.Marshal())
	nc.Write((&wire.Message{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: wire.WindowInfo{Last: 0xFFFFFFF0, Keyframe: 0xFFFFFFF0}}).Append(nil))
	time.Sleep(2 * time.Second)

	after, vAfter := promtest.Scrape(t, srcURL), promtest.Scrape(t, viewerURL)
	grew := func(name string, fams0, fams1 promtest.Families, labels ...string) {
		if a, b := promtest.Value(fams0, name, labels...), promtest.Value(fams1, name, labels...); !(b > a && a >= 0) {
			t.Errorf("%s %v did not grow: %v then %v", name, labels, a, b)
		}
	}
	grew("aceswarm_source_bytes_total", before, after)
	grew("aceswarm_media_bytes_total", before, after, "direction", "sent", "peer_role", "viewer")
	grew("aceswarm_pieces_total", before, after, "outcome", "complete")
	grew("aceswarm_forwarded_bytes_total", before, after) // the viewer's parent in every substream
	grew("aceswarm_media_bytes_total", vBefore, vAfter, "direction", "received", "peer_role", "source")
	grew("aceswarm_wire_bytes_total", vBefore, vAfter, "direction", "received")
	grew("aceswarm_player_bytes_total", vBefore, vAfter)
	if got := promtest.Value(vAfter, "aceswarm_bans_total", "reason", swarm.BanClaim.String()); got != 1 {
		t.Errorf("bans for an absurd claim: %v", got)
	}

	// The stream ends with its last player: its counters stay in the node's (counters never go back).
	stopPlaying()
	waitFor(t, 10*time.Second, "the stream to end", func() bool {
		return promtest.Value(promtest.Scrape(t, viewerURL), "aceswarm_streams") == 0
	})
	ended := promtest.Scrape(t, viewerURL)
	for _, c := range [][]string{{"aceswarm_wire_bytes_total", "direction", "received"}, {"aceswarm_media_bytes_total", "direction", "received", "peer_role", "source"},
		{"aceswarm_pieces_total", "outcome", "complete"}, {"aceswarm_bans_total", "reason", swarm.BanClaim.String()}} {
		if a, b := promtest.Value(vAfter, c[0], c[1:]...), promtest.Value(ended, c[0], c[1:]...); b < a || b <= 0 {
			t.Errorf("%v after the stream ended: %v, before %v", c, b, a)
		}
	}
}
