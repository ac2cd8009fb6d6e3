// Package synth makes the benches' synthetic stream: MPEG-TS whose video frames carry a Marker,
// a sequence number and the wall-clock time they were made.
package synth
