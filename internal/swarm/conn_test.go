package swarm

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A reader blocked handing over a message when its connection is closed from this side must still
// report the end as an error: an event with neither message nor error crashed the session loop.
func TestReaderClosedWhileDeliveringReportsError(t *testing.T) {
	local, remote := net.Pipe()
	defer remote.Close()
	c := newConn(local, [20]byte{}, &counters{})
	inbox := make(chan event) // unbuffered: the reader blocks delivering the first message
	go c.readLoop(context.Background(), inbox)
	go remote.Write((&wire.Message{Type: wire.Have, Number: 7}).Append(nil))
	time.Sleep(100 * time.Millisecond) // the reader has the message and waits on inbox
	c.close()
	select {
	case ev := <-inbox:
		if ev.msg == nil && ev.err == nil {
			t.Fatal("event with neither message nor error")
		}
		if ev.msg != nil { // the message won the race; the end must follow
			ev = <-inbox
		}
		if ev.err == nil {
			t.Fatal("end of reader reported without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader never reported its end")
	}
}

// Blocks beyond the queue are dropped and counted; a control message sent after them is never
// dropped and goes out before the queued blocks; a peer that lets control messages pile up is
// hung up on.
func TestControlLane(t *testing.T) {
	local, remote := net.Pipe()
	defer remote.Close()
	n := &counters{}
	c := newConn(local, [20]byte{}, n)
	go c.writeLoop()
	const blocks = 600
	for i := range blocks {
		c.send(&wire.Message{Type: wire.Piece, Number: uint32(i), Data: make([]byte, 100)})
	}
	time.Sleep(50 * time.Millisecond)
	if !c.send(&wire.Message{Type: wire.Unchoke}) {
		t.Fatal("a control message was dropped behind blocks")
	}
	if d := n.dropped.Load(); d < blocks-sendQueue-1 || d > blocks-sendQueue {
		t.Fatalf("%d blocks counted as dropped, want %d or %d", d, blocks-sendQueue-1, blocks-sendQueue)
	}
	for i := range 2 {
		frame, err := wire.ReadFrame(remote, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := wire.Decode(frame); m.Type == wire.Unchoke {
			break
		} else if i == 1 {
			t.Fatal("UNCHOKE did not overtake the queued blocks")
		}
	}

	stuck, peer := net.Pipe()
	defer peer.Close()
	s := newConn(stuck, [20]byte{}, &counters{})
	go s.writeLoop()
	for range ctrlQueue + 2 {
		s.send(&wire.Message{Type: wire.Have, Number: 1})
	}
	select {
	case <-s.closed:
	case <-time.After(time.Second):
		t.Fatal("a peer that reads nothing kept its connection")
	}
}
