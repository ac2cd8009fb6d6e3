package proxy

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/aceswarm/aceswarm/internal/dashboard"
	"github.com/aceswarm/aceswarm/internal/version"
)

// dashboardSnapshot is what the proxy's dashboard shows: bytes from the engines and to the
// clients (the metrics' counters, which never go back), clients, and per channel its engine.
func (p *Proxy) dashboardSnapshot(context.Context) dashboard.Snapshot {
	s := dashboard.Snapshot{Role: "proxy", Version: version.Version,
		BytesUp: int64(counter(p.metrics.bytesOut)), BytesDown: int64(counter(p.metrics.bytesIn))}
	now := time.Now()
	for _, c := range p.list() {
		st := c.status(now)
		s.Players += int64(st.Clients)
		ds := dashboard.Stream{InfoHash: st.ID, Name: "channel", Peers: []dashboard.Peer{}}
		if st.Engine != "" {
			ds.Peers = append(ds.Peers, dashboard.Peer{Addr: st.Engine, Role: "engine", Downloaded: st.BytesIn, Uploaded: st.BytesOut})
		}
		s.Streams = append(s.Streams, ds)
	}
	slices.SortFunc(s.Streams, func(a, b dashboard.Stream) int { return strings.Compare(a.InfoHash, b.InfoHash) })
	return s
}

func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
