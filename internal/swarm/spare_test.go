package swarm

import (
	"testing"

	"github.com/aceswarm/aceswarm/internal/wire"
)

func testConn() *conn {
	return &conn{box: newOutbox(), closed: make(chan struct{}), n: &counters{}, queued: blockQueue{keys: map[blockKey]queuedBlock{}}}
}

// A viewer takes a spare (child, substream) pair while its uplink keeps up and sheds it, telling
// the child, once blocks pile up in its connections; it never sheds below its treeSlots.
func TestAViewerShedsItsSparePairWhenItsUplinkFallsBehind(t *testing.T) {
	st := &loopState{s: &Session{cfg: Config{Role: wire.RoleViewer}}, peers: map[[20]byte]*peer{}}
	for i := range wire.Substreams {
		st.peers[[20]byte{byte(i + 1)}] = &peer{c: testConn(), treeTaken: 1 << i}
	}
	for range 3 * queueDecay {
		st.sampleUplink()
	}
	if got, want := st.slots(), st.treeSlots()+1; got != want {
		t.Fatalf("an idle uplink: %d slots, want %d", got, want)
	}
	spare := &peer{c: testConn(), treeTaken: 1 << 1}
	st.peers[[20]byte{9}] = spare
	busy := st.peers[[20]byte{1}].c
	for b := range uint16(20) { // blocks waiting for a slow uplink
		busy.queued.add(blockKey{1, b}, 16<<10, true)
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
	told := 0
	for _, p := range st.peers {
		if p.treeSent != nil {
			told++
			if _, _, ok := p.c.box.pop(); !ok {
				t.Fatal("the shed child was not sent a TREE")
			}
		}
	}
	if told != 1 {
		t.Fatalf("%d children told, want the one shed", told)
	}
}
