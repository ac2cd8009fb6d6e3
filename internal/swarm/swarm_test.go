package swarm

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

type testNode struct {
	host *Host
	sess *Session
	addr netip.AddrPort
}

func testFile(t *testing.T) (*transport.File, ed25519.PrivateKey) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	f := &transport.File{Info: transport.Info{
		Name: "t", Title: "T", Quality: "SD", Category: "sport", Bitrate: 100000, PieceLength: 64 << 10,
		BlockLength: 1 << 12, SignatureAlgorithm: "ed25519", PublicKey: string(pub), Live: 1,
	}}
	return f, priv
}

func startNode(t *testing.T, ctx context.Context, ip string, cfg Config) *testNode {
	t.Helper()
	return startNodeAt(t, ctx, netip.AddrPortFrom(netip.MustParseAddr(ip), 0), cfg)
}

// testConfig completes cfg for a test node listening at addr: its identity, the tests' limits
// and cache, and the stream's infohash from its transport file.
func testConfig(cfg Config, addr netip.AddrPort) Config {
	cfg.PeerID, cfg.Bind, cfg.ListenPort = NewPeerID(), addr.Addr(), addr.Port()
	cfg.MaxPeers, cfg.MaxUploadSlots = 20, 20
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 8 << 20
	}
	if cfg.File != nil {
		cfg.InfoHash = cfg.File.InfoHash()
		cfg.Raw, _ = cfg.File.Encode()
	}
	return cfg
}

func startNodeAt(t *testing.T, ctx context.Context, at netip.AddrPort, cfg Config) *testNode {
	t.Helper()
	ln, err := net.Listen("tcp", at.String())
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	cfg = testConfig(cfg, addr) // the host answers handshakes with cfg.PeerID
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHost(ln, cfg.PeerID, http.NotFoundHandler(), s.log)
	h.Add(s)
	done := make(chan struct{}, 2)
	go func() { h.Run(ctx); done <- struct{}{} }()
	go func() { s.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { <-done; <-done })
	return &testNode{h, s, addr}
}

// publish makes and publishes piece n; it returns an error once ctx ends.
func publish(ctx context.Context, src *testNode, priv ed25519.PrivateKey, n uint32, key bool) error {
	return publishSized(ctx, src, priv, n, key, 188*50)
}

// publishSized publishes piece n of size bytes (even).
func publishSized(ctx context.Context, src *testNode, priv ed25519.PrivateKey, n uint32, key bool, size int) error {
	f, _ := src.sess.File()
	data := bytes.Repeat([]byte{byte(n), 0x47}, size/2)
	kf := int32(-1)
	if key {
		kf = 0
	}
	h := wire.NewHeader(priv, f.InfoHash(), n, time.Now().UnixMilli(), kf, data, int(f.Info.BlockLength))
	return src.sess.Publish(ctx, h, data)
}

func readPieces(t *testing.T, ctx context.Context, s *Session, count int) []livebuf.Chunk {
	t.Helper()
	select {
	case <-s.Ready():
	case <-ctx.Done():
		t.Fatal("transport file never arrived")
	}
	_, buf := s.File()
	r := buf.NewReader()
	var out []livebuf.Chunk
	for len(out) < count {
		p, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("after %d pieces: %v", len(out), err)
		}
		out = append(out, p)
	}
	return out
}

