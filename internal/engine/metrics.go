package engine

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/aceswarm/aceswarm/internal/swarm"
	"github.com/aceswarm/aceswarm/internal/version"
)

// Metrics are a node's Prometheus series (docs/metrics.md), in a registry of its own so that many
// nodes can run in one process (the benches). Figures are read from the node when scraped;
// counters keep what ended sessions counted, so they never go back.
type nodeMetrics struct {
	reg     *prometheus.Registry
	n       *Node
	startup prometheus.Histogram // viewer: a player's first bytes after its session opened
}

var (
	descInfo    = prometheus.NewDesc("aceswarm_node_info", "The node's role and version (always 1).", []string{"role", "version"}, nil)
	descStreams = prometheus.NewDesc("aceswarm_streams", "Streams this node runs a swarm session for.", nil, nil)
	descPeers   = prometheus.NewDesc("aceswarm_peers", "Connected peers, by the role they said.", []string{"peer_role"}, nil)
	descMedia   = prometheus.NewDesc("aceswarm_media_bytes_total", "Piece data sent and received, by the peer's role.", []string{"direction", "peer_role"}, nil)
	descWire    = prometheus.NewDesc("aceswarm_wire_bytes_total", "Bytes on peer connections, protocol included.", []string{"direction"}, nil)
	descPieces  = prometheus.NewDesc("aceswarm_pieces_total", "Pieces completed (or made, on a source), and pieces skipped as never to come.", []string{"outcome"}, nil)
	descBans    = prometheus.NewDesc("aceswarm_bans_total", "Peers banned, by reason (docs/protocol.md, threat model).", []string{"reason"}, nil)
	descDropped = prometheus.NewDesc("aceswarm_dropped_blocks_total", "Blocks not sent because a peer's queue was full.", nil, nil)
	descReasked = prometheus.NewDesc("aceswarm_reasked_blocks_total", "Blocks asked again of another peer because the first was late for the player.", nil, nil)
	descForward = prometheus.NewDesc("aceswarm_forwarded_bytes_total", "Piece data forwarded unasked to children in the substream trees (part of the media sent).", nil, nil)
	descDup     = prometheus.NewDesc("aceswarm_duplicate_bytes_total", "Piece data received that the node held already (part of the media received).", nil, nil)
	descCache   = prometheus.NewDesc("aceswarm_cache_bytes", "Bytes of pieces held in the live caches.", nil, nil)
	descPlayers = prometheus.NewDesc("aceswarm_players", "Viewer engine: players reading a stream now (MPEG-TS connections; HLS sessions asked something of in the last 10 s).", []string{"format"}, nil)
	descServed  = prometheus.NewDesc("aceswarm_player_bytes_total", "Viewer engine: stream bytes written to players.", nil, nil)
	descStalls  = prometheus.NewDesc("aceswarm_stalls_total", "Viewer engine: times a stream went 3 s or more without a new piece while played (status buf).", nil, nil)
	descStalled = prometheus.NewDesc("aceswarm_stall_seconds_total", "Viewer engine: how long those stalls lasted.", nil, nil)
	descLag     = prometheus.NewDesc("aceswarm_player_lag_seconds", "Viewer engine: how far behind its stream's newest piece each player is now (quantiles over the players).", nil, nil)
	directions  = [...]string{"sent", "received"} // the index of swarm.Metrics' byte counters
)

func newNodeMetrics(n *Node) *nodeMetrics {
	m := &nodeMetrics{
		reg: prometheus.NewRegistry(), n: n,
		startup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aceswarm_startup_seconds", Help: "Viewer engine: from a playback session's opening to its player's first bytes.",
			Buckets: []float64{.1, .25, .5, 1, 2, 3, 5, 10, 30},
		}),
	}
	m.reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if n.cfg.Mode == Viewer {
		m.reg.MustRegister(m.startup)
	}
	return m
}

// startups reads the startup histogram: how many players started, and their startup times'
// sum in seconds.
func (m *nodeMetrics) startups() (count int64, sum float64) {
	var d dto.Metric
	m.startup.Write(&d)
	return int64(d.GetHistogram().GetSampleCount()), d.GetHistogram().GetSampleSum()
}

