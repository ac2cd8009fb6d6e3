package engine

import (
	"context"
	"time"

	"github.com/aceswarm/aceswarm/internal/dashboard"
	"github.com/aceswarm/aceswarm/internal/version"
)

// dashboardSnapshot is what the dashboard shows of the node now.
func (n *Node) dashboardSnapshot(ctx context.Context) dashboard.Snapshot {
	s := dashboard.Snapshot{Role: n.cfg.Mode.String(), Version: version.Version}
	sessions, past := n.metricsSnapshot()
	s.BytesUp, s.BytesDown = past.WireBytes[0], past.WireBytes[1]
	for _, sess := range sessions {
		st := sess.Stats()
		s.BytesUp += st.Uploaded
		s.BytesDown += st.Downloaded
		ds := dashboard.Stream{InfoHash: sess.InfoHash().String(), Peers: []dashboard.Peer{}}
		if f, buf := sess.File(); f != nil {
			ds.Name = f.Info.Name
			if w := buf.Window(); !w.Empty {
				ds.First, ds.Last = w.First, w.Last
				_, _, ds.Pieces = buf.TimeRange()
			}
		}
		peers, _ := sess.Peers(ctx)
		for _, p := range peers {
			ds.Peers = append(ds.Peers, dashboard.Peer{Addr: p.Addr, Role: p.Role, Downloaded: p.Downloaded, Uploaded: p.Uploaded, UploadSlot: p.Unchoked})
		}
		s.Streams = append(s.Streams, ds)
	}
	if v, ok := n.mode.(*viewer); ok {
		_, s.Players = v.core.Counts()
		s.Players += v.core.HLSPlayers(time.Now())
		s.Stalls, _ = v.core.Stalls()
		if _, _, q := lagSummary(v.core.Lags()); len(q) > 0 {
			s.Lag = q[0.5]
		}
	}
	s.Startups, s.StartupSum = n.metrics.startups()
	return s
}
