package swarm

import (
	"bytes"
	"crypto/ed25519"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// rawPeers listens on each of ips for one connection from the node under test, a peer under the
// test's control: it answers the handshake for stream ih and sends hello(i), its HELLO and
// whatever else the i-th peer says first. It returns the listen addresses, and the connections
// as the node dials them, in the order of ips.
func rawPeers(t *testing.T, ih transport.InfoHash, hello func(i int) []*wire.Message, ips ...string) ([]netip.AddrPort, []chan *attacker) {
	t.Helper()
	var addrs []netip.AddrPort
	var conns []chan *attacker
	for i, ip := range ips {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		addrs = append(addrs, netip.MustParseAddrPort(ln.Addr().String()))
		c := make(chan *attacker, 1)
		conns = append(conns, c)
		go func() {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { nc.Close() })
			if _, err := wire.ReadHandshake(nc); err != nil {
				return
			}
			nc.Write(wire.Handshake{InfoHash: ih, PeerID: NewPeerID()}.Marshal())
			a := &attacker{nc}
			a.send(hello(i)...)
			c <- a
		}()
	}
	return addrs, conns
}

// signedPiece makes piece n (a keyframe piece) of size bytes (even) as f's source would sign it
// with priv, and returns its data and header.
func signedPiece(f *transport.File, priv ed25519.PrivateKey, n uint32, size int) ([]byte, *wire.PieceHeader) {
	data := bytes.Repeat([]byte{7, 0x47}, size/2)
	return data, wire.NewHeader(priv, f.InfoHash(), n, time.Now().UnixMilli(), 0, data, int(f.Info.BlockLength))
}
