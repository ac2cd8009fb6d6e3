// Package hls cuts a live MPEG-TS into HLS segments and serves the playlist and the segments.
// The viewer engine's player API and the proxy share it: each feeds it the spliced stream of a
// channel (one continuous MPEG-TS), marking where random access points start.
package hls
