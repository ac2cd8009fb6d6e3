package e2e

import (
	"context"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// tarpit accepts connections on port and holds them without a byte, as a peer behind a black
// hole would look to a dialer: the dial succeeds and the handshake never comes. It listens on
// every address so that junk peers on any 127.x.y.z address land in it; nothing connects to it
// from outside loopback, since only the test hands out its addresses.
func tarpit(t *testing.T) (port uint16) {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// junkAddr is the i-th junk peer: a distinct loopback address per peer, on the tarpit's port.
func junkAddr(i int, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 65, byte(i >> 8), byte(i)}), port)
}

// pollute announces n junk peers of ih to the tracker at announce, each from its own loopback
// address, as an attacker with many addresses would.
func pollute(t *testing.T, announce string, ih [20]byte, n int, port uint16) {
	t.Helper()
	q := url.Values{"info_hash": {string(ih[:])}, "peer_id": {"-AW0000-junkjunkjunk"}, "port": {strconv.Itoa(int(port))},
		"uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "compact": {"1"}}
	u := announce + "?" + q.Encode()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			local := &net.TCPAddr{IP: junkAddr(i, port).Addr().AsSlice()}
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				DialContext: (&net.Dialer{LocalAddr: local}).DialContext, DisableKeepAlives: true,
			}}
			resp, err := c.Get(u)
			if err != nil {
				t.Errorf("announce from %v: %v", local, err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
}

// pexSpam connects to a node's peer port (until it has a session for ih) and pushes n junk
// addresses by PEX.
func pexSpam(ctx context.Context, to netip.AddrPort, ih [20]byte, n int, port uint16) {
	for ctx.Err() == nil {
		nc, err := net.DialTimeout("tcp", to.String(), time.Second)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var id [20]byte
		copy(id[:], "-AW0000-pexspammer00")
		nc.Write(wire.Handshake{InfoHash: ih, PeerID: id}.Marshal())
		nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := wire.ReadHandshake(nc); err != nil {
			nc.Close()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b := (&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}}).Append(nil)
		for i := 0; i < n; i += wire.MaxPex {
			var junk []netip.AddrPort
			for j := i; j < min(n, i+wire.MaxPex); j++ {
				junk = append(junk, junkAddr(j, port))
			}
			b = (&wire.Message{Type: wire.Pex, Peers: junk}).Append(b)
		}
		nc.Write(b)
		<-ctx.Done()
		nc.Close()
		return
	}
}

// 5,000 junk peers (black holes: the dial succeeds, the handshake never comes) announced to the
// source's built-in tracker from 5,000 addresses, and the same 5,000 pushed by PEX to the
// newcomer as it starts: a viewer engine that joins afterwards gets its first byte within 3 s
// and its player decodes with -xerror. The newcomer dials the address the transport file names
// (the tracker's, which is the source's) before anything the tracker or PEX returns.
func TestPollutedTrackerDoesNotStarveNewcomers(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	srcIP, viewerIP := "127.0.0.190", "127.0.0.191"
	srcPort, viewerPort := freePort(t, srcIP), freePort(t, viewerIP)
	args, acelive := clipSource(t, dir, srcIP, srcPort)
	node(t, "source", args...)
	waitFile(t, acelive, 10*time.Second)
	var ih [20]byte
	hex.Decode(ih[:], []byte(infohash(t, acelive)))
	pit := tarpit(t)
	const junk = 5000
	pollute(t, "http://"+net.JoinHostPort(srcIP, strconv.Itoa(srcPort))+"/announce", ih, junk, pit)

	url := viewerEngine(t, dir, viewerIP, viewerPort, acelive)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go pexSpam(ctx, netip.AddrPortFrom(netip.MustParseAddr(viewerIP), uint16(viewerPort)), ih, junk, pit)
	d, err := firstByte(ctx, url, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first byte after %v", d)
	if d > 3*time.Second {
		t.Fatalf("the newcomer started after %v; the bound is 3 s", d)
	}
	play(t, "player", url, 5).mustSucceed(t, 30*time.Second)
}
