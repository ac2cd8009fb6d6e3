package swarm

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aceswarm/aceswarm/internal/livebuf"
	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// handle processes one event from a peer's reader.
func (st *loopState) handle(ev event) {
	p := st.byConn[ev.c]
	if p == nil {
		return
	}
	if errors.Is(ev.err, errFlood) || errors.Is(ev.err, wire.ErrProtocol) {
		st.ban(p, banReason(ev.err), ev.err)
		return
	}
	if ev.err != nil {
		st.dropPeer(p)
		return
	}
	m := ev.msg
	if !p.hello && m.Type != wire.Hello {
		st.dropPeer(p) // HELLO must come first
		return
	}
	switch m.Type {
	case wire.Hello:
		st.onHello(p, m)
	case wire.Window:
		if st.claimWindow(p, m.Window) {
			p.window = m.Window
		}
	case wire.Have:
		if !st.claim(p, m.Number) {
			return
		}
		if st.hasEdge && m.Number <= st.edge+aheadSlack || !st.hasEdge && len(st.seen) < maxSeen {
			st.seenAt(m.Number)
		}
		p.noteHave(m.Number, m.Keyframe)
		delete(p.rejected, m.Number)
		if st.nearEdge(m.Number) {
			p.haves[m.Number] = true
		}
	case wire.GetHeader:
		st.onGetHeader(p, m.Number)
	case wire.Header:
		if st.replayed(m.Header) {
			if !p.mayReplay() {
				st.ban(p, BanReplay, fmt.Errorf("replayed more than %d headers of pieces long gone from the live window, the last %d", replayLimit, m.Header.Number))
			}
			return
		}
		if p.mayDownload { // --download-from: nothing is taken from other nodes, pushed or not
			st.onHeader(p, m.Header)
		}
	case wire.Request:
		st.onRequest(p, m)
	case wire.Piece:
		if p.mayDownload {
			st.onPiece(p, m)
		}
	case wire.Cancel:
		st.onCancel(p, blockKey{m.Number, m.Block})
	case wire.Reject:
		st.onReject(p, m)
	case wire.Choke:
		p.chokedUs = true
		st.clearRequests(p)
	case wire.Unchoke:
		p.chokedUs = false
	case wire.Pex:
		st.addKnown(m.Peers)
	case wire.GetMetadata:
		if raw := st.s.RawFile(); raw != nil {
			p.c.send(&wire.Message{Type: wire.Metadata, Data: raw})
		}
	case wire.Metadata:
		st.onMetadata(p, m.Data)
	case wire.Subscribe:
		st.onSubscribe(p, m.Mask)
	case wire.Tree:
		st.onTree(p, m)
	}
}

func (st *loopState) onHello(p *peer, m *wire.Message) {
	if p.hello || !st.claimWindow(p, m.Window) {
		return
	}
	p.hello, p.role, p.window = true, m.Role, m.Window
	if p.dialed {
		st.book.welcomed(p.listen, m.Role)
	}
	if !p.listen.IsValid() && m.Port != 0 {
		p.listen = netip.AddrPortFrom(p.c.remote.Addr(), m.Port)
		p.mayDownload = st.mayDownloadFrom(p.listen)
	}
	if m.Header != nil && p.mayDownload {
		st.onHeader(p, m.Header)
	}
	if f, _ := st.s.File(); f == nil {
		st.askMetadata(p)
	}
	st.fillSlots()
}

func (st *loopState) askMetadata(p *peer) {
	if !st.metaAsked[p] {
		st.metaAsked[p] = true
		p.c.send(&wire.Message{Type: wire.GetMetadata})
	}
}

func (st *loopState) onMetadata(p *peer, data []byte) {
	if f, _ := st.s.File(); f != nil {
		return
	}
	f, err := transport.Decode(data)
	if err != nil || f.InfoHash() != st.s.cfg.InfoHash {
		st.ban(p, BanMetadata, errors.New("transport file does not match the infohash"))
		return
	}
	st.s.setFile(f, bytes.Clone(data))
	st.addFileAddrs(f)
	st.s.log.Info("transport file received", "peer", p.c.remote.String(), "name", f.Info.Name)
	for _, q := range st.peers {
		q.c.send(st.helloWindow())
	}
}

func (st *loopState) helloWindow() *wire.Message {
	_, buf := st.s.File()
	return &wire.Message{Type: wire.Window, Window: buf.Window()}
}

func (st *loopState) onGetHeader(p *peer, n uint32) {
	_, buf := st.s.File()
	if buf != nil {
		if pc := buf.Get(n); pc != nil {
			p.c.send(&wire.Message{Type: wire.Header, Header: pc.Header})
			return
		}
	}
	p.c.send(&wire.Message{Type: wire.Reject, Number: n, Block: wire.HeaderBlock})
}

