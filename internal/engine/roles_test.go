package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/metatracker"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// downloadedFrom sums what node n downloaded from each peer address.
func downloadedFrom(ctx context.Context, n *Node) map[string]int64 {
	out := map[string]int64{}
	for _, p := range n.Figures(ctx).Peers {
		out[p.Addr] += p.Downloaded
	}
	return out
}

// A private source serves its --upload-to node and refuses every other address; a support node
// with --download-from downloads from no other node.
func TestPrivateSourceAndDownloadList(t *testing.T) {
	ctx := t.Context()
	allowed := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.51:%d", freePort(t)))
	src, _, path := runSource(t, ctx, "127.0.0.50", func(c *Config) {
		c.Private, c.UploadTo = true, []netip.AddrPort{allowed}
	})
	good := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.51", Port: int(allowed.Port()), URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	other := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.52", URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	// A viewer that any node may serve, connected to both support nodes.
	viewer := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.53", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{good.Addr(), other.Addr()}})
	p := play(t, ctx, streamURL(viewer, path))
	p.starts(t, "viewer")
	p.keepsPlaying(t, "viewer", 3, time.Second)

	if got := downloadedFrom(ctx, good)[src.Addr().String()]; got == 0 {
		t.Fatal("the --upload-to node got nothing from the private source")
	}
	for addr, n := range downloadedFrom(ctx, other) {
		if n > 0 {
			t.Fatalf("the refused node downloaded %d bytes from %s", n, addr)
		}
	}
	for addr, n := range downloadedFrom(ctx, good) {
		if n > 0 && addr != src.Addr().String() {
			t.Fatalf("a --download-from node downloaded %d bytes from %s", n, addr)
		}
	}
	// The refused address cannot even complete a handshake.
	c, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 52)}, net.TCPAddrFromAddrPort(src.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(wire.Handshake{}.Marshal())
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := wire.ReadHandshake(c); err == nil {
		t.Fatal("a private source answered an address it does not name")
	}
}

// writeMeta writes a metatracker configuration.
func writeMeta(t *testing.T, path string, streams map[string]metatracker.Response) {
	t.Helper()
	b, _ := json.Marshal(metatracker.Config{Streams: streams})
	tmp := path + ".tmp"
	os.WriteFile(tmp, b, 0o644)
	os.Rename(tmp, path)
}

