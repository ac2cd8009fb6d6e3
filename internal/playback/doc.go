// Package playback is the viewer engine's playback core. Per stream it owns one object: the
// swarm session's lifetime, the live buffer, the fan-out ring every player of the stream reads,
// the HLS segmenter, and the stream's playback sessions with their status. The HTTP player API,
// the TCP engine API and the node web interface are adapters over it: there is one registry,
// one idle policy and one status function.
package playback
