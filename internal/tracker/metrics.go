package tracker

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var (
	descSwarms    = prometheus.NewDesc("aceswarm_tracker_swarms", "Infohashes with at least one live peer.", nil, nil)
	descPeers     = prometheus.NewDesc("aceswarm_tracker_peers", "Live peers in all swarms.", nil, nil)
	descAnnounces = prometheus.NewDesc("aceswarm_tracker_announces_total", "Announces received (HTTP and UDP).", nil, nil)
)

// MetricsHandler serves the store's figures, and the process's, in Prometheus's text format, from
// a registry of its own.
func MetricsHandler(s *Store) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(storeCollector{s}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

type storeCollector struct{ s *Store }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSwarms
	ch <- descPeers
	ch <- descAnnounces
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	swarms, peers, announces := len(c.s.swarms), c.s.total, c.s.announces
	c.s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descSwarms, prometheus.GaugeValue, float64(swarms))
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(peers))
	ch <- prometheus.MustNewConstMetric(descAnnounces, prometheus.CounterValue, float64(announces))
}
