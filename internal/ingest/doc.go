// Package ingest reads a live MPEG-TS source (http(s)://, udp://, a file, or stdin) and delivers
// whole 188-byte packets.
package ingest
