// Package tracker is a BitTorrent tracker (HTTP announce with compact peers, and UDP) keeping its
// peers in memory. The protocol handling is anacrolix/torrent's; the peer store is ours.
package tracker