func runMetatracker(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	m, err := metatracker.New(metatracker.ServerConfig{Listen: "127.0.0.1:0", ConfigPath: path, Reload: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { <-done })
	return "http://" + m.Addr().String() + "/"
}

// A viewer starts from a startup node it learned only from a metatracker: the source is private
// and serves only the startup node.
func TestViewerStartsFromStartupNodeLearnedFromMetatracker(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	metaPath := filepath.Join(t.TempDir(), "meta.json")
	writeMeta(t, metaPath, map[string]metatracker.Response{})
	metaURL := runMetatracker(t, ctx, metaPath)
	startupAddr := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.61:%d", freePort(t)))
	src, f, path := runSource(t, ctx, "127.0.0.60", func(c *Config) {
		c.Private, c.UploadTo, c.Metatrackers = true, []netip.AddrPort{startupAddr}, []string{metaURL}
	})
	runNode(t, ctx, Config{Mode: Startup, Bind: "127.0.0.61", Port: int(startupAddr.Port()), URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	writeMeta(t, metaPath, map[string]metatracker.Response{f.InfoHash().String(): {StartupNodes: []string{startupAddr.String()}, Interval: 1}})
	waitFor(t, 3*time.Second, "metatracker reloads", func() bool {
		r, err := metatracker.Fetch(ctx, http.DefaultClient, metaURL, f.InfoHash().String())
		return err == nil && len(r.StartupNodes) == 1
	})
	viewer := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.62", HTTPPort: freePort(t)})
	p := play(t, ctx, streamURL(viewer, path))
	p.starts(t, "viewer")
	p.keepsPlaying(t, "viewer", 3, time.Second)
	if got := downloadedFrom(ctx, viewer)[startupAddr.String()]; got == 0 {
		t.Fatalf("viewer downloaded nothing from the startup node: %v", downloadedFrom(ctx, viewer))
	}
}

// A full startup node ends the connection of a peer that has downloaded enough when a new one
// arrives, and both viewers keep playing.
func TestFullStartupNodeRotatesPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx := t.Context()
	startupAddr := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.71:%d", freePort(t)))
	src, _, path := runSource(t, ctx, "127.0.0.70", func(c *Config) {
		c.StartupNodes = []string{startupAddr.String()}
	})
	startup := runNode(t, ctx, Config{
		Mode: Startup, Bind: "127.0.0.71", Port: int(startupAddr.Port()), URL: path,
		DownloadFrom: []netip.AddrPort{src.Addr()}, MaxPeers: 2, RotateBytes: 20 << 10,
	})
	v1 := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.72", HTTPPort: freePort(t)})
	p1 := play(t, ctx, streamURL(v1, path))
	defer func() {
		if t.Failed() {
			t.Logf("viewer 1 got %d bytes; by peer %v; startup peers %+v", p1.bytes.Load(), downloadedFrom(ctx, v1), startup.Figures(ctx).Peers)
		}
	}()
	waitFor(t, 10*time.Second, "first viewer downloads 20 KiB from the startup node", func() bool {
		return downloadedFrom(ctx, v1)[startupAddr.String()] >= 20<<10
	})
	v2 := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.73", HTTPPort: freePort(t)})
	p2 := play(t, ctx, streamURL(v2, path))
	waitFor(t, 10*time.Second, "second viewer is served by the startup node", func() bool {
		return downloadedFrom(ctx, v2)[startupAddr.String()] > 0
	})
	if _, ok := downloadedFrom(ctx, v1)[startupAddr.String()]; ok {
		t.Fatal("the first viewer is still connected to the full startup node")
	}
	if n := len(startup.Figures(ctx).Peers); n > 2 {
		t.Fatalf("startup node has %d peers, max 2", n)
	}
	// A rotated-out viewer may wait up to a second for its new peers (the swarm spares the source),
	// which its player's buffer covers: it must get data in every 2 s.
	p1.keepsPlaying(t, "first viewer", 3, 2*time.Second)
	p2.keepsPlaying(t, "second viewer", 1, 2*time.Second)
}

// A metatracker change reaches a node within one interval; one that answers garbage or 500 is
// retried without disturbing playback.
func TestMetatrackerChangesAndFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx := t.Context()
	metaPath := filepath.Join(t.TempDir(), "meta.json")
	writeMeta(t, metaPath, map[string]metatracker.Response{"*": {Interval: 1}})
	metaURL := runMetatracker(t, ctx, metaPath)
	bad := badServer(t)
	src, f, path := runSource(t, ctx, "127.0.0.80", func(c *Config) {
		c.Metatrackers = []string{metaURL, bad + "/garbage", bad + "/500"}
	})
	viewer := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.81", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()}})
	p := play(t, ctx, streamURL(viewer, path))
	p.starts(t, "viewer")
	p.keepsPlaying(t, "viewer", 2, time.Second)
	extra := "http://127.0.0.82:1/announce"
	writeMeta(t, metaPath, map[string]metatracker.Response{f.InfoHash().String(): {Trackers: []string{extra}, Interval: 1}})
	waitFor(t, 3*time.Second, "new tracker reaches the viewer", func() bool {
		for _, s := range viewer.sessionList() {
			if s.HasTracker(extra) {
				return true
			}
		}
		return false
	})
	p.keepsPlaying(t, "viewer", 2, time.Second)
}

// A node with --download-from takes nothing from other nodes, not even pieces pushed to it.
func TestDownloadListRefusesPushedPieces(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	ctx := t.Context()
	src, _, path := runSource(t, ctx, "127.0.0.180", nil)
	aAddr := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.181:%d", freePort(t)))
	a := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.181", Port: int(aAddr.Port()), URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	b := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.182", URL: path, DownloadFrom: []netip.AddrPort{src.Addr(), aAddr}})
	waitFor(t, 10*time.Second, "both relays download", func() bool {
		return a.Traffic().DownloadedMedia > 64<<10 && b.Traffic().DownloadedMedia > 64<<10
	})
	waitFor(t, 5*time.Second, "b is connected to a", func() bool {
		_, ok := downloadedFrom(ctx, a)[b.Addr().String()]
		return ok || len(a.Figures(ctx).Peers) >= 2
	})
	time.Sleep(3 * time.Second) // b pushes what the source pushed to it on to a, its only peer
	for addr, n := range downloadedFrom(ctx, a) {
		if addr != src.Addr().String() && n > 0 {
			t.Fatalf("a took %d bytes from %s, which is not on its download list", n, addr)
		}
	}
}
