// Package fakeengine is a stand-in for AceStream's own engine (a closed binary that cannot run
// here), written from ../shared/reference/acestream-compat.md: the player HTTP API that acexy and
// aceswarm proxy use (getstream with format=json, the playback, stat and command URLs) and the
// health probes, serving a Broadcast. Its faults are set at run time: slow prebuffering, a dead
// channel, a stall after some seconds, an error status, a failing stop, a crash; and it counts
// its sessions, playback connections and calls, for tests and benchmarks.
package fakeengine
