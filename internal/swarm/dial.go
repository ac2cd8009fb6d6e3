package swarm

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	dialTimeout = 3 * time.Second
	maxBackoff  = 30 * time.Second
	maxKnown    = 1000
)

// The address book holds at most maxKnown addresses. An address that never answered is forgotten
// at its first failed dial (trackers and PEX hand live peers out again), and a full book makes
// room for a new address by forgetting the worst one that never answered (most failed dials, then
// the oldest); addresses that answered a handshake for the stream (good), startup nodes and
// addresses the transport file or the node's settings name are kept. Dialing goes by startup nodes, then addresses the transport file names (it is
// authenticated by the infohash), then good addresses, then those learned from the most sources,
// then the fewest failures, so that junk pushed by PEX or a polluted tracker cannot starve a
// newcomer.
type knownAddr struct {
	next    time.Time
	fails   int
	self    bool
	startup bool // a startup node: dialed before other peers
	named   bool // named by the transport file (a tracker's IP:port) or the node's settings: dialed next
	good    bool // it answered a handshake for this stream
	sources int  // how many times it was learned (trackers, PEX, the transport file)
	learned time.Time
}

// backoff is how long to wait before dialing again after a failure: 2 s, doubling, at most
// maxBackoff; an address that answered before (a node restarting, most likely) is tried every
// second for its first goodRetries failures.
func (k *knownAddr) backoff() time.Duration {
	exp := k.fails
	if k.good {
		if exp <= goodRetries {
			return time.Second
		}
		exp -= goodRetries
	}
	return min(maxBackoff, time.Second<<min(exp, 5))
}

const goodRetries = 8

type dialResult struct {
	addr netip.AddrPort
	nc   net.Conn
	id   [20]byte
	err  error
}

func (st *loopState) addKnown(addrs []netip.AddrPort) {
	now := time.Now()
	for _, a := range addrs {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if !a.IsValid() || a.Port() == 0 || a == st.self() {
			continue
		}
		if k := st.known[a]; k != nil {
			k.sources = min(k.sources+1, 100)
			continue
		}
		if len(st.known) >= maxKnown && !st.forgetWorst() {
			continue
		}
		st.known[a] = &knownAddr{sources: 1, learned: now}
		st.knownPeak = max(st.knownPeak, len(st.known))
	}
}

// compactKnown rebuilds the address book's map once it holds less than half its peak: a Go map
// keeps the room of its largest size, so PEX spam forgotten would otherwise still cost it.
func (st *loopState) compactKnown() {
	if st.knownPeak < 64 || len(st.known) > st.knownPeak/2 {
		return
	}
	m := make(map[netip.AddrPort]*knownAddr, len(st.known))
	for a, k := range st.known {
		m[a] = k
	}
	st.known, st.knownPeak = m, len(m)
}

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

// addNamed learns addresses the transport file or the node's settings name: kept for good, and
// dialed right after startup nodes.
func (st *loopState) addNamed(addrs []netip.AddrPort) {
	st.addKnown(addrs)
	for _, a := range addrs {
		if k := st.known[netip.AddrPortFrom(a.Addr().Unmap(), a.Port())]; k != nil && !k.named {
			k.named, k.next = true, time.Time{}
		}
	}
}

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

// forgetWorst removes the worst address that never answered; false when there is none.
func (st *loopState) forgetWorst() bool {
	var worst netip.AddrPort
	var wk *knownAddr
	for a, k := range st.known {
		if k.good || k.startup || k.named || st.dialing[a] {
			continue
		}
		if wk == nil || k.fails > wk.fails || k.fails == wk.fails && k.learned.Before(wk.learned) {
			worst, wk = a, k
		}
	}
	if wk == nil {
		return false
	}
	delete(st.known, worst)
	return true
}

func (st *loopState) connected(a netip.AddrPort) bool {
	for _, p := range st.peers {
		if p.listen == a {
			return true
		}
	}
	return false
}

// dialMore dials known addresses until the peer limit; with a download list, only those.
func (st *loopState) dialMore() {
	now := time.Now()
	limited := len(st.s.cfg.DownloadFrom) > 0
	addrs := make([]netip.AddrPort, 0, len(st.known))
	for a := range st.known {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b netip.AddrPort) int {
		ka, kb := st.known[a], st.known[b]
		if c := boolInt(kb.startup) - boolInt(ka.startup); c != 0 {
			return c
		}
		if c := boolInt(kb.named) - boolInt(ka.named); c != 0 {
			return c
		}
		if c := boolInt(kb.good) - boolInt(ka.good); c != 0 {
			return c
		}
		if c := kb.sources - ka.sources; c != 0 {
			return c
		}
		return ka.fails - kb.fails
	})
	for _, a := range addrs {
		k := st.known[a]
		if len(st.peers)+len(st.dialing) >= st.s.cfg.MaxPeers {
			return
		}
		if k.self || st.dialing[a] || now.Before(k.next) || st.isBanned(a.Addr()) || st.connected(a) {
			continue
		}
		if limited && !st.mayDownloadFrom(a) {
			continue
		}
		st.dialing[a] = true
		st.wg.Go(func() { st.dial(a) })
	}
}

func (st *loopState) dial(a netip.AddrPort) {
	nc, id, err := dialPeer(st.ctx, st.s.dialer(), st.s.cfg.WrapConn, a, wire.Handshake{InfoHash: st.s.cfg.InfoHash, PeerID: st.s.cfg.PeerID})
	select {
	case st.s.dialed <- dialResult{a, nc, id, err}:
	case <-st.ctx.Done():
		if nc != nil {
			nc.Close()
		}
	}
}

func (st *loopState) dialDone(r dialResult) {
	delete(st.dialing, r.addr)
	k := st.known[r.addr]
	if r.err != nil {
		if k != nil && !k.good && !k.startup && !k.named {
			delete(st.known, r.addr)
		} else if k != nil {
			k.fails++
			k.next = time.Now().Add(k.backoff())
		}
		st.s.log.Debug("dial failed", "addr", r.addr.String(), "err", r.err)
		return
	}
	if r.id == st.s.cfg.PeerID {
		if k != nil {
			k.self = true
		}
		r.nc.Close()
		return
	}
	if k != nil {
		k.fails, k.next, k.good = 0, time.Now().Add(time.Second), true
	}
	st.addConn(r.nc, r.id, r.addr)
}

// dialPeer connects to a (through wrap, when set) and exchanges handshakes.
func dialPeer(ctx context.Context, d *net.Dialer, wrap func(net.Conn) net.Conn, a netip.AddrPort, hs wire.Handshake) (net.Conn, [20]byte, error) {
	nc, err := d.DialContext(ctx, "tcp", a.String())
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
