package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Type is a message type.
type Type uint8

// Message types.
const (
	KeepAlive Type = iota
	Hello
	Window
	Have
	GetHeader
	Header
	Request
	Piece
	Cancel
	Reject
	Choke
	Unchoke
	Pex
	GetMetadata
	Metadata
	Subscribe // asks a peer to forward the blocks of the substreams in Mask (0: none)
	Tree      // a node's place in the substream trees: what it grants the receiver, its free slots, its depths
)

// Substreams is how many substreams a stream's blocks are dealt into: block i of every piece
// belongs to substream i % Substreams, and each substream has its own forwarding tree.
const Substreams = 4

// NoDepth in a TREE message: the node has no path from the source for that substream.
const NoDepth = 255

// MaxFrame bounds the length of one frame.
const MaxFrame = 2<<20 + 64

// MaxPex is the most addresses one PEX message carries.
const MaxPex = 50

// HeaderBlock in a REJECT means the header was rejected.
const HeaderBlock = 0xFFFF

// Roles of nodes.
const (
	RoleSource  = 1
	RoleSupport = 2
	RoleStartup = 3
	RoleViewer  = 4
)

// WindowInfo is the live window of a node.
type WindowInfo struct {
	First, Last uint32
	Keyframe    uint32
	Empty       bool
	NoKeyframe  bool
}

// Message is one decoded message; which fields are set depends on Type.
type Message struct {
	Type     Type
	Role     uint8
	Port     uint16
	Window   WindowInfo
	Header   *PieceHeader // Hello (optional), Header
	Number   uint32       // Have, GetHeader, Request, Piece, Cancel, Reject
	Block    uint16       // Request, Piece, Cancel, Reject
	Keyframe bool         // Have
	Data     []byte       // Piece, Metadata
	Peers    []netip.AddrPort
	Mask     uint16            // Subscribe, Tree: substreams asked for, or granted
	Free     uint8             // Tree: substreams the node could still take children for
	Reply    bool              // Tree: the answer to a Subscribe (else an update)
	Depths   [Substreams]uint8 // Tree: hops from the source in each substream's tree, or NoDepth
}

