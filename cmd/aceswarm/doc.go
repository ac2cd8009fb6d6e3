// Command aceswarm runs an aceswarm node, tracker, or tool; see docs/cli.md.
package main
