// Package livebuf keeps the sliding window of a live stream's verified pieces, bounded in bytes,
// and lets readers walk it in order.
package livebuf
