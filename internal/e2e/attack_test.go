package e2e

import (
	"encoding/hex"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// poison sends, from ip, a handshake for stream ih, msgs and then raw bytes to a node's peer port,
// and reports whether the node hung up and then refused the same address (banned it).
func poison(t *testing.T, ip string, to netip.AddrPort, ih [20]byte, raw []byte, msgs ...*wire.Message) (hungUp, banned bool) {
	t.Helper()
	dials := 0
	dial := func() net.Conn {
		nc, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP(ip)}, net.TCPAddrFromAddrPort(to))
		if err != nil {
			t.Fatal(err)
		}
		dials++
		var id [20]byte // a new peer id each time, so that only a ban refuses the second connection
		copy(id[:], "-AW0000-attack"+ip[len(ip)-3:]+strconv.Itoa(dials))
		nc.Write(wire.Handshake{InfoHash: ih, PeerID: id}.Marshal())
		return nc
	}
	closed := func(nc net.Conn, d time.Duration) bool {
		nc.SetReadDeadline(time.Now().Add(d))
		for {
			if _, err := wire.ReadFrame(nc, nil); err != nil {
				ne, ok := err.(net.Error)
				return !ok || !ne.Timeout()
			}
		}
	}
	nc := dial()
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := wire.ReadHandshake(nc); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	var b []byte
	for _, m := range msgs {
		b = m.Append(b)
	}
	nc.Write(append(b, raw...))
	hungUp = closed(nc, 5*time.Second)
	again := dial()
	defer again.Close()
	return hungUp, closed(again, 3*time.Second)
}

// helloOf connects to a node's peer port from ip and returns the HELLO it sends: its window and
// newest signed header.
func helloOf(t *testing.T, ip string, to netip.AddrPort, ih [20]byte) *wire.Message {
	t.Helper()
	nc, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP(ip)}, net.TCPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var id [20]byte
	copy(id[:], "-AW0000-listener"+ip[len(ip)-3:])
	nc.Write(wire.Handshake{InfoHash: ih, PeerID: id}.Marshal())
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := wire.ReadHandshake(nc); err != nil {
		t.Fatal(err)
	}
	for {
		frame, err := wire.ReadFrame(nc, nil)
		if err != nil {
			t.Fatalf("no HELLO from %v: %v", to, err)
		}
		if m, err := wire.Decode(frame); err == nil && m.Type == wire.Hello && m.Header != nil {
			return m
		}
	}
}

