// Package e2e holds end-to-end tests that run the aceswarm binary as real processes on distinct
// loopback addresses, with ffmpeg as the live source and as the player.
package e2e
