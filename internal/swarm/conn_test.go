package swarm

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A reader blocked handing over a message when its connection is closed from this side must still
// report the end as an error: an event with neither message nor error crashed the session loop.
func TestReaderClosedWhileDeliveringReportsError(t *testing.T) {
	local, remote := net.Pipe()
	defer remote.Close()
	var sent, recv atomic.Int64
	c := newConn(local, [20]byte{}, &sent, &recv)
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
