package engine

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/ipfilter/geotest"
	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// handshakeFrom dials addr from ip and tells whether the node answered the handshake.
func handshakeFrom(t *testing.T, ip string, addr netip.AddrPort, ih [20]byte) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 3 * time.Second}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		return nil, false
	}
	c.Write(wire.Handshake{InfoHash: ih, PeerID: swarm.NewPeerID()}.Marshal())
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := wire.ReadHandshake(c); err != nil {
		c.Close()
		return nil, false
	}
	c.SetReadDeadline(time.Time{})
	return c, true
}

// Nodes on 127.0.0.x addresses are let in or refused as the rules say, countries coming from a
// test MaxMind database; a group at its limit refuses more connections; real relays play or not.
func TestTrafficFiltration(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	if err := geotest.Write(db, map[string]string{"127.0.0.152/30": "FR", "127.0.0.156/30": "US"}); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(dir, "filter.json")
	os.WriteFile(rules, []byte(`{
	  "groups": {"fr": {"countries": ["FR"]}, "lab": {"addresses": ["127.0.0.160/29"]}},
	  "blacklist": {"addresses": ["127.0.0.153"]},
	  "whitelist": {"groups": ["fr", "lab"]},
	  "limit_groups": {"lab": "2%"}
	}`), 0o644)
	src, f, path := runSource(t, ctx, "127.0.0.150", func(c *Config) {
		c.IPFilterConfig, c.GeoIPDB, c.MaxConnections = rules, db, 100
	})
	ih := [20]byte(f.InfoHash())
	for ip, want := range map[string]bool{
		"127.0.0.152": true,  // FR: on the white list through its group
		"127.0.0.153": false, // FR, but black-listed
		"127.0.0.157": false, // US: not on the white list
		"127.0.0.170": false, // no country, no group
	} {
		c, ok := handshakeFrom(t, ip, src.Addr(), ih)
		if ok != want {
			t.Errorf("%s: admitted=%v, want %v", ip, ok, want)
		}
		if c != nil {
			c.Close()
		}
	}
	// "lab" may hold 2% of 100 connections: two at once, not three.
	c1, ok1 := handshakeFrom(t, "127.0.0.161", src.Addr(), ih)
	c2, ok2 := handshakeFrom(t, "127.0.0.162", src.Addr(), ih)
	_, ok3 := handshakeFrom(t, "127.0.0.163", src.Addr(), ih)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("group limit: %v %v %v, want true true false", ok1, ok2, ok3)
	}
	c1.Close()
	c2.Close()
	waitFor(t, 3*time.Second, "closed connections free the group's slots", func() bool {
		c, ok := handshakeFrom(t, "127.0.0.164", src.Addr(), ih)
		if ok {
			c.Close()
		}
		return ok
	})
	// Real relays: the French one gets the stream, the American one nothing.
	fr := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.154", URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	us := runNode(t, ctx, Config{Mode: Support, Bind: "127.0.0.158", URL: path, DownloadFrom: []netip.AddrPort{src.Addr()}})
	waitFor(t, 10*time.Second, "the French relay downloads", func() bool { return fr.Traffic().DownloadedMedia > 0 })
	if got := us.Traffic().Downloaded; got != 0 {
		t.Fatalf("the refused relay downloaded %d bytes", got)
	}
}
