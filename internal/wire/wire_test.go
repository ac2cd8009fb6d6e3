package wire

import (
	"bytes"
	"crypto/ed25519"
	"net/netip"
	"reflect"
	"testing"
)

func testHeader(t testing.TB) (*PieceHeader, ed25519.PublicKey, []byte) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	data := bytes.Repeat([]byte{0x47}, 188*200)
	return NewHeader(priv, [20]byte{1}, 7, 1700000000000, 376, data, 16384), pub, data
}

func TestHeaderSignAndVerify(t *testing.T) {
	h, pub, data := testHeader(t)
	if err := h.Verify(pub, [20]byte{1}, 1<<20, 16384); err != nil {
		t.Fatal(err)
	}
	g, err := UnmarshalHeader(h.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, h) {
		t.Fatal("header changed on round trip")
	}
	for i := range h.Blocks {
		if err := g.CheckBlock(i, 16384, data[i*16384:min((i+1)*16384, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	forged := bytes.Clone(data[:16384])
	forged[100] ^= 1
	if g.CheckBlock(0, 16384, forged) == nil {
		t.Fatal("forged block accepted")
	}
	g.Number++
	if g.Verify(pub, [20]byte{1}, 1<<20, 16384) == nil {
		t.Fatal("tampered header verified")
	}
	if h.Verify(pub, [20]byte{2}, 1<<20, 16384) == nil {
		t.Fatal("header of another stream verified")
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	h, _, _ := testHeader(t)
	msgs := []*Message{
		{Type: KeepAlive},
		{Type: Hello, Role: RoleSupport, Port: 8621, Window: WindowInfo{First: 1, Last: 9, Keyframe: 8}, Header: h},
		{Type: Hello, Role: RoleViewer, Port: 1, Window: WindowInfo{Empty: true, NoKeyframe: true}},
		{Type: Window, Window: WindowInfo{First: 3, Last: 4, Keyframe: 3}},
		{Type: Have, Number: 42, Keyframe: true},
		{Type: GetHeader, Number: 5},
		{Type: Header, Header: h},
		{Type: Request, Number: 5, Block: 2},
		{Type: Piece, Number: 5, Block: 2, Data: []byte("abc")},
		{Type: Cancel, Number: 5, Block: 2},
		{Type: Reject, Number: 5, Block: HeaderBlock},
		{Type: Choke}, {Type: Unchoke}, {Type: GetMetadata},
		{Type: Pex, Peers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:7764"), netip.MustParseAddrPort("[::1]:80")}},
		{Type: Metadata, Data: []byte("d4:infodee")},
		{Type: Subscribe, Mask: 0b1010},
		{Type: Tree, Mask: 0b0001, Free: 3, Reply: true, Depths: [Substreams]uint8{1, 2, NoDepth, 0}},
	}
	var stream []byte
	for _, m := range msgs {
		stream = m.Append(stream)
	}
	r := bytes.NewReader(stream)
	for _, want := range msgs {
		b, err := ReadFrame(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%d: %v", want.Type, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("type %d: got %+v want %+v", want.Type, got, want)
		}
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{{99}, {byte(Have), 1}, {byte(Choke), 1}, {byte(Pex), 5, 1}, {byte(Header), 1, 2}, {byte(Subscribe), 1}, {byte(Tree), 0, 1, 2}} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%v decoded", b)
		}
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), nil); err == nil {
		t.Error("oversized frame read")
	}
}

func TestHandshake(t *testing.T) {
	h := Handshake{InfoHash: [20]byte{1, 2}, PeerID: [20]byte{3}}
	b := h.Marshal()
	if len(b) != HandshakeSize || b[0] != FirstByte {
		t.Fatalf("bad handshake bytes %x", b)
	}
	g, err := ReadHandshake(bytes.NewReader(b))
	if err != nil || g != h {
		t.Fatal(err)
	}
	b[3] = 'x'
	if _, err := ReadHandshake(bytes.NewReader(b)); err == nil {
		t.Fatal("bad protocol string accepted")
	}
}

func FuzzDecode(f *testing.F) {
	h, _, _ := testHeader(f)
	for _, m := range []*Message{{Type: Hello, Header: h}, {Type: Piece, Data: []byte("x")}, {Type: Pex, Peers: []netip.AddrPort{netip.MustParseAddrPort("1.2.3.4:5")}}} {
		f.Add(m.Append(nil)[4:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(m.Append(nil)[4:])
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("changed on re-encode: %+v vs %+v", again, m)
		}
	})
}

func BenchmarkDecodePiece(b *testing.B) {
	frame := (&Message{Type: Piece, Number: 1, Block: 1, Data: make([]byte, 16384)}).Append(nil)[4:]
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}
