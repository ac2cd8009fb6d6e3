// Package progress prints what a long-running command is doing on a terminal — a source node's
// ingest rate, pieces and peers, a bench's progress bar — and nothing when the output is not a
// terminal (a log file, a pipe, a service manager).
package progress