// Every attack of the threat model, made by a test peer against a source, a support node and a
// viewer engine while a player of that engine decodes with ffmpeg -xerror across all of them:
// window poisoning by HELLO and by HAVE, a forged header, replayed headers, a forged block, an
// oversized frame, REQUEST, HAVE and REJECT floods (each of these ends the connection and bans
// the address), then 50 silent connections, 1,000 connections at once and PEX spam of 10,000
// addresses (each bounded; the node goes on serving a newcomer). A replayed header is only an
// attack on nodes that download: the source made it.
func TestAttacksDoNotStopPlayers(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	srcIP, supIP, viewerIP := "127.0.0.160", "127.0.0.161", "127.0.0.162"
	srcPort, supPort, viewerPort := freePort(t, srcIP), freePort(t, supIP), freePort(t, viewerIP)
	args, acelive := clipSource(t, dir, srcIP, srcPort)
	node(t, "source", args...)
	waitFile(t, acelive, 10*time.Second)
	var ih [20]byte
	hex.Decode(ih[:], []byte(infohash(t, acelive)))
	addr := func(ip string, port int) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))
	}
	src, sup, viewer := addr(srcIP, srcPort), addr(supIP, supPort), addr(viewerIP, viewerPort)
	node(t, "support", "--stream-support-node", "--url", acelive, "--port", strconv.Itoa(supPort), "--bind", supIP,
		"--cache-dir", filepath.Join(dir, "support"))
	player := play(t, "player", viewerEngine(t, dir, viewerIP, viewerPort, acelive), 75)
	old := helloOf(t, "127.0.0.163", src, ih).Header // replayed once it is long gone
	time.Sleep(15 * time.Second)                     // the player plays; old leaves the viewers' look-ahead

	huge := wire.WindowInfo{First: 0, Last: 0xFFFFFFF0, Keyframe: 0xFFFFFFF0}
	empty := wire.WindowInfo{Empty: true, NoKeyframe: true}
	hello := &wire.Message{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: empty}
	flood := func(m func(i int) *wire.Message) []*wire.Message {
		out := []*wire.Message{hello}
		for i := range 20000 {
			out = append(out, m(i))
		}
		return out
	}
	began := time.Now()
	ip := 170
	nextIP := func() string { ip++; return "127.0.0." + strconv.Itoa(ip) }
	for _, target := range []struct {
		role string
		at   netip.AddrPort
	}{{"source", src}, {"support", sup}, {"viewer", viewer}} {
		newest := helloOf(t, nextIP(), target.at, ih).Header
		forged := *newest
		forged.Signature[0] ^= 0xff
		block := make([]byte, newest.BlockSize(0, transport.BlockLength))
		attacks := []struct {
			name string
			msgs []*wire.Message
			raw  []byte
		}{
			{"HELLO poisoning", []*wire.Message{{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: huge}}, nil},
			{"HAVE poisoning", []*wire.Message{hello, {Type: wire.Have, Number: 0xFFFFFFF0, Keyframe: true}}, nil},
			{"forged header", []*wire.Message{hello, {Type: wire.Header, Header: &forged}}, nil},
			{"forged block", []*wire.Message{hello, {Type: wire.Piece, Number: newest.Number, Block: 0, Data: block}}, nil},
			{"oversized frame", []*wire.Message{hello}, []byte{0x7f, 0xff, 0xff, 0xff}},
			{"HAVE flood", flood(func(i int) *wire.Message { return &wire.Message{Type: wire.Have, Number: newest.Number - uint32(i%8)} }), nil},
			{"REQUEST flood", flood(func(i int) *wire.Message {
				return &wire.Message{Type: wire.Request, Number: newest.Number, Block: uint16(i % 4)}
			}), nil},
			{"REJECT flood", flood(func(i int) *wire.Message {
				return &wire.Message{Type: wire.Reject, Number: newest.Number, Block: uint16(i % 4)}
			}), nil},
		}
		if target.role != "source" {
			attacks = append(attacks, struct {
				name string
				msgs []*wire.Message
				raw  []byte
			}{"replayed headers", replayed(hello, old), nil})
		}
		for _, a := range attacks {
			hungUp, banned := poison(t, nextIP(), target.at, ih, a.raw, a.msgs...)
			if !hungUp || !banned {
				t.Errorf("%s against the %s: hung up %v, banned %v", a.name, target.role, hungUp, banned)
			}
		}
		silent(t, target.at, ih, 50)
		thousand(t, target.at)
		pexSpam10k(t, nextIP(), target.at, ih)
		if m := helloOf(t, nextIP(), target.at, ih); m.Header.Number <= newest.Number {
			t.Errorf("the %s's newest piece did not move during the attacks (%d)", target.role, m.Header.Number)
		}
	}
	t.Logf("the attacks took %v of the player's 75 s", time.Since(began))
	player.mustSucceed(t, 90*time.Second)
}

// replayed is a HELLO and more stale headers than an honest peer sends (late answers, forwards
// in flight): 33, the swarm's limit of 32 and one.
func replayed(hello *wire.Message, old *wire.PieceHeader) []*wire.Message {
	out := []*wire.Message{hello}
	for range 33 {
		out = append(out, &wire.Message{Type: wire.Header, Header: old})
	}
	return out
}

// silent opens n connections that complete the handshake and say nothing, and checks that the
// node drops every one (after its 5 s wait for a HELLO).
func silent(t *testing.T, to netip.AddrPort, ih [20]byte, n int) {
	t.Helper()
	var conns []net.Conn
	for i := range n {
		nc, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.4." + strconv.Itoa(1+i%10))}, net.TCPAddrFromAddrPort(to))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		var id [20]byte
		copy(id[:], "-AW0000-silent"+strconv.Itoa(1000+i))
		nc.Write(wire.Handshake{InfoHash: ih, PeerID: id}.Marshal())
		conns = append(conns, nc)
	}
	for i, nc := range conns {
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, err := nc.Read(make([]byte, 4096)); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("silent connection %d to %v kept for 10 s", i, to)
				}
				break
			}
		}
	}
}

// thousand opens 1,000 connections at once from 20 addresses, holds them a second and closes them.
func thousand(t *testing.T, to netip.AddrPort) {
	t.Helper()
	var conns []net.Conn
	for i := range 1000 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.5." + strconv.Itoa(1+i%20))}, Timeout: 2 * time.Second}
		if c, err := d.Dial("tcp", to.String()); err == nil {
			conns = append(conns, c)
		}
	}
	time.Sleep(time.Second)
	for _, c := range conns {
		c.Close()
	}
}

// pexSpam10k pushes 10,000 addresses (closed ports on loopback) by PEX.
func pexSpam10k(t *testing.T, ip string, to netip.AddrPort, ih [20]byte) {
	t.Helper()
	msgs := []*wire.Message{{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}}}
	for i := 0; i < 10000; i += wire.MaxPex {
		var junk []netip.AddrPort
		for k := i; k < i+wire.MaxPex; k++ {
			junk = append(junk, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 6, byte(k >> 8), byte(k)}), 9))
		}
		msgs = append(msgs, &wire.Message{Type: wire.Pex, Peers: junk})
	}
	poison(t, ip, to, ih, nil, msgs...) // PEX is allowed: not hung up on for it
}
