// Package bench measures aceswarm as its users would feel it: `aceswarm bench swarm` runs a whole
// swarm in one process (a source fed by the synthetic stream, relays, viewer engines with
// real-time players modelled frame by frame; churn, round-trip times, a hostile peer and slow
// players on demand) and reports startup, continuity, stalls, lag and upload by role; `aceswarm
// bench fanout` reads one stream with many clients and measures the server's CPU and memory per
// GB delivered. See docs/benchmarks.md.
package bench
