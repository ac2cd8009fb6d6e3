package swarm

import (
	"net/netip"
	"slices"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	maxBackoff  = 30 * time.Second
	maxKnown    = 1000
	goodRetries = 8
	refuseWait  = 4 * time.Second
)

// addrBook is the addresses a node may dial for one stream, with what it knows of each. It holds
// at most maxKnown. An address that never answered is forgotten at its first failed dial
// (trackers and PEX hand live peers out again), and so is a viewer that answered before (it left
// the stream); a full book makes room for a new address by forgetting the worst one that never
// answered (most failed dials, then the oldest); addresses that answered a handshake for the
// stream (good), startup nodes, addresses the transport file or the node's settings name, and
// addresses being dialed are kept. A node that ends our connection before HELLO (full) waits
// refuseWait, doubling. Dialing goes by startup nodes,
// then named addresses (the transport file is authenticated by the infohash), then good ones,
// then those learned from the most sources, then the fewest failures, so that junk pushed by PEX
// or a polluted tracker cannot starve a newcomer. The session loop owns it.
type addrBook struct {
	self    netip.AddrPort // this node's own listening address, never added
	m       map[netip.AddrPort]*knownAddr
	peak    int // the most addresses held since the map was last rebuilt (see compact)
	dialing map[netip.AddrPort]bool
}

type knownAddr struct {
	next    time.Time
	fails   int
	self    bool // it answered with our own peer id
	startup bool // a startup node: dialed before other peers
	named   bool // named by the transport file (a tracker's IP:port) or the node's settings: dialed next
	good    bool // it answered a handshake for this stream
	server  bool // it said HELLO as a source, support or startup node
	refused int  // connections it ended before HELLO since it last said HELLO
	sources int  // how many times it was learned (trackers, PEX, the transport file)
	learned time.Time
}

func newAddrBook(self netip.AddrPort) *addrBook {
	return &addrBook{self: self, m: map[netip.AddrPort]*knownAddr{}, dialing: map[netip.AddrPort]bool{}}
}

// backoff is how long to wait before dialing a kept address again after a failure (a viewer's is
// forgotten instead): 2 s, doubling, at most maxBackoff; one that answered before (a node
// restarting, most likely) is tried every second for its first goodRetries failures.
func (k *knownAddr) backoff() time.Duration {
	exp := k.fails
	if k.good {
		if exp <= goodRetries {
			return time.Second
		}
		exp -= goodRetries
	}
	return doubled(time.Second, exp)
}

// doubled is base doubled n times, at most maxBackoff.
func doubled(base time.Duration, n int) time.Duration { return min(maxBackoff, base<<min(n, 5)) }

func (k *knownAddr) kept() bool { return k.good || k.startup || k.named }

// viewer tells whether the address is only a peer that answered: no server, startup or named node.
func (k *knownAddr) viewer() bool { return !k.server && !k.startup && !k.named }

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// get returns what the book knows of a, or nil.
func (b *addrBook) get(a netip.AddrPort) *knownAddr { return b.m[unmap(a)] }

// size is how many addresses the book holds.
func (b *addrBook) size() int { return len(b.m) }

// add learns addresses from one source; an address known already counts one more source.
func (b *addrBook) add(addrs []netip.AddrPort, now time.Time) {
	for _, a := range addrs {
		a = unmap(a)
		if !a.IsValid() || a.Port() == 0 || a == b.self {
			continue
		}
		if k := b.m[a]; k != nil {
			k.sources = min(k.sources+1, 100)
			continue
		}
		if len(b.m) >= maxKnown && !b.forgetWorst() {
			continue
		}
		b.m[a] = &knownAddr{sources: 1, learned: now}
		b.peak = max(b.peak, len(b.m))
	}
}

// addStartup learns startup nodes: kept, and dialed first (at once).
func (b *addrBook) addStartup(addrs []netip.AddrPort, now time.Time) {
	b.add(addrs, now)
	for _, a := range addrs {
		if k := b.get(a); k != nil && !k.startup {
			k.startup, k.next = true, time.Time{}
		}
	}
}

// addNamed learns addresses the transport file or the node's settings name: kept, and dialed
// right after startup nodes (at once).
func (b *addrBook) addNamed(addrs []netip.AddrPort, now time.Time) {
	b.add(addrs, now)
	for _, a := range addrs {
		if k := b.get(a); k != nil && !k.named {
			k.named, k.next = true, time.Time{}
		}
	}
}

