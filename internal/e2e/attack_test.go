package e2e

import (
	"encoding/hex"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// poison sends, from ip, a handshake for stream ih and msgs to a node's peer port, and reports
// whether the node hung up and then refused the same address (banned it).
func poison(t *testing.T, ip string, to netip.AddrPort, ih [20]byte, msgs ...*wire.Message) (hungUp, banned bool) {
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
	nc.Write(b)
	hungUp = closed(nc, 5*time.Second)
	again := dial()
	defer again.Close()
	return hungUp, closed(again, 3*time.Second)
}

// A peer that claims pieces far beyond anything the source signed, in its HELLO or in a HAVE,
// is hung up on and banned by the source and by a viewer engine, while a player of that engine
// decodes 25 s without an error (ffmpeg -xerror) across the attacks.
func TestWindowPoisoningDoesNotStopPlayers(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	srcIP, viewerIP := "127.0.0.160", "127.0.0.161"
	srcPort, viewerPort := freePort(t, srcIP), freePort(t, viewerIP)
	args, acelive := clipSource(t, dir, srcIP, srcPort)
	node(t, "source", args...)
	waitFile(t, acelive, 10*time.Second)
	ihHex := infohash(t, acelive)
	var ih [20]byte
	hex.Decode(ih[:], []byte(ihHex))
	player := play(t, "player", viewerEngine(t, dir, viewerIP, viewerPort, acelive), 25)
	time.Sleep(4 * time.Second) // the player plays

	huge := wire.WindowInfo{First: 0, Last: 0xFFFFFFF0, Keyframe: 0xFFFFFFF0}
	empty := wire.WindowInfo{Empty: true, NoKeyframe: true}
	attacks := map[string][]*wire.Message{
		"HELLO": {{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: huge}},
		"HAVE":  {{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: empty}, {Type: wire.Have, Number: 0xFFFFFFF0, Keyframe: true}},
	}
	i := 0
	for name, msgs := range attacks {
		for role, at := range map[string]netip.AddrPort{
			"source": netip.AddrPortFrom(netip.MustParseAddr(srcIP), uint16(srcPort)),
			"viewer": netip.AddrPortFrom(netip.MustParseAddr(viewerIP), uint16(viewerPort)),
		} {
			i++
			hungUp, banned := poison(t, "127.0.0."+strconv.Itoa(170+i), at, ih, msgs...)
			if !hungUp || !banned {
				t.Errorf("%s poisoning of the %s: hung up %v, banned %v", name, role, hungUp, banned)
			}
		}
	}
	player.mustSucceed(t, 60*time.Second)
}