// Handler serves the registry in Prometheus's text format.
func (m *nodeMetrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Describe sends nothing: the collector is unchecked, its series known when collected.
func (m *nodeMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect reads the node's figures.
func (m *nodeMetrics) Collect(ch chan<- prometheus.Metric) {
	n := m.n
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, n.cfg.Mode.String(), version.Version)
	sessions, total := n.metricsSnapshot()
	peers := map[string]int{}
	for r := range total.MediaBytes[1:] {
		peers[swarm.RoleName(uint8(r+1))] = 0
	}
	for _, s := range sessions {
		addMetrics(&total, s.Metrics())
		list, _ := s.Peers(ctx)
		for _, p := range list {
			peers[p.Role]++
		}
	}
	ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(len(sessions)))
	for r, c := range peers {
		ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(c), r)
	}
	for r := range total.MediaBytes {
		for d, dir := range directions {
			ch <- prometheus.MustNewConstMetric(descMedia, prometheus.CounterValue, float64(total.MediaBytes[r][d]), dir, swarm.RoleName(uint8(r)))
		}
	}
	for d, dir := range directions {
		ch <- prometheus.MustNewConstMetric(descWire, prometheus.CounterValue, float64(total.WireBytes[d]), dir)
	}
	ch <- prometheus.MustNewConstMetric(descPieces, prometheus.CounterValue, float64(total.PiecesComplete), "complete")
	ch <- prometheus.MustNewConstMetric(descPieces, prometheus.CounterValue, float64(total.PiecesSkipped), "skipped")
	for r, n := range total.Bans {
		ch <- prometheus.MustNewConstMetric(descBans, prometheus.CounterValue, float64(n), swarm.BanReason(r).String())
	}
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(total.DroppedBlocks))
	ch <- prometheus.MustNewConstMetric(descReasked, prometheus.CounterValue, float64(total.ReaskedBlocks))
	ch <- prometheus.MustNewConstMetric(descForward, prometheus.CounterValue, float64(total.ForwardedBytes))
	ch <- prometheus.MustNewConstMetric(descDup, prometheus.CounterValue, float64(total.DuplicateBytes))
	ch <- prometheus.MustNewConstMetric(descCache, prometheus.GaugeValue, float64(total.CacheBytes))
	if v, ok := n.mode.(*viewer); ok {
		_, players := v.core.Counts()
		ch <- prometheus.MustNewConstMetric(descPlayers, prometheus.GaugeValue, float64(players), "ts")
		ch <- prometheus.MustNewConstMetric(descPlayers, prometheus.GaugeValue, float64(v.core.HLSPlayers(time.Now())), "hls")
		ch <- prometheus.MustNewConstMetric(descServed, prometheus.CounterValue, float64(v.core.Served()))
		stalls, stalled := v.core.Stalls()
		ch <- prometheus.MustNewConstMetric(descStalls, prometheus.CounterValue, float64(stalls))
		ch <- prometheus.MustNewConstMetric(descStalled, prometheus.CounterValue, stalled.Seconds())
		count, sum, q := lagSummary(v.core.Lags())
		ch <- prometheus.MustNewConstSummary(descLag, count, sum, q)
	}
}

// lagSummary turns the players' lags into a summary: count, sum and the median, 0.9 quantile and
// maximum, in seconds.
func lagSummary(lags []time.Duration) (count uint64, sum float64, quantiles map[float64]float64) {
	quantiles = map[float64]float64{}
	if len(lags) == 0 {
		return 0, 0, quantiles
	}
	slices.Sort(lags)
	for _, l := range lags {
		sum += l.Seconds()
	}
	for _, q := range []float64{0.5, 0.9, 1} {
		quantiles[q] = lags[min(len(lags)-1, int(q*float64(len(lags))))].Seconds()
	}
	return uint64(len(lags)), sum, quantiles
}

// metricsSnapshot returns, at one moment, the running sessions and what the ended ones counted:
// a session is in one or the other, never both (see endSession).
func (n *Node) metricsSnapshot() (sessions []*swarm.Session, past swarm.Metrics) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for s := range n.sessions {
		sessions = append(sessions, s)
	}
	return sessions, n.past
}

// endSession forgets a session that ended, keeping its counters in the node's past ones (the
// cache it held is gone).
func (n *Node) endSession(s *swarm.Session) {
	m := s.Metrics()
	m.CacheBytes = 0
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.sessions, s)
	addMetrics(&n.past, m)
}

func addMetrics(to *swarm.Metrics, m swarm.Metrics) {
	for r := range to.MediaBytes {
		for d := range to.MediaBytes[r] {
			to.MediaBytes[r][d] += m.MediaBytes[r][d]
		}
	}
	to.PiecesComplete += m.PiecesComplete
	to.PiecesSkipped += m.PiecesSkipped
	for r, c := range m.Bans {
		to.Bans[r] += c
	}
	for d, c := range m.WireBytes {
		to.WireBytes[d] += c
	}
	to.DroppedBlocks += m.DroppedBlocks
	to.ReaskedBlocks += m.ReaskedBlocks
	to.ForwardedBytes += m.ForwardedBytes
	to.DuplicateBytes += m.DuplicateBytes
	to.CacheBytes += m.CacheBytes
}
