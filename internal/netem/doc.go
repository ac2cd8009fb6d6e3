// Package netem delays a connection's traffic in user space: every byte written through a delayed
// connection reaches the other end one set delay later, and every byte the other end sends is
// read one set delay later. The benchmarks use it to give links a round-trip time on machines
// whose kernel has no netem queueing discipline. Bandwidth is not limited and nothing is lost.
package netem
