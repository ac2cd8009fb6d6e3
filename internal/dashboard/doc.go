// Package dashboard is the page an operator opens at a node's web port (and a viewer engine's
// player port): role, streams, a peer table, download and upload charts over the last minutes,
// the live window, players and startup times, refreshing itself from a JSON snapshot; and, on a
// viewer engine, a player page playing a stream in the browser with hls.js. Every asset is
// embedded: nothing is loaded from the internet (docs/dashboard.md says how hls.js is brought in).
package dashboard