// A viewer that knows only the infohash and one address gets the transport file and the pieces,
// through a relay that downloads only from the source.
func TestPiecesFlowSourceRelayViewer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, priv := testFile(t)
	src := startNode(t, ctx, "127.0.0.1", Config{Role: wire.RoleSource, File: f})
	relay := startNode(t, ctx, "127.0.0.2", Config{Role: wire.RoleSupport, File: f, DownloadFrom: []netip.AddrPort{src.addr}})
	viewer := startNode(t, ctx, "127.0.0.3", Config{Role: wire.RoleViewer, InfoHash: f.InfoHash(), Peers: []netip.AddrPort{relay.addr}})
	published := make(chan error, 1)
	go func() {
		for n := uint32(100); n < 200; n++ {
			if err := publish(ctx, src, priv, n, n%4 == 0); err != nil {
				published <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		published <- nil
	}()
	defer func() { cancel(); <-published }()
	got := readPieces(t, ctx, viewer.sess, 10)
	for i, p := range got {
		if i == 0 && !p.Header.HasKeyframe() {
			t.Fatal("viewer did not start at a keyframe")
		}
		if i > 0 && p.Header.Number != got[i-1].Header.Number+1 {
			t.Fatalf("piece %d after %d", p.Header.Number, got[i-1].Header.Number)
		}
		if p.Data[0] != byte(p.Header.Number) {
			t.Fatal("wrong data")
		}
	}
	if st := src.sess.Stats(); st.UploadedMedia == 0 {
		t.Fatal("source uploaded nothing")
	}
}

// A peer that sends one forged block is dropped and banned, and the forged bytes are never stored.
func TestForgedBlockBansPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, priv := testFile(t)
	ih := f.InfoHash()
	ln, err := net.Listen("tcp", "127.0.0.5:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	evil := netip.MustParseAddrPort(ln.Addr().String())
	viewer := startNode(t, ctx, "127.0.0.6", Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{evil}})

	data := bytes.Repeat([]byte{0x47}, 188*40)
	h := wire.NewHeader(priv, ih, 7, time.Now().UnixMilli(), 0, data, int(f.Info.BlockLength))
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := wire.ReadHandshake(nc); err != nil {
		t.Fatal(err)
	}
	nc.Write(wire.Handshake{InfoHash: ih, PeerID: NewPeerID()}.Marshal())
	var out []byte
	out = (&wire.Message{Type: wire.Hello, Role: wire.RoleSupport, Port: evil.Port(), Window: wire.WindowInfo{First: 7, Last: 7, Keyframe: 7}, Header: h}).Append(out)
	out = (&wire.Message{Type: wire.Unchoke}).Append(out)
	nc.Write(out)
	// Answer the first block request with forged bytes.
	for {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		frame, err := wire.ReadFrame(nc, nil)
		if err != nil {
			t.Fatalf("no request came: %v", err)
		}
		m, _ := wire.Decode(frame)
		if m.Type != wire.Request {
			continue
		}
		forged := bytes.Clone(data[:h.BlockSize(int(m.Block), int(f.Info.BlockLength))])
		forged[10] ^= 0xff
		nc.Write((&wire.Message{Type: wire.Piece, Number: m.Number, Block: m.Block, Data: forged}).Append(nil))
		break
	}
	// The viewer hangs up on us...
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := wire.ReadFrame(nc, nil); err != nil {
			break
		}
	}
	// ...refuses us when we come back...
	c2, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 5)}, net.TCPAddrFromAddrPort(viewer.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write(wire.Handshake{InfoHash: ih, PeerID: NewPeerID()}.Marshal())
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	wire.ReadHandshake(c2)
	if _, err := wire.ReadFrame(c2, nil); err == nil {
		t.Fatal("banned peer was served")
	}
	// ...and nothing forged reached the buffer or a reader.
	_, buf := viewer.sess.File()
	if buf.Get(7) != nil {
		t.Fatal("piece with a forged block completed")
	}
	rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer rcancel()
	if p, err := buf.NewReader().Next(rctx); err == nil {
		t.Fatalf("reader got piece %d", p.Header.Number)
	}
}

// Two nodes that dial each other at the same moment end up with one connection, not zero.
func TestSimultaneousDialsKeepOneConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, _ := testFile(t)
	lnA, _ := net.Listen("tcp", "127.0.0.7:0")
	lnB, _ := net.Listen("tcp", "127.0.0.8:0")
	addrA, addrB := netip.MustParseAddrPort(lnA.Addr().String()), netip.MustParseAddrPort(lnB.Addr().String())
	lnA.Close()
	lnB.Close()
	a := startNodeAt(t, ctx, addrA, Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{addrB}})
	b := startNodeAt(t, ctx, addrB, Config{Role: wire.RoleViewer, File: f, Peers: []netip.AddrPort{addrA}})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if a.sess.Stats().Peers == 1 && b.sess.Stats().Peers == 1 {
			time.Sleep(1500 * time.Millisecond) // and it stays so
			if a.sess.Stats().Peers == 1 && b.sess.Stats().Peers == 1 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("peers: a=%d b=%d, want 1 and 1", a.sess.Stats().Peers, b.sess.Stats().Peers)
}
