// Package wire encodes and decodes the aceswarm peer protocol (docs/protocol.md).
package wire
