// Package proxy is aceswarm's multiplexing proxy, a drop-in for acexy: one engine session per
// channel, its MPEG-TS fanned out to any number of clients through a bounded ring, in front of
// one AceStream-compatible engine or a pool of them (docs/proxy.md).
package proxy
