// Package promtest reads Prometheus /metrics in tests: the text format parsed with expfmt, the
// way Prometheus itself reads it.
package promtest