// forgetWorst removes the worst address that never answered; false when there is none.
func (b *addrBook) forgetWorst() bool {
	var worst netip.AddrPort
	var wk *knownAddr
	for a, k := range b.m {
		if k.kept() || b.dialing[a] {
			continue
		}
		if wk == nil || k.fails > wk.fails || k.fails == wk.fails && k.learned.Before(wk.learned) {
			worst, wk = a, k
		}
	}
	if wk == nil {
		return false
	}
	delete(b.m, worst)
	return true
}

// compact rebuilds the map once it holds less than half its peak: a Go map keeps the room of its
// largest size, so PEX spam forgotten would otherwise still cost it.
func (b *addrBook) compact() {
	if b.peak < 64 || len(b.m) > b.peak/2 {
		return
	}
	m := make(map[netip.AddrPort]*knownAddr, len(b.m))
	for a, k := range b.m {
		m[a] = k
	}
	b.m, b.peak = m, len(m)
}

// candidates lists, best first, at most limit addresses that may be dialed now: not being
// dialed, not our own, not backing off, and not refused by skip (banned, connected, not on a
// download list).
func (b *addrBook) candidates(now time.Time, skip func(netip.AddrPort) bool, limit int) []netip.AddrPort {
	type cand struct {
		a netip.AddrPort
		k *knownAddr
	}
	var cs []cand
	for a, k := range b.m {
		if !k.self && !b.dialing[a] && !now.Before(k.next) && !skip(a) {
			cs = append(cs, cand{a, k})
		}
	}
	slices.SortFunc(cs, func(x, y cand) int {
		kx, ky := x.k, y.k
		if c := boolInt(ky.startup) - boolInt(kx.startup); c != 0 {
			return c
		}
		if c := boolInt(ky.named) - boolInt(kx.named); c != 0 {
			return c
		}
		if c := boolInt(ky.good) - boolInt(kx.good); c != 0 {
			return c
		}
		if c := ky.sources - kx.sources; c != 0 {
			return c
		}
		return kx.fails - ky.fails
	})
	out := make([]netip.AddrPort, 0, min(limit, len(cs)))
	for _, c := range cs[:min(limit, len(cs))] {
		out = append(out, c.a)
	}
	return out
}

// dialStarted notes a dial to a in progress.
func (b *addrBook) dialStarted(a netip.AddrPort) { b.dialing[a] = true }

// inFlight is how many dials are in progress.
func (b *addrBook) inFlight() int { return len(b.dialing) }

// failed notes a failed dial: an address never answered, or a viewer's, is forgotten; a server,
// startup or named node backs off.
func (b *addrBook) failed(a netip.AddrPort, now time.Time) {
	delete(b.dialing, a)
	k := b.m[a]
	switch {
	case k == nil:
	case k.viewer(): // never answered (so not kept), or a viewer that left
		delete(b.m, a)
	default:
		k.fails++
		k.next = now.Add(k.backoff())
	}
}

// answered notes a dial whose handshake succeeded; ours tells that a is this node itself.
func (b *addrBook) answered(a netip.AddrPort, ours bool, now time.Time) {
	delete(b.dialing, a)
	k := b.m[a]
	switch {
	case k == nil:
	case ours:
		k.self = true
	default:
		k.fails, k.next, k.good = 0, now.Add(time.Second), true
	}
}

// refusedUs notes that a, dialed, ended the connection before saying HELLO: it is full (or
// broken). It is dialed again after refuseWait, doubling with each refusal in a row, at most
// maxBackoff; without this a node short of peers redialed every full node it knew each second.
func (b *addrBook) refusedUs(a netip.AddrPort, now time.Time) {
	if k := b.get(a); k != nil {
		k.refused++
		k.next = now.Add(doubled(refuseWait, k.refused-1))
	}
}

// welcomed notes that a, dialed, said HELLO as role.
func (b *addrBook) welcomed(a netip.AddrPort, role uint8) {
	if k := b.get(a); k != nil {
		k.refused, k.server = 0, role != wire.RoleViewer
	}
}

// revisitAfter keeps a from being dialed before t (a startup node that served our start).
func (b *addrBook) revisitAfter(a netip.AddrPort, t time.Time) {
	if k := b.m[a]; k != nil {
		k.next = t
	}
}
