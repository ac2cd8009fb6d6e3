package bench

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/netem"
)

// Network is the bench's model of the links between nodes, all in user space (internal/netem).
type Network struct {
	RTT          time.Duration // round-trip time of every link between nodes
	Jitter       time.Duration // the round trip varies by up to ±Jitter, per write, order kept
	ViewerUpload Rate          // each viewer's upload; zero: unlimited
	ServerUpload Rate          // each source's, support and startup node's upload; zero: unlimited
	NAT          float64       // share of the viewers that accept no incoming connection
	StallLinks   float64       // pauses of 0.2–1 s per second on each link direction
}

// Rate is an upload rate: bits per second, or a multiple of the stream's bitrate.
type Rate struct {
	Bits  float64 // bits per second
	Times float64 // multiple of the bitrate, when Bits is zero
}

// ParseRate reads "3000000", "3M", "750k" (bits per second) or "1.5x" (times the bitrate).
func ParseRate(s string) (Rate, error) {
	bad := fmt.Errorf("%q: want bits per second (3000000, 750k, 3M) or a multiple of the bitrate (1.5x)", s)
	if t, ok := strings.CutSuffix(s, "x"); ok {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || f <= 0 {
			return Rate{}, bad
		}
		return Rate{Times: f}, nil
	}
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1e9, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return Rate{}, bad
	}
	return Rate{Bits: f * mult}, nil
}

// String is the rate as ParseRate reads it; "unlimited" for zero.
func (r Rate) String() string {
	switch {
	case r.Bits > 0:
		return strconv.FormatFloat(r.Bits, 'f', -1, 64)
	case r.Times > 0:
		return strconv.FormatFloat(r.Times, 'f', -1, 64) + "x"
	}
	return "unlimited"
}

// bytesPerSecond resolves the rate against the stream's bitrate; zero for unlimited.
func (r Rate) bytesPerSecond(bitrate int) float64 {
	if r.Bits > 0 {
		return r.Bits / 8
	}
	return r.Times * float64(bitrate) / 8
}

// Profile is a named set of network and churn settings.
type Profile struct {
	Network
	Churn float64
}

// Profiles are the presets of --profile.
var Profiles = map[string]Profile{
	// home: viewers on home links — 100 ms ± 30 ms round trips, an upload of 1.5 times the
	// bitrate, half of them behind a NAT, a fifth replaced each minute.
	"home": {Network: Network{RTT: 100 * time.Millisecond, Jitter: 30 * time.Millisecond,
		ViewerUpload: Rate{Times: 1.5}, NAT: 0.5}, Churn: 0.2},
}

// natDialWait is how long a dial into a NAT takes to fail: the dialer's connect timeout, since
// the NAT drops the SYN (swarm's dial timeout).
const natDialWait = 3 * time.Second

// links gives each node of a run its access link and knows which viewers are behind a NAT.
type links struct {
	net     Network
	bitrate int
	mu      sync.Mutex
	natted  map[netip.Addr]bool
	viewers int // viewers placed so far, for the NAT share
}

func newLinks(n Network, bitrate int) *links {
	return &links{net: n, bitrate: bitrate, natted: map[netip.Addr]bool{}}
}

// placeViewer decides whether the next viewer, at ip, is behind a NAT: exactly the NAT share of
// the viewers placed so far are.
func (l *links) placeViewer(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := l.viewers
	l.viewers++
	nat := int(float64(i+1)*l.net.NAT) > int(float64(i)*l.net.NAT)
	if nat {
		l.natted[ip] = true
	}
	return nat
}

func (l *links) behindNAT(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.natted[ap.Addr().Unmap()]
}

// wrap returns the connection wrapper of a node with the given upload, or nil when the network
// changes nothing. A dial takes one round trip (the TCP handshake); a dial to a viewer behind a
// NAT fails after the connect timeout; every byte the node sends then goes through its link.
func (l *links) wrap(up Rate) func(net.Conn, bool) net.Conn {
	n := l.net
	link := netem.Link{Delay: n.RTT / 2, Jitter: n.Jitter / 2, Stalls: n.StallLinks}
	if bps := up.bytesPerSecond(l.bitrate); bps > 0 {
		link.Up = netem.NewUplink(bps)
	}
	if !link.Shaped() && n.NAT == 0 {
		return nil
	}
	return func(c net.Conn, dialed bool) net.Conn {
		if dialed && l.behindNAT(c.RemoteAddr()) {
			c.Close() // first, so that the wait holds no socket on either end
			time.Sleep(natDialWait)
			return c
		}
		if dialed {
			time.Sleep(2 * link.Delay)
		}
		return netem.Shape(c, link)
	}
}

// natCount is how many viewers were placed behind a NAT.
func (l *links) natCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.natted)
}
