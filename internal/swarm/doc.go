// Package swarm runs the peer side of one live stream: connections, scheduling, uploads,
// discovery (trackers, peer exchange) and transport-file exchange.
package swarm