func (st *loopState) onHeader(p *peer, h *wire.PieceHeader) {
	f, buf := st.s.File()
	if f == nil {
		return
	}
	_, asked := st.hdrPending[h.Number]
	st.headerDone(h.Number)
	delete(st.edgeAsked, h.Number)
	if known := buf.Header(h.Number); known != nil {
		if !bytes.Equal(known.Marshal(), h.Marshal()) { // the one held was verified: this is not it
			st.ban(p, BanForgedHeader, fmt.Errorf("header of piece %d differs from the verified one", h.Number))
			return
		}
		if !asked && p.treeGiven != 0 && !p.fwdKnown { // a parent's first forward, after another parent's
			st.forwarded(p, h.Number)
			st.expectPushes(known, time.Now())
		}
		return
	}
	if err := h.Verify(f.Key(), st.s.cfg.InfoHash, int(f.Info.PieceLength), int(f.Info.BlockLength)); err != nil {
		st.ban(p, BanForgedHeader, err)
		return
	}
	now := time.Now()
	if st.clock.future(h, now) { // signed, so the source made it: refused, the relayer not blamed
		st.s.log.Debug("header from the future refused", "piece", h.Number, "ahead_ms", h.Time-now.UnixMilli())
		return
	}
	st.noteClock(h, now)
	st.verified(h.Number)
	p.useful(now)
	p.noteHave(h.Number, h.HasKeyframe())
	if st.wanted(h.Number) && buf.AddHeader(h) {
		st.forwardHeader(h, p)
		if !asked && p.treeGiven != 0 {
			st.forwarded(p, h.Number)
		}
		st.expectPushes(h, now)
	}
}

func (st *loopState) onRequest(p *peer, m *wire.Message) {
	p.useful(time.Now())
	if !p.unchoked {
		return // choked peers' requests are ignored
	}
	_, buf := st.s.File()
	var data []byte
	err := errors.New("no transport file")
	if buf != nil {
		data, err = buf.Block(m.Number, int(m.Block))
	}
	if err != nil {
		p.c.send(&wire.Message{Type: wire.Reject, Number: m.Number, Block: m.Block})
		return
	}
	st.sendBlock(p, &wire.Message{Type: wire.Piece, Number: m.Number, Block: m.Block, Data: data}, false)
}

// sendBlock queues a PIECE message for p (forwarded unasked, if fwd) and counts its data as
// media sent, if it will go out.
func (st *loopState) sendBlock(p *peer, m *wire.Message, fwd bool) bool {
	if !p.c.queue(m, fwd) {
		return false
	}
	st.countSent(p, len(m.Data), fwd)
	return true
}

// countSent counts n bytes of media queued for p (forwarded unasked to a tree child, if fwd);
// a negative n takes back a block a CANCEL dropped from the queue.
func (st *loopState) countSent(p *peer, n int, fwd bool) {
	st.s.sentMedia.Add(int64(n))
	p.uploaded += int64(n)
	st.s.metrics.addMedia(p.role, false, n)
	if fwd {
		st.s.metrics.forwarded.Add(int64(n))
	}
}

func (st *loopState) onPiece(p *peer, m *wire.Message) {
	k := blockKey{m.Number, m.Block}
	if at, ok := p.requests[k]; ok {
		now := time.Now()
		p.flow.answered(now.Sub(at), now)
	}
	if at, ok := p.pushes[k]; ok {
		st.pushArrived(p, at, time.Now())
	}

	st.reqs.done(p, k)
	_, buf := st.s.File()
	if buf == nil {
		return
	}
	pc := buf.Incomplete(m.Number)
	fresh := pc != nil && !pc.HasBlock(int(m.Block))
	done, err := buf.PutBlock(m.Number, int(m.Block), m.Data)
	if errors.Is(err, livebuf.ErrUnknownPiece) {
		return // evicted, or never asked for
	}
	if err != nil {
		st.ban(p, BanForgedBlock, err)
		return
	}
	st.s.recvMedia.Add(int64(len(m.Data)))
	st.s.metrics.addMedia(p.role, true, len(m.Data))
	p.downloaded += int64(len(m.Data))
	p.useful(time.Now())
	if !fresh {
		st.s.metrics.duplicate.Add(int64(len(m.Data)))
	} else {
		st.cancelElsewhere(p, k)
		st.forwardBlock(m.Number, int(m.Block), m.Data, p)
	}
	if done {
		st.s.metrics.complete.Add(1)
		h := buf.Get(m.Number).Header
		st.announce(m.Number, h.HasKeyframe())
	}
}

func (st *loopState) onReject(p *peer, m *wire.Message) {
	if st.hasEdge && m.Number <= st.edge+aheadSlack && m.Number+lookahead >= st.next { // else nothing was asked
		p.rejected[m.Number] = true
	}
	if m.Block == wire.HeaderBlock {
		st.headerDone(m.Number)
		delete(st.edgeAsked, m.Number)
		return
	}
	st.reqs.done(p, blockKey{m.Number, m.Block})
}

func (st *loopState) clearRequests(p *peer) { st.reqs.clearPeer(p) }

func (st *loopState) request(p *peer, k blockKey) {
	if p.c.send(&wire.Message{Type: wire.Request, Number: k.n, Block: k.block}) {
		st.reqs.ask(p, k, time.Now())
	}
}
