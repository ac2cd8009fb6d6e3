package swarm

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
	"golang.org/x/time/rate"
)

const (
	maxRequests    = 32
	requestTimeout = 4 * time.Second
	banTime        = 10 * time.Minute
	pexFirst       = 2 * time.Second
	pexEvery       = 30 * time.Second
	startupRevisit = 2 * time.Minute
	idleRevisit    = time.Minute
	// windowEvery is how often, at most, peers are told where this node's window starts now:
	// what it dropped matters only to a peer that asks for so old a piece, and one that does is
	// answered with REJECT.
	windowEvery = 4 * time.Second
)

// loopState is everything the Run goroutine owns.
type loopState struct {
	s   *Session
	ctx context.Context
	wg  *sync.WaitGroup

	peers       map[[20]byte]*peer
	upQueue     float64 // blocks waiting in the connections, averaged over ticks (spare.go)
	byConn      map[*conn]*peer
	book        *addrBook     // addresses to dial (addrbook.go)
	dialPace    *rate.Limiter // how fast to connect to them (dial.go)
	banned      map[netip.Addr]time.Time
	reqs        reqTable // block requests in flight (reqtable.go)
	hdrPending  map[uint32]reqInfo
	edgeAsked   map[uint32]reqInfo // headers asked for to learn where the stream is (claims.go)
	metaAsked   map[*peer]bool
	seen        map[uint32]time.Time       // when each piece was first announced to us
	parent      [wire.Substreams]*peer     // who forwards each substream to us (tree.go)
	parentSince [wire.Substreams]time.Time // since when
	kids        []*peer                    // forwardBlock's scratch list
	rarity      []pieceCount               // order's scratch list
	treeHeader  uint32                     // newest piece whose header a parent forwarded: the trees bring headers in order

	edge       uint32 // newest piece whose signed header was verified (see claims.go)
	hasEdge    bool
	clock      sourceClock // the source's clock, estimated from verified headers (clock.go)
	started    bool        // a viewer or relay chose where to start
	start      uint32      // the piece it started at
	next       uint32      // lowest piece still wanted
	sentFirst  uint32      // window start last sent to peers
	lastWindow time.Time
	lastSweep  time.Time // of the ban list
}

func (st *loopState) init(s *Session, ctx context.Context, wg *sync.WaitGroup) {
	*st = loopState{
		s: s, ctx: ctx, wg: wg,
		peers: map[[20]byte]*peer{}, byConn: map[*conn]*peer{},
		banned: map[netip.Addr]time.Time{}, reqs: newReqTable(),
		hdrPending: map[uint32]reqInfo{}, edgeAsked: map[uint32]reqInfo{}, metaAsked: map[*peer]bool{}, seen: map[uint32]time.Time{},
		book: newAddrBook(netip.AddrPortFrom(s.cfg.Bind, s.cfg.ListenPort)), dialPace: rate.NewLimiter(dialsFilling, dialBurst),
	}
}

func (st *loopState) isBanned(a netip.Addr) bool {
	t, ok := st.banned[a]
	return ok && time.Now().Before(t)
}

// maxBanned bounds the ban list; beyond it the bans closest to their end are lifted first.
const maxBanned = 10000

// expireBans forgets ended bans, and the soonest-ending ones beyond maxBanned.
func (st *loopState) expireBans(now time.Time) {
	for a, until := range st.banned {
		if now.After(until) {
			delete(st.banned, a)
		}
	}
	for len(st.banned) > maxBanned {
		var soonest netip.Addr
		for a, until := range st.banned {
			if !soonest.IsValid() || until.Before(st.banned[soonest]) {
				soonest = a
			}
		}
		delete(st.banned, soonest)
	}
}

func (st *loopState) addIncoming(a accepted) {
	st.addConn(a.nc, a.hs.PeerID, netip.AddrPort{})
}

// addConn starts a peer on a connection whose handshakes were exchanged.
func (st *loopState) addConn(nc net.Conn, id [20]byte, dialedTo netip.AddrPort) {
	s := st.s
	c := newConn(nc, id, &s.counts)
	if id == s.cfg.PeerID || st.isBanned(c.remote.Addr()) || !st.resolveDuplicate(id, dialedTo.IsValid()) || !st.makeRoom() {
		nc.Close()
		return
	}
	p := &peer{
		c: c, chokedUs: true, rejected: map[uint32]bool{}, requests: map[blockKey]time.Time{}, pushes: map[blockKey]time.Time{}, haves: map[uint32]bool{}, gotBlocks: map[blockKey]bool{}, flow: newFlow(),
		listen: dialedTo, dialed: dialedTo.IsValid(), since: time.Now(), usefulAt: time.Now(),
	}
	p.depths, p.pushWait = noDepths, pushPatience/2
	p.mayDownload = st.mayDownloadFrom(dialedTo)
	st.peers[id], st.byConn[c] = p, p
	s.npeers.Store(int64(len(st.peers)))
	st.wg.Go(func() { c.readLoop(st.ctx, s.inbox) })
	st.wg.Go(c.writeLoop)
	c.send(st.helloMsg())
	p.sentPex = time.Now().Add(pexFirst - pexEvery)
}

// resolveDuplicate decides, when two nodes dialed each other at once, which connection both keep:
// the one dialed by the node with the smaller peer id. It reports whether the new one stays.
func (st *loopState) resolveDuplicate(id [20]byte, dialedByMe bool) bool {
	old := st.peers[id]
	if old == nil {
		return true
	}
	if old.dialed == dialedByMe {
		return false
	}
	iDialWins := bytes.Compare(st.s.cfg.PeerID[:], id[:]) < 0
	if dialedByMe != iDialWins {
		return false
	}
	st.dropPeer(old)
	return true
}

