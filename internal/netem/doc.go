// Package netem shapes connections in user space, for benchmarks on machines whose kernel has no
// netem queueing discipline: a Link gives the bytes a node sends a one-way delay with jitter
// (order kept, as TCP keeps it), an upload limit its connections share, and pauses standing in
// for loss and retransmission. Nothing is lost or reordered.
package netem
