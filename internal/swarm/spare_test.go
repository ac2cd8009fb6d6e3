package swarm

import (
	"testing"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A viewer takes a spare (child, substream) pair while its uplink keeps up and, once blocks pile
// up in its connections, sheds the pair of the child that forwards least, telling it; it never
// sheds below its treeSlots.
func TestAViewerShedsItsSparePairWhenItsUplinkFallsBehind(t *testing.T) {
	st := &loopState{s: &Session{cfg: Config{Role: wire.RoleViewer}}, peers: map[[20]byte]*peer{}}
	child := func(id byte, mask uint16, free uint8) *peer {
		p := pipePeer(t, st, id) // nothing reads: what is sent waits in the connection
		p.treeTaken, p.free = mask, free
		return p
	}
	for i := range wire.Substreams {
		child(byte(i+1), 1<<i, 0)
	}
	for range 3 * queueDecay {
		st.sampleUplink()
	}
	if got, want := st.slots(), st.treeSlots()+1; got != want {
		t.Fatalf("an idle uplink: %d slots, want %d", got, want)
	}
	leaf := child(9, 1<<1, 4) // the spare pair, to a child with room of its own: a leaf
	busy := st.peers[[20]byte{1}].c
	for b := range uint16(20) { // blocks waiting for a slow uplink
		if !busy.send(&wire.Message{Type: wire.Piece, Number: 1, Block: b, Data: make([]byte, 100)}) {
			t.Fatalf("block %d not queued", b)
		}
	}
	for range 3 * queueDecay {
		st.sampleUplink()
	}
	if got, want := st.taken(), st.treeSlots(); got != want {
		t.Fatalf("a busy uplink: %d pairs taken, want %d", got, want)
	}
	if got := st.slots(); got != st.treeSlots() {
		t.Fatalf("a busy uplink: %d slots, want %d", got, st.treeSlots())
	}
	for id, p := range st.peers {
		if told := p.treeSent != nil; told != (p == leaf) {
			t.Fatalf("child %d told %v; want only the leaf told", id[0], told)
		}
	}
	if leaf.treeTaken != 0 || leaf.treeSent.mask != 0 {
		t.Fatalf("the leaf keeps substreams %b (told %b)", leaf.treeTaken, leaf.treeSent.mask)
	}
}
