// Package metatracker is AceStream's metatracker: an HTTP JSON service that tells nodes the
// trackers and startup nodes of a stream, and the client nodes use to ask it.
package metatracker
