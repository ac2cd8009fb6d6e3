package swarm

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A block still waiting in a connection's queue when the peer cancels it is not written, and
// a block already waiting is not queued a second time.
func TestCancelledBlockIsNotWritten(t *testing.T) {
	local, remote := net.Pipe()
	defer remote.Close()
	c := newConn(local, [20]byte{}, &counters{})
	for n := range uint32(3) {
		if !c.send(&wire.Message{Type: wire.Piece, Number: n, Block: 1, Data: make([]byte, 100)}) {
			t.Fatalf("block %d not queued", n)
		}
	}
	if c.send(&wire.Message{Type: wire.Piece, Number: 2, Block: 1, Data: make([]byte, 100)}) {
		t.Fatal("a block already waiting was queued again")
	}
	if b, ok := c.queued.take(blockKey{1, 1}); !ok || b.size != 100 {
		t.Fatalf("cancel of a waiting block: %+v %v", b, ok)
	}
	if _, ok := c.queued.take(blockKey{7, 1}); ok {
		t.Fatal("cancel of a block never queued reported one")
	}
	go c.writeLoop()
	defer c.close()
	c.send(&wire.Message{Type: wire.Have, Number: 99}) // marks the end
	var got []uint32
	remote.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		frame, err := wire.ReadFrame(remote, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := wire.Decode(frame)
		if m.Type == wire.Piece {
			got = append(got, m.Number)
		}
		if m.Type == wire.Have {
			break
		}
	}
	// the HAVE overtakes blocks still queued: read what follows it too
	for len(got) < 2 {
		frame, err := wire.ReadFrame(remote, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := wire.Decode(frame)
		got = append(got, m.Number)
	}
	remote.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := wire.ReadFrame(remote, nil); err == nil {
		t.Fatal("more blocks written than queued and not cancelled")
	}
	if len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Fatalf("blocks written %v, want [0 2]", got)
	}
}

// A tree parent does not forward a block its child said by CANCEL that it holds, and forwards
// the piece's other blocks: a peer subscribes to a source for every substream, cancels block 1
// of the next pieces, and receives all their blocks but those.
func TestCancelledBlocksAreNotForwarded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, priv := testFile(t)
	src := startNode(t, ctx, "127.0.1.160", Config{Role: wire.RoleSource, File: f})
	a := attack(t, "127.0.1.161", src.addr, f.InfoHash())
	a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}},
		&wire.Message{Type: wire.Subscribe, Mask: allSubstreams})
	const size = 188 * 174 // 8 blocks
	if err := publishSized(ctx, src, priv, 1000, true, size); err != nil {
		t.Fatal(err)
	}
	a.readUntil(t, func(m *wire.Message) bool { return m.Type == wire.Tree && m.Mask == allSubstreams })
	var cancels []*wire.Message
	for n := uint32(1001); n <= 1005; n++ {
		cancels = append(cancels, &wire.Message{Type: wire.Cancel, Number: n, Block: 1})
	}
	a.send(cancels...)
	time.Sleep(200 * time.Millisecond) // the source has read them
	for n := uint32(1001); n <= 1006; n++ {
		if err := publishSized(ctx, src, priv, n, false, size); err != nil {
			t.Fatal(err)
		}
	}
	blocks := map[blockKey]bool{}
	a.readUntil(t, func(m *wire.Message) bool {
		if m.Type == wire.Piece {
			blocks[blockKey{m.Number, m.Block}] = true
		}
		return blocks[blockKey{1006, 7}] // the last block forwarded
	})
	for n := uint32(1001); n <= 1006; n++ {
		for i := range uint16(8) {
			if cancelled := n <= 1005 && i == 1; blocks[blockKey{n, i}] == cancelled {
				t.Errorf("piece %d block %d: forwarded %v, want %v", n, i, blocks[blockKey{n, i}], !cancelled)
			}
		}
	}
}

// readUntil reads the node's messages until done says so, for at most 10 s.
func (a *attacker) readUntil(t *testing.T, done func(*wire.Message) bool) {
	t.Helper()
	a.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		frame, err := wire.ReadFrame(a.nc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := wire.Decode(frame); err == nil && done(m) {
			return
		}
	}
}

// A viewer that gets a block from one peer while it has asked another for it cancels it there:
// two peers under the test's control hold a piece, the viewer asks them for its blocks, and when
// the one not asked for a block sends it unasked, the one asked receives a CANCEL for it. The
// copy the asked one sends anyway is counted as a duplicate.
func TestBlockGotElsewhereIsCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, priv := testFile(t)
	data, h := signedPiece(f, priv, 1000, 188*174) // 8 blocks
	viewer, peers := viewerAmong(t, ctx, f, h, true, []uint8{wire.RoleSupport, wire.RoleSupport}, "127.0.1.170", "127.0.1.171", "127.0.1.172")
	a, b := peers[0], peers[1]
	type ask struct {
		p *attacker
		k blockKey
	}
	asked := make(chan ask, 2)
	for _, p := range []*attacker{a, b} {
		go func() { // reads until the viewer asks p for a block
			p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				frame, err := wire.ReadFrame(p.nc, nil)
				if err != nil {
					return
				}
				if m, _ := wire.Decode(frame); m.Type == wire.Request {
					asked <- ask{p, blockKey{m.Number, m.Block}}
					return
				}
			}
		}()
	}
	var first ask
	select {
	case first = <-asked:
	case <-ctx.Done():
		t.Fatal("the viewer asked neither peer for a block")
	}
	p, k := first.p, first.k
	other := map[*attacker]*attacker{a: b, b: a}[p]
	block := &wire.Message{Type: wire.Piece, Number: k.n, Block: k.block, Data: blockOf(f, data, k.block)}
	other.send(block)
	p.readUntil(t, func(m *wire.Message) bool { return m.Type == wire.Cancel && m.Number == k.n && m.Block == k.block })
	p.send(block)
	waitUntil(t, 5*time.Second, "the second copy counted as a duplicate", func() bool {
		return viewer.sess.Metrics().DuplicateBytes == int64(len(block.Data)) && viewer.sess.Stats().DuplicateMedia == int64(len(block.Data))
	})
}
