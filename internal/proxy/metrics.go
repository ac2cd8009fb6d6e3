package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the proxy's Prometheus series, in a registry of its own (docs/proxy.md).
type metrics struct {
	reg         *prometheus.Registry
	channels    prometheus.Gauge
	clients     prometheus.Gauge
	bytesOut    prometheus.Counter
	bytesIn     prometheus.Counter
	sessions    prometheus.Counter
	reopens     prometheus.Counter
	failovers   prometheus.Counter
	slowDrops   prometheus.Counter
	skips       prometheus.Counter
	failures    *prometheus.CounterVec
	ttfb        prometheus.Histogram
	upstreamGap prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg:       prometheus.NewRegistry(),
		channels:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "aceswarm_proxy_channels", Help: "Channels open (one engine session each)."}),
		clients:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "aceswarm_proxy_clients", Help: "MPEG-TS clients connected."}),
		bytesOut:  prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_bytes_out_total", Help: "Stream bytes written to clients."}),
		bytesIn:   prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_bytes_in_total", Help: "Stream bytes read from engines."}),
		sessions:  prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_engine_sessions_total", Help: "Engine sessions started (format=json calls answered)."}),
		reopens:   prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_upstream_reopens_total", Help: "Upstream connections reopened after a break or silence."}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_failovers_total", Help: "Channels moved to another engine."}),
		slowDrops: prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_slow_client_drops_total", Help: "Clients disconnected for taking nothing within -client-timeout."}),
		skips:     prometheus.NewCounter(prometheus.CounterOpts{Name: "aceswarm_proxy_client_skips_total", Help: "Clients that fell out of the ring and skipped to the newest keyframe."}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aceswarm_proxy_channel_failures_total", Help: "Channels that ended with an error, by reason."},
			[]string{"reason"}),
		ttfb: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "aceswarm_proxy_time_to_first_byte_seconds", Help: "From a client's request to its first stream bytes.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		upstreamGap: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "aceswarm_proxy_upstream_gap_seconds", Help: "From the last byte of a broken upstream connection to the first of the next.",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60}}),
	}
	m.reg.MustRegister(m.channels, m.clients, m.bytesOut, m.bytesIn, m.sessions, m.reopens, m.failovers, m.slowDrops, m.skips,
		m.failures, m.ttfb, m.upstreamGap, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