func (st *loopState) mayDownloadFrom(a netip.AddrPort) bool {
	if len(st.s.cfg.DownloadFrom) == 0 {
		return true
	}
	for _, d := range st.s.cfg.DownloadFrom {
		if d == a {
			return true
		}
	}
	return false
}

func (st *loopState) helloMsg() *wire.Message {
	m := &wire.Message{Type: wire.Hello, Role: st.s.cfg.Role, Port: st.s.cfg.ListenPort, Window: wire.WindowInfo{Empty: true, NoKeyframe: true}}
	if _, buf := st.s.File(); buf != nil {
		m.Window = buf.Window()
		m.Header = buf.Newest()
	}
	return m
}

func (st *loopState) dropPeer(p *peer) {
	p.c.close()
	if st.byConn[p.c] != p {
		return
	}
	delete(st.byConn, p.c)
	delete(st.peers, p.c.id)
	delete(st.metaAsked, p)
	st.reqs.clearPeer(p)
	st.dropTree(p)
	st.s.npeers.Store(int64(len(st.peers)))
	now := time.Now()
	switch {
	case p.dialed && !p.hello:
		st.book.refusedUs(p.listen, now) // full, most likely
	case p.role == wire.RoleStartup && p.downloaded > 0:
		st.book.revisitAfter(p.listen, now.Add(startupRevisit)) // it served our start; leave its slot to newcomers
	case p.hello && p.idle(now):
		st.book.revisitAfter(p.listen, now.Add(idleRevisit)) // of no use either way: a full node gave its slot away
	}
	if p.unchoked {
		st.fillSlots()
	}
}

func (st *loopState) ban(p *peer, reason BanReason, why error) {
	a := p.c.remote.Addr()
	st.s.log.Warn("peer banned", "peer", p.c.remote.String(), "reason", reason, "err", why)
	st.s.metrics.bans[reason].Add(1)
	st.banned[a] = time.Now().Add(banTime)
	for _, q := range st.peers {
		if q.c.remote.Addr() == a {
			st.dropPeer(q)
		}
	}
}

func (st *loopState) closeAll() {
	for _, p := range st.peers {
		st.dropPeer(p)
	}
}

// announce sends HAVE for piece n to the peers that did not announce n to us, who may want it from
// us, and to the children this node forwards to. HAVEs were two messages in five of a 50-viewer
// run; this drops a quarter of them. A child is told all the same: a parent that announces pieces
// it does not forward is how the child learns it holds them back (pushLate); told nothing, the
// children kept such parents and asked the relays for their blocks (server stress 42% in two runs
// of four, against 20-23%).
func (st *loopState) announce(n uint32, key bool) {
	m := &wire.Message{Type: wire.Have, Number: n, Keyframe: key}
	for _, p := range st.peers {
		if p.hello && (p.treeTaken != 0 || !p.haves[n]) {
			p.c.send(m)
		}
	}
}

func (st *loopState) broadcast(m *wire.Message) {
	for _, p := range st.peers {
		if p.hello {
			p.c.send(m)
		}
	}
}

// tick runs four times a second: timeouts, window updates, peer exchange, dialing.
func (st *loopState) tick() {
	now := time.Now()
	for _, p := range st.reqs.expire(now, requestTimeout, st.peers) {
		st.strike(p, now)
		p.flow.timedOut(now)
	}
	st.reaskLate(now)
	st.sampleUplink()
	for n := range st.seen {
		if st.started && n+lookahead < st.next {
			delete(st.seen, n)
		}
	}
	for n, r := range st.hdrPending {
		if now.Sub(r.at) > requestTimeout {
			st.headerDone(n)
			st.strike(r.p, now)
			r.p.flow.timedOut(now)
		}
	}
	for n, r := range st.edgeAsked {
		if now.Sub(r.at) > requestTimeout {
			delete(st.edgeAsked, n)
			st.strike(r.p, now)
		}
	}
	if _, buf := st.s.File(); buf != nil && now.Sub(st.lastWindow) > windowEvery {
		if w := buf.Window(); w.First != st.sentFirst {
			st.sentFirst, st.lastWindow = w.First, now
			st.broadcast(&wire.Message{Type: wire.Window, Window: w})
		}
	}
	for _, p := range st.peers {
		if p.hello && now.Sub(p.sentPex) > pexEvery {
			p.sentPex = now
			st.sendPex(p)
		}
		for n := range p.rejected {
			if n < p.window.First {
				delete(p.rejected, n)
			}
		}
		p.forgetHaves(st.edge)
	}
	st.subscribe(now)
	st.sendTrees()
	st.dropSilent(now)
	st.book.compact()
	if now.Sub(st.lastSweep) > 10*time.Second {
		st.lastSweep = now
		st.expireBans(now)
	}
	st.dialMore()
}

func (st *loopState) sendPex(to *peer) {
	var addrs []netip.AddrPort
	for _, p := range st.peers {
		if p != to && p.listen.IsValid() && len(addrs) < wire.MaxPex {
			addrs = append(addrs, p.listen)
		}
	}
	if len(addrs) > 0 {
		to.c.send(&wire.Message{Type: wire.Pex, Peers: addrs})
	}
}

// publish stores a piece made by this node and announces it.
func (st *loopState) publish(h *wire.PieceHeader, data []byte) error {
	_, buf := st.s.File()
	if err := buf.AddComplete(h, data); err != nil {
		return err
	}
	st.noteClock(h, time.Now())
	st.verified(h.Number)
	st.s.metrics.complete.Add(1)
	st.forwardHeader(h, nil)
	for i := range h.Blocks {
		if b, err := buf.Block(h.Number, i); err == nil {
			st.forwardBlock(h.Number, i, b, nil)
		}
	}
	st.announce(h.Number, h.HasKeyframe())
	return nil
}
