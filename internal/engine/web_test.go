package engine

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/nodeweb"
	"github.com/aceswarm/aceswarm/internal/promtest"
	"github.com/aceswarm/aceswarm/internal/transport"
)

func monitoring(t *testing.T, url string) nodeweb.Report {
	t.Helper()
	code, body := getJSON(t, url, "")
	if code != 200 {
		t.Fatalf("%s: %d %s", url, code, body)
	}
	var r nodeweb.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// /app/update changes what monitoring reports and what the node enforces; a wrong token gets 403
// and changes nothing.
func TestWebInterfaceUpdateAndToken(t *testing.T) {
	ctx := t.Context()
	src, _, path := runSource(t, ctx, "127.0.0.90", func(c *Config) {
		c.AccessToken, c.StatsInterval, c.StatsPeers = "qwerty", time.Second, true
	})
	for i, ip := range []string{"127.0.0.91", "127.0.0.92"} {
		v := runNode(t, ctx, Config{Mode: Viewer, Bind: ip, HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()}})
		play(t, ctx, streamURL(v, path)).starts(t, fmt.Sprint("viewer ", i+1))
	}
	base := fmt.Sprintf("http://%s/app/", src.Addr())
	waitFor(t, 5*time.Second, "monitoring shows two peers", func() bool {
		r := monitoring(t, base+"qwerty/monitoring")
		return r.ConnectedPeersCount == 2 && len(r.ConnectedPeers) == 2 && r.UploadSlots == 2
	})
	r := monitoring(t, base+"qwerty/monitor")
	if r.Version == "" || r.MaxPeers != DefaultMaxPeers || r.MaxUploadSlots != DefaultMaxUploadSlots || r.MaxConnections != DefaultMaxConnections {
		t.Fatalf("monitor: %+v", r)
	}
	metrics := fmt.Sprintf("http://%s/metrics", src.Addr())
	root := fmt.Sprintf("http://%s/", src.Addr())
	for _, bad := range []string{base + "monitoring", base + "wrong/monitoring", base + "wrong/update?max_peers=1", metrics, base + "metrics",
		root, root + "dashboard.json", base + "wrong/dashboard.json"} {
		if code, _ := getJSON(t, bad, ""); code != 403 {
			t.Fatalf("%s: %d, want 403", bad, code)
		}
	}
	if r := monitoring(t, base+"qwerty/monitoring"); r.MaxPeers != DefaultMaxPeers {
		t.Fatal("a request with a wrong token changed max_peers")
	}
	for _, page := range []string{base + "qwerty/", base + "qwerty/dashboard.json", base + "qwerty/assets/app.js"} {
		if code, _ := getJSON(t, page, ""); code != 200 {
			t.Fatalf("%s: %d, want 200", page, code)
		}
	}
	if got := promtest.Value(promtest.Scrape(t, base+"qwerty/metrics"), "aceswarm_peers", "peer_role", "viewer"); got != 2 {
		t.Fatalf("metrics with the token: %v viewer peers", got)
	}
	if code, body := getJSON(t, base+"qwerty/update?max_peers=zero", ""); code != 400 {
		t.Fatalf("bad value: %d %s", code, body)
	}
	if code, body := getJSON(t, base+"qwerty/update?max_peers=1&max_upload_slots=1", ""); code != 200 {
		t.Fatalf("update: %d %s", code, body)
	}
	r = monitoring(t, base+"qwerty/monitoring")
	if r.MaxPeers != 1 || r.MaxUploadSlots != 1 {
		t.Fatalf("after update: %+v", r)
	}
	waitFor(t, 5*time.Second, "the node enforces max_peers=1", func() bool {
		r := monitoring(t, base+"qwerty/monitoring")
		return r.ConnectedPeersCount == 1 && r.UploadSlots == 1
	})
	code, body := getJSON(t, base+"qwerty/get_transport_file?format=raw", "")
	if f, err := transport.Decode(body); code != 200 || err != nil || f.Info.Name != "s" {
		t.Fatalf("get_transport_file: %d %v", code, err)
	}
}

// The web interface answers only this machine unless --service-remote-access.
func TestWebInterfaceRefusesOtherMachines(t *testing.T) {
	ip := nonLoopbackIP(t)
	ctx := t.Context()
	local := func(c *Config) { c.AnnounceHost = "127.0.0.1" } // its tracker stays on loopback
	closed, _, _ := runSource(t, ctx, "", local)              // on every address
	open, _, _ := runSource(t, ctx, "", func(c *Config) { local(c); c.RemoteAccess = true })
	at := func(n *Node, host string) string {
		return fmt.Sprintf("http://%s/app/monitoring", net.JoinHostPort(host, fmt.Sprint(n.Addr().Port())))
	}
	for _, n := range []*Node{closed, open} {
		if code, body := getJSON(t, at(n, "127.0.0.1"), "127.0.0.1"); code != 200 {
			t.Fatalf("this machine got %d: %s", code, body)
		}
	}
	if code, _ := getJSON(t, at(closed, ip), ip); code != 403 {
		t.Fatalf("a request from %s got %d without --service-remote-access, want 403", ip, code)
	}
	if code, body := getJSON(t, at(open, ip), ip); code != 200 {
		t.Fatalf("with --service-remote-access: %d %s", code, body)
	}
}

// nonLoopbackIP is an address of this machine that is not loopback: requests from it count as
// coming from another machine.
func nonLoopbackIP(t *testing.T) string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}

// The download list changes at run time through /app/update.
func TestDownloadListChangesAtRunTime(t *testing.T) {
	ctx := t.Context()
	src, _, path := runSource(t, ctx, "127.0.0.93", nil)
	b := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.94", URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	a := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.95", URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	waitFor(t, 5*time.Second, "a downloads from the source", func() bool { return downloadedFrom(ctx, a)[src.Addr().String()] > 0 })
	url := fmt.Sprintf("http://%s/app/update?download_from=%s", a.Addr(), b.Addr())
	if code, body := getJSON(t, url, ""); code != 200 {
		t.Fatalf("update: %d %s", code, body)
	}
	fromSrc := downloadedFrom(ctx, a)[src.Addr().String()]
	waitFor(t, 10*time.Second, "a downloads from b", func() bool { return downloadedFrom(ctx, a)[b.Addr().String()] > 20<<10 })
	if now := downloadedFrom(ctx, a)[src.Addr().String()]; now > fromSrc+64<<10 {
		t.Fatalf("a kept downloading from the source: %d -> %d bytes", fromSrc, now)
	}
}

// A private node lets its --monitor-node-ip in, refuses other addresses, and --max-connections
// bounds what it accepts.
func TestMonitorIPAndMaxConnections(t *testing.T) {
	ctx := t.Context()
	src, _, _ := runSource(t, ctx, "127.0.0.96", func(c *Config) {
		c.Private, c.MonitorIP, c.MaxConnections = true, netip.MustParseAddr("127.0.0.97"), 3
	})
	url := fmt.Sprintf("http://%s/app/monitoring", src.Addr())
	if code, body := getJSON(t, url, "127.0.0.97"); code != 200 {
		t.Fatalf("monitoring server: %d %s", code, body)
	}
	if code, _ := getJSON(t, url, "127.0.0.98"); code == 200 {
		t.Fatal("a private node answered an address it does not name")
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", src.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(200 * time.Millisecond)
	if code, _ := getJSON(t, url, "127.0.0.97"); code == 200 {
		t.Fatal("a fourth connection was served with --max-connections 3")
	}
}
