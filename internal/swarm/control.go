package swarm

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// PeerInfo describes one connected peer, for monitoring.
type PeerInfo struct {
	Addr       string `json:"address"`
	Role       string `json:"role"`
	Downloaded int64  `json:"downloaded"`
	Uploaded   int64  `json:"uploaded"`
	Unchoked   bool   `json:"upload_slot"`
}

// RoleName is the name of a role in monitoring output.
func RoleName(r uint8) string {
	switch r {
	case wire.RoleSource:
		return "source"
	case wire.RoleSupport:
		return "support"
	case wire.RoleStartup:
		return "startup"
	case wire.RoleViewer:
		return "viewer"
	}
	return "unknown"
}

// do runs f on the session's loop and waits for it.
func (s *Session) do(ctx context.Context, f func(st *loopState)) bool {
	done := make(chan struct{})
	select {
	case s.ctl <- func(st *loopState) { f(st); close(done) }:
	case <-ctx.Done():
		return false
	case <-s.stopped:
		return false
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	case <-s.stopped:
		return false
	}
}

// Peers lists the connected peers and how many hold an upload slot.
func (s *Session) Peers(ctx context.Context) (out []PeerInfo, slots int) {
	s.do(ctx, func(st *loopState) {
		for _, p := range st.peers {
			addr := p.c.remote.String()
			if p.listen.IsValid() {
				addr = p.listen.String()
			}
			out = append(out, PeerInfo{Addr: addr, Role: RoleName(p.role), Downloaded: p.downloaded, Uploaded: p.uploaded, Unchoked: p.unchoked})
			if p.unchoked {
				slots++
			}
		}
	})
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(a.Addr, b.Addr) })
	return out, slots
}

// SetLimits changes the peer and upload-slot limits at once (0 keeps a limit as it is).
func (s *Session) SetLimits(ctx context.Context, maxPeers, maxUploadSlots int) {
	s.do(ctx, func(st *loopState) {
		if maxPeers > 0 {
			st.s.cfg.MaxPeers = maxPeers
			st.trimPeers()
		}
		if maxUploadSlots > 0 {
			st.s.cfg.MaxUploadSlots = maxUploadSlots
		}
		st.fillSlots()
	})
}

// SetDownloadFrom replaces the list of nodes to download from.
func (s *Session) SetDownloadFrom(ctx context.Context, list []netip.AddrPort) {
	s.do(ctx, func(st *loopState) {
		st.s.cfg.DownloadFrom = slices.Clone(list)
		for _, p := range st.peers {
			addr := p.listen
			p.mayDownload = st.mayDownloadFrom(addr)
			if !p.mayDownload {
				st.clearRequests(p)
			}
		}
		st.addNamed(list)
		st.dialMore()
	})
}

// AddDiscovered adds trackers and startup nodes learned from a metatracker.
func (s *Session) AddDiscovered(ctx context.Context, trackers []string, startup []netip.AddrPort) {
	s.metaMu.Lock()
	for _, t := range trackers {
		if !slices.Contains(s.metaTrackers, t) {
			s.metaTrackers = append(s.metaTrackers, t)
		}
	}
	s.metaMu.Unlock()
	s.do(ctx, func(st *loopState) { st.addStartupNodes(startup) })
}

// trimPeers drops the newest peers above the peer limit.
func (st *loopState) trimPeers() {
	for len(st.peers) > st.s.cfg.MaxPeers {
		var newest *peer
		for _, p := range st.peers {
			if newest == nil || p.since.After(newest.since) {
				newest = p
			}
		}
		st.dropPeer(newest)
	}
}

// mayUpload tells whether the peer may get data from this node: a private node uploads only to
// --upload-to addresses (IP only).
func (st *loopState) mayUpload(p *peer) bool {
	if !st.s.cfg.Private {
		return true
	}
	return slices.Contains(st.s.cfg.UploadTo, p.c.remote.Addr())
}

// fillSlots gives the upload slots to the oldest peers (see chokeSlots) and tells the peers whose
// slot changed.
func (st *loopState) fillSlots() {
	peers := make([]*peer, 0, len(st.peers))
	slots := make([]slot, 0, len(st.peers))
	for _, p := range st.peers {
		peers = append(peers, p)
		slots = append(slots, slot{since: p.since, unchoked: p.unchoked, eligible: p.hello && st.mayUpload(p)})
	}
	choke, unchoke := chokeSlots(slots, st.s.cfg.MaxUploadSlots)
	for _, i := range choke {
		peers[i].unchoked = false
		peers[i].c.send(&wire.Message{Type: wire.Choke})
	}
	for _, i := range unchoke {
		peers[i].unchoked = true
		peers[i].c.send(&wire.Message{Type: wire.Unchoke})
	}
}

// makeRoom lets a full startup node take a newcomer: it ends the connection of the peer that has
// downloaded the most from it, once that is at least the rotation amount. It reports whether
// there is room now.
func (st *loopState) makeRoom() bool {
	if len(st.peers) < st.s.cfg.MaxPeers {
		return true
	}
	if p := st.idlest(time.Now()); p != nil {
		st.s.log.Info("an idle peer gives its slot to a newcomer", "peer", p.c.remote.String())
		st.dropPeer(p)
		return true
	}
	if st.s.cfg.Role != wire.RoleStartup {
		return false
	}
	var victim *peer
	for _, p := range st.peers {
		if st.mayDownloadFrom(p.listen) && len(st.s.cfg.DownloadFrom) > 0 {
			continue // an upstream node
		}
		if p.uploaded >= st.s.cfg.RotateBytes && (victim == nil || p.uploaded > victim.uploaded) {
			victim = p
		}
	}
	if victim == nil {
		return false
	}
	st.s.log.Info("startup node rotates a peer out", "peer", victim.c.remote.String(), "uploaded", victim.uploaded)
	st.dropPeer(victim)
	return true
}

// addStartupNodes remembers startup nodes and dials them before other peers.
func (st *loopState) addStartupNodes(addrs []netip.AddrPort) {
	st.book.addStartup(addrs, time.Now())
	st.dialMore()
}
