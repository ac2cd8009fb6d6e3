//go:build !linux

package swarm

import "net"

// limitUnsent does nothing where TCP_NOTSENT_LOWAT is not set this way (see unsent_linux.go).
func limitUnsent(net.Conn) {}
