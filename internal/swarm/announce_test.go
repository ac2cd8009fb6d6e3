package swarm

import (
	"bytes"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// queuedTypes drains what waits in p's connection and returns the types of its messages.
func queuedTypes(t *testing.T, p *peer) []wire.Type {
	t.Helper()
	var types []wire.Type
	for {
		b, _, ok := p.c.box.pop()
		if !ok {
			return types
		}
		frame, err := wire.ReadFrame(bytes.NewReader(b), nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := wire.Decode(frame)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, m.Type)
	}
}

// pipePeer adds a peer that said HELLO, over a connection whose writer does not run, to st.
func pipePeer(t *testing.T, st *loopState, id byte) *peer {
	local, remote := net.Pipe()
	t.Cleanup(func() { local.Close(); remote.Close() })
	p := &peer{c: newConn(local, [20]byte{id}, &counters{}), hello: true, haves: map[uint32]bool{}}
	st.peers[[20]byte{id}] = p
	return p
}

// A completed piece is announced to the peers that did not announce it themselves, and to
// children whether or not they did.
func TestHaveGoesOnlyToPeersWithoutThePiece(t *testing.T) {
	st := &loopState{s: &Session{cfg: Config{Role: wire.RoleViewer}}, peers: map[[20]byte]*peer{}}
	lacking, holding, silent, child := pipePeer(t, st, 1), pipePeer(t, st, 2), pipePeer(t, st, 3), pipePeer(t, st, 4)
	holding.haves[7], child.haves[7], child.treeTaken = true, true, 1
	silent.hello = false
	st.announce(7, true)
	for _, p := range []*peer{lacking, child} {
		if got := queuedTypes(t, p); !slices.Equal(got, []wire.Type{wire.Have}) {
			t.Fatalf("peer %d was sent %v, want one HAVE", p.c.id[0], got)
		}
	}
	if got := queuedTypes(t, holding); len(got) != 0 {
		t.Fatalf("the peer that announced piece 7 was sent %v, want nothing", got)
	}
	if got := queuedTypes(t, silent); len(got) != 0 {
		t.Fatalf("a peer before HELLO was sent %v, want nothing", got)
	}
}

// A node tells its peers where its window starts at most every 4 s, however fast the
// start moves: here the source makes a piece every 50 ms and keeps 256 KiB of them.
func TestWindowStartIsToldAtTheWindowPace(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	_, f, src, _ := liveViewerCache(t, 30*time.Second, "127.0.1.200", "127.0.1.201", 256<<10)
	a := attack(t, "127.0.1.202", src.addr, f.InfoHash())
	a.send(&wire.Message{Type: wire.Hello, Role: wire.RoleViewer, Port: 9, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}})
	const watch = 9 * time.Second
	a.nc.SetReadDeadline(time.Now().Add(watch))
	var firsts []uint32
	for {
		frame, err := wire.ReadFrame(a.nc, nil)
		if err != nil {
			break // the deadline
		}
		if m, err := wire.Decode(frame); err == nil && m.Type == wire.Window {
			firsts = append(firsts, m.Window.First)
		}
	}
	most := int(watch/(4*time.Second)) + 1 // docs/protocol.md, not windowEvery: a test of the constant
	if len(firsts) == 0 || len(firsts) > most {
		t.Fatalf("%d WINDOWs in %v (starts %v), want 1 to %d", len(firsts), watch, firsts, most)
	}
	if !slices.IsSorted(firsts) {
		t.Fatalf("window starts %v go back", firsts)
	}
}
