package engine

import (
	"context"

	"github.com/aceswarm/aceswarm/internal/nodeweb"
	"github.com/aceswarm/aceswarm/internal/swarm"
)

// Figures sums the node's sessions for the web interface.
func (n *Node) Figures(ctx context.Context) nodeweb.Figures {
	n.mu.Lock()
	f := nodeweb.Figures{MaxConnections: n.limits.maxConns, MaxPeers: n.limits.maxPeers, MaxUploadSlots: n.limits.maxSlots}
	n.mu.Unlock()
	for _, s := range n.sessionList() {
		st := s.Stats()
		f.Downloaded += st.Downloaded
		f.Uploaded += st.Uploaded
		peers, slots := s.Peers(ctx)
		f.Peers = append(f.Peers, peers...)
		f.UploadSlots += slots
	}
	return f
}

// Apply changes the limits of the node and of every session at once.
func (n *Node) Apply(ctx context.Context, u nodeweb.Update) {
	n.mu.Lock()
	if u.MaxPeers > 0 {
		n.limits.maxPeers = u.MaxPeers
	}
	if u.MaxUploadSlots > 0 {
		n.limits.maxSlots = u.MaxUploadSlots
	}
	if u.SetDownload {
		n.limits.downloadFrom = u.DownloadFrom
	}
	n.mu.Unlock()
	for _, s := range n.sessionList() {
		s.SetLimits(ctx, u.MaxPeers, u.MaxUploadSlots)
		if u.SetDownload {
			s.SetDownloadFrom(ctx, u.DownloadFrom)
		}
	}
}

// TransportFile is the transport file of a source or relay, for get_transport_file.
func (n *Node) TransportFile() []byte {
	if n.cfg.Mode == Viewer {
		return nil
	}
	for _, s := range n.sessionList() {
		return s.RawFile()
	}
	return nil
}

// Traffic sums the byte counters of the node's sessions.
func (n *Node) Traffic() swarm.Stats {
	var t swarm.Stats
	for _, s := range n.sessionList() {
		t.Add(s.Stats())
	}
	return t
}

// PlayerBytes is what a viewer engine has written to its players.
func (n *Node) PlayerBytes() int64 {
	if v, ok := n.mode.(*viewer); ok {
		return v.core.Served()
	}
	return 0
}
