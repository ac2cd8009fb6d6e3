// Package fanout serves one MPEG-TS stream to many clients: a Ring of append-only blocks that
// every client reads without copying, an Ingest that makes the bytes entering it one decodable
// stream with its random access points indexed, and a Client that writes the ring to a socket.
// The proxy and the viewer engine's playback core both fan out through it.
package fanout
