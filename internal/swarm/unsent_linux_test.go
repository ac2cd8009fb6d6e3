package swarm

import (
	"net"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
	"golang.org/x/sys/unix"
)

// A peer connection keeps its backlog in its own queue, not in the kernel: towards a peer that
// reads nothing (its receive buffer 64 KiB), the writer hands the socket about the peer's window
// and unsentLimit, not megabytes, and the socket says its limit.
func TestUnsentBytesStayInTheQueue(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	defer peer.Close()
	if rc, err := peer.(*net.TCPConn).SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 64<<10) })
	}
	n := &counters{}
	c := newConn(nc, [20]byte{}, n)
	defer c.close()
	var got int
	if rc, err := nc.(*net.TCPConn).SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { got, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT) })
	}
	if got != unsentLimit {
		t.Fatalf("TCP_NOTSENT_LOWAT is %d, want %d", got, unsentLimit)
	}
	go c.writeLoop()
	for i := range sendQueue {
		c.send(&wire.Message{Type: wire.Piece, Number: uint32(i), Data: make([]byte, 16<<10)})
	}
	time.Sleep(500 * time.Millisecond)
	if sent := n.sent.Load(); sent > 512<<10 {
		t.Fatalf("%d KiB handed to the socket of a peer that reads nothing; want at most 512 KiB", sent>>10)
	}
}