// Append encodes m as a frame appended to b.
func (m *Message) Append(b []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	if m.Type != KeepAlive {
		b = append(b, byte(m.Type))
		b = m.appendPayload(b)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

func (m *Message) appendPayload(b []byte) []byte {
	switch m.Type {
	case Hello:
		b = append(b, m.Role)
		b = binary.BigEndian.AppendUint16(b, m.Port)
		b = appendWindow(b, m.Window)
		if m.Header != nil {
			b = append(b, m.Header.Marshal()...)
		}
	case Window:
		b = appendWindow(b, m.Window)
	case Have:
		b = binary.BigEndian.AppendUint32(b, m.Number)
		b = append(b, boolByte(m.Keyframe))
	case GetHeader:
		b = binary.BigEndian.AppendUint32(b, m.Number)
	case Header:
		b = append(b, m.Header.Marshal()...)
	case Request, Cancel, Reject:
		b = binary.BigEndian.AppendUint32(b, m.Number)
		b = binary.BigEndian.AppendUint16(b, m.Block)
	case Piece:
		b = binary.BigEndian.AppendUint32(b, m.Number)
		b = binary.BigEndian.AppendUint16(b, m.Block)
		b = append(b, m.Data...)
	case Pex:
		for _, p := range m.Peers[:min(len(m.Peers), MaxPex)] {
			b = appendAddr(b, p)
		}
	case Metadata:
		b = append(b, m.Data...)
	case Subscribe:
		b = binary.BigEndian.AppendUint16(b, m.Mask)
	case Tree:
		b = binary.BigEndian.AppendUint16(b, m.Mask)
		b = append(b, m.Free, boolByte(m.Reply))
		b = append(b, m.Depths[:]...)
	}
	return b
}

func appendWindow(b []byte, w WindowInfo) []byte {
	b = binary.BigEndian.AppendUint32(b, w.First)
	b = binary.BigEndian.AppendUint32(b, w.Last)
	b = binary.BigEndian.AppendUint32(b, w.Keyframe)
	return append(b, boolByte(w.Empty)|boolByte(w.NoKeyframe)<<1)
}

func appendAddr(b []byte, p netip.AddrPort) []byte {
	a := p.Addr().Unmap()
	if a.Is4() {
		b = append(b, 4)
	} else {
		b = append(b, 6)
	}
	b = append(b, a.AsSlice()...)
	return binary.BigEndian.AppendUint16(b, p.Port())
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// ReadFrame reads one frame into buf (grown as needed) and returns its bytes after the length.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n > MaxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrProtocol, n, MaxFrame)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(r, buf)
	return buf, err
}

var errShort = errors.New("short payload")

// ErrProtocol marks what breaks the protocol (a frame too large, a message that does not parse),
// as opposed to a connection that failed.
var ErrProtocol = errors.New("protocol violation")

// Decode parses a frame's bytes (type and payload). Data fields alias b.
func Decode(b []byte) (*Message, error) {
	if len(b) == 0 {
		return &Message{Type: KeepAlive}, nil
	}
	m := &Message{Type: Type(b[0])}
	if err := m.decodePayload(b[1:]); err != nil {
		return nil, fmt.Errorf("%w: message type %d: %w", ErrProtocol, m.Type, err)
	}
	return m, nil
}

func (m *Message) decodePayload(p []byte) (err error) {
	switch m.Type {
	case Hello:
		if len(p) < 3+13 {
			return errShort
		}
		m.Role, m.Port = p[0], binary.BigEndian.Uint16(p[1:])
		m.Window = decodeWindow(p[3:])
		if rest := p[16:]; len(rest) > 0 {
			m.Header, err = UnmarshalHeader(rest)
		}
	case Window:
		if len(p) != 13 {
			return errShort
		}
		m.Window = decodeWindow(p)
	case Have:
		if len(p) != 5 {
			return errShort
		}
		m.Number, m.Keyframe = binary.BigEndian.Uint32(p), p[4]&1 != 0
	case GetHeader:
		if len(p) != 4 {
			return errShort
		}
		m.Number = binary.BigEndian.Uint32(p)
	case Header:
		m.Header, err = UnmarshalHeader(p)
	case Request, Cancel, Reject:
		if len(p) != 6 {
			return errShort
		}
		m.Number, m.Block = binary.BigEndian.Uint32(p), binary.BigEndian.Uint16(p[4:])
	case Piece:
		if len(p) < 7 {
			return errShort
		}
		m.Number, m.Block, m.Data = binary.BigEndian.Uint32(p), binary.BigEndian.Uint16(p[4:]), p[6:]
	case Pex:
		m.Peers, err = decodePex(p)
	case Metadata:
		m.Data = p
	case Subscribe:
		if len(p) != 2 {
			return errShort
		}
		m.Mask = binary.BigEndian.Uint16(p)
	case Tree:
		if len(p) != 4+Substreams {
			return errShort
		}
		m.Mask, m.Free, m.Reply = binary.BigEndian.Uint16(p), p[2], p[3]&1 != 0
		copy(m.Depths[:], p[4:])
	case Choke, Unchoke, GetMetadata:
		if len(p) != 0 {
			return errors.New("unexpected payload")
		}
	default:
		return errors.New("unknown type")
	}
	return err
}

func decodeWindow(p []byte) WindowInfo {
	return WindowInfo{
		First: binary.BigEndian.Uint32(p), Last: binary.BigEndian.Uint32(p[4:]),
		Keyframe: binary.BigEndian.Uint32(p[8:]), Empty: p[12]&1 != 0, NoKeyframe: p[12]&2 != 0,
	}
}

func decodePex(p []byte) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for len(p) > 0 {
		var n int
		switch p[0] {
		case 4:
			n = 4
		case 6:
			n = 16
		default:
			return nil, errors.New("pex: bad address family")
		}
		if len(p) < 1+n+2 {
			return nil, errShort
		}
		a, _ := netip.AddrFromSlice(p[1 : 1+n])
		out = append(out, netip.AddrPortFrom(a, binary.BigEndian.Uint16(p[1+n:])))
		if len(out) > MaxPex {
			return nil, errors.New("pex: too many addresses")
		}
		p = p[1+n+2:]
	}
	return out, nil
}
