package swarm

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	dialTimeout = 3 * time.Second
	maxBackoff  = 30 * time.Second
	maxKnown    = 1000
)

type knownAddr struct {
	next    time.Time
	fails   int
	self    bool
	startup bool // a startup node: dialed before other peers
}

type dialResult struct {
	addr netip.AddrPort
	nc   net.Conn
	id   [20]byte
	err  error
}

func (st *loopState) addKnown(addrs []netip.AddrPort) {
	for _, a := range addrs {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if !a.IsValid() || a.Port() == 0 || a == st.self() || st.known[a] != nil || len(st.known) >= maxKnown {
			continue
		}
		st.known[a] = &knownAddr{}
	}
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
	slices.SortFunc(addrs, func(a, b netip.AddrPort) int { // startup nodes first
		return boolInt(st.known[b].startup) - boolInt(st.known[a].startup)
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
		if k != nil {
			k.fails++
			k.next = time.Now().Add(min(maxBackoff, time.Second<<min(k.fails, 5)))
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
		k.fails, k.next = 0, time.Now().Add(time.Second)
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
