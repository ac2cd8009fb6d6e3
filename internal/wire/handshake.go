package wire

import (
	"bytes"
	"errors"
	"io"
)

// Protocol is the protocol string of the handshake.
const Protocol = "AceSwarm/1"

// FirstByte is the first byte of every peer connection; HTTP never starts with it.
const FirstByte = byte(len(Protocol))

// HandshakeSize is the length of a handshake.
const HandshakeSize = 1 + len(Protocol) + 8 + 20 + 20

// Handshake opens a connection.
type Handshake struct {
	InfoHash [20]byte
	PeerID   [20]byte
}

// Marshal encodes the handshake.
func (h Handshake) Marshal() []byte {
	b := make([]byte, 0, HandshakeSize)
	b = append(b, FirstByte)
	b = append(b, Protocol...)
	b = append(b, make([]byte, 8)...)
	b = append(b, h.InfoHash[:]...)
	return append(b, h.PeerID[:]...)
}

// ReadHandshake reads and checks a handshake.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var h Handshake
	b := make([]byte, HandshakeSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return h, err
	}
	if b[0] != FirstByte || !bytes.Equal(b[1:1+len(Protocol)], []byte(Protocol)) {
		return h, errors.New("handshake: not the aceswarm protocol")
	}
	off := 1 + len(Protocol) + 8
	copy(h.InfoHash[:], b[off:])
	copy(h.PeerID[:], b[off+20:])
	return h, nil
}
