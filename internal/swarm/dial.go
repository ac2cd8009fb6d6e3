package swarm

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
	"golang.org/x/time/rate"
)

const dialTimeout = 3 * time.Second

// Dial pacing: a node with fewer than half its peer limit makes up to dialBurst connections at
// once, then dialsFilling a second; one with at least half, dialsTopping a second. Only a dial
// that gets a handshake takes a turn (a dial in flight holds one), so that junk addresses, where
// nothing listens or answers, are tried and forgotten at once. Where open slots are scarce (many
// NATed viewers, every node short of its limit) the connections of nodes that never stop
// looking, to nodes that are full and close them, would otherwise take the CPU of everyone they
// reach: 300 viewers of --profile home dialed 1,600 times a second.
var (
	dialsFilling = rate.Every(time.Second)
	dialsTopping = rate.Every(2 * time.Second)
)

const dialBurst = 16

type dialResult struct {
	addr netip.AddrPort
	nc   net.Conn
	id   [20]byte
	err  error
}

func (st *loopState) addKnown(addrs []netip.AddrPort) { st.book.add(addrs, time.Now()) }

// addFileAddrs learns the addresses the transport file names: its startup nodes, and the
// address of each tracker given as IP:port, since a node running the built-in tracker (a source,
// most often) serves peers on the same port. A newcomer dials those before anything a tracker
// or PEX returns, so junk a polluted tracker hands out cannot starve it; a tracker that is not a
// node fails the handshake and is backed off like any address.
func (st *loopState) addFileAddrs(f *transport.File) {
	st.addStartupNodes(parseAddrs(f.StartupNodes))
	st.addNamed(trackerHosts(f.Trackers()))
	st.dialMore()
}

// addNamed learns addresses the transport file or the node's settings name.
func (st *loopState) addNamed(addrs []netip.AddrPort) { st.book.addNamed(addrs, time.Now()) }

// trackerHosts returns the IP:port of each http(s) tracker URL whose host is an IP literal with
// an explicit port; names would need a lookup on the session's loop.
func trackerHosts(urls []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Port() == "" {
			continue
		}
		if ap, err := netip.ParseAddrPort(u.Host); err == nil {
			out = append(out, ap)
		}
	}
	return out
}

// dialMore dials known addresses, best first, until the peer limit, at the dial pace; with a
// download list, only those.
func (st *loopState) dialMore() {
	pace := dialsFilling
	if 2*len(st.peers) >= st.s.cfg.MaxPeers {
		pace = dialsTopping
	}
	now := time.Now()
	st.dialPace.SetLimitAt(now, pace)
	inFlight := st.book.inFlight()
	room := min(st.s.cfg.MaxPeers-len(st.peers), int(st.dialPace.TokensAt(now))) - inFlight
	if room <= 0 {
		return
	}
	connected := make(map[netip.AddrPort]bool, len(st.peers))
	for _, p := range st.peers {
		connected[p.listen] = true
	}
	limited := len(st.s.cfg.DownloadFrom) > 0
	skip := func(a netip.AddrPort) bool {
		return connected[a] || st.isBanned(a.Addr()) || limited && !st.mayDownloadFrom(a)
	}
	for _, a := range st.book.candidates(now, skip, room) {
		st.book.dialStarted(a)
		st.wg.Go(func() { st.dial(a) })
	}
}

func (st *loopState) dial(a netip.AddrPort) {
	nc, id, err := dialPeer(st.ctx, st.s.dialPeerConn, st.s.cfg.WrapConn, a, wire.Handshake{InfoHash: st.s.cfg.InfoHash, PeerID: st.s.cfg.PeerID})
	select {
	case st.s.dialed <- dialResult{a, nc, id, err}:
	case <-st.ctx.Done():
		if nc != nil {
			nc.Close()
		}
	}
}

func (st *loopState) dialDone(r dialResult) {
	now := time.Now()
	if r.err != nil {
		st.book.failed(r.addr, now)
		st.s.log.Debug("dial failed", "addr", r.addr.String(), "err", r.err)
		return
	}
	st.dialPace.ReserveN(now, 1) // a connection made takes its turn, in debt if need be
	ours := r.id == st.s.cfg.PeerID
	st.book.answered(r.addr, ours, now)
	if ours {
		r.nc.Close()
		return
	}
	st.addConn(r.nc, r.id, r.addr)
}

// dialPeer connects to a (through wrap, when set) and exchanges handshakes.
func dialPeer(ctx context.Context, dial func(context.Context, string) (net.Conn, error), wrap func(net.Conn) net.Conn, a netip.AddrPort, hs wire.Handshake) (net.Conn, [20]byte, error) {
	nc, err := dial(ctx, a.String())
	if err != nil {
		return nil, [20]byte{}, err
	}
	if wrap != nil {
		nc = wrap(nc)
	}
	nc.SetDeadline(time.Now().Add(handshakeWait))
	if _, err := nc.Write(hs.Marshal()); err != nil {
		nc.Close()
		return nil, [20]byte{}, err
	}
	theirs, err := wire.ReadHandshake(nc)
	if err == nil && theirs.InfoHash != hs.InfoHash {
		err = fmt.Errorf("peer %s answered for another stream", a)
	}
	if err != nil {
		nc.Close()
		return nil, [20]byte{}, err
	}
	nc.SetDeadline(time.Time{})
	return nc, theirs.PeerID, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
