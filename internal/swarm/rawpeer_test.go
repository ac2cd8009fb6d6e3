package swarm

import (
	"bytes"
	"context"
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

// viewerAmong starts a viewer at viewerIP whose peers are peers under the test's control at ips,
// of roles, each claiming piece h (a keyframe piece, its header in the HELLO if withHeader) and
// unchoking the viewer; it returns the viewer and the peers as they connect, in the order of ips.
func viewerAmong(t *testing.T, ctx context.Context, f *transport.File, h *wire.PieceHeader, withHeader bool, roles []uint8, viewerIP string, ips ...string) (*testNode, []*attacker) {
	t.Helper()
	return nodeAmong(t, ctx, wire.RoleViewer, f, h, withHeader, roles, viewerIP, ips...)
}

// nodeAmong is viewerAmong for a node of any role.
func nodeAmong(t *testing.T, ctx context.Context, role uint8, f *transport.File, h *wire.PieceHeader, withHeader bool, roles []uint8, nodeIP string, ips ...string) (*testNode, []*attacker) {
	t.Helper()
	n := h.Number
	hello := func(i int) []*wire.Message {
		m := &wire.Message{Type: wire.Hello, Role: roles[i], Window: wire.WindowInfo{First: n, Last: n, Keyframe: n}}
		if withHeader {
			m.Header = h
		}
		return []*wire.Message{m, {Type: wire.Unchoke}}
	}
	addrs, conns := rawPeers(t, f.InfoHash(), hello, ips...)
	viewer := startNode(t, ctx, nodeIP, Config{Role: role, File: f, Peers: addrs})
	var peers []*attacker
	for _, c := range conns {
		peers = append(peers, <-c)
	}
	return viewer, peers
}

// blockOf is block i of a piece's data, in f's block length.
func blockOf(f *transport.File, data []byte, i uint16) []byte {
	bl := int(f.Info.BlockLength)
	return data[int(i)*bl : min(len(data), int(i+1)*bl)]
}
