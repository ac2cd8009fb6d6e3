package swarm

import (
	"net"

	"golang.org/x/sys/unix"
)

// limitUnsent keeps at most unsentLimit bytes of a TCP peer connection's writes unsent in the
// kernel (TCP_NOTSENT_LOWAT): beyond that a write waits, so the backlog of a small upload stays
// in the connection's own queues, where control messages overtake blocks and a CANCEL drops a
// block before it is sent, instead of seconds of it in a socket buffer that autotunes to
// megabytes. Bytes sent and not yet acknowledged are not limited, so neither is throughput.
func limitUnsent(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return // a wrapped connection (the benchmarks' link shaping) keeps its own queue
	}
	if rc, err := tc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, unsentLimit)
		})
	}
}
