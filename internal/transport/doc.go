// Package transport reads and writes the .acelive transport file that identifies a stream.
package transport
