package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderFixedSize is the size of a piece header without its block hashes and signature.
const HeaderFixedSize = 20 + 4 + 8 + 4 + 4 + 2

// PieceHeader describes one piece; the source signs it.
type PieceHeader struct {
	InfoHash  [20]byte
	Number    uint32
	Time      int64 // source wall clock, unix milliseconds
	Length    uint32
	Keyframe  int32 // offset of the first random access point, or -1
	Blocks    [][32]byte
	Signature [64]byte
}

// HasKeyframe tells whether the piece holds a random access point.
func (h *PieceHeader) HasKeyframe() bool { return h.Keyframe >= 0 }

// NewHeader hashes data in blocks of blockLen and signs the result.
func NewHeader(key ed25519.PrivateKey, ih [20]byte, n uint32, ms int64, keyframe int32, data []byte, blockLen int) *PieceHeader {
	h := &PieceHeader{InfoHash: ih, Number: n, Time: ms, Length: uint32(len(data)), Keyframe: keyframe}
	for off := 0; off < len(data); off += blockLen {
		h.Blocks = append(h.Blocks, sha256.Sum256(data[off:min(off+blockLen, len(data))]))
	}
	copy(h.Signature[:], ed25519.Sign(key, h.signed()))
	return h
}

func (h *PieceHeader) signed() []byte {
	b := make([]byte, HeaderFixedSize, HeaderFixedSize+32*len(h.Blocks))
	copy(b, h.InfoHash[:])
	binary.BigEndian.PutUint32(b[20:], h.Number)
	binary.BigEndian.PutUint64(b[24:], uint64(h.Time))
	binary.BigEndian.PutUint32(b[32:], h.Length)
	binary.BigEndian.PutUint32(b[36:], uint32(h.Keyframe))
	binary.BigEndian.PutUint16(b[40:], uint16(len(h.Blocks)))
	for _, bh := range h.Blocks {
		b = append(b, bh[:]...)
	}
	return b
}

// Marshal encodes the header with its signature.
func (h *PieceHeader) Marshal() []byte { return append(h.signed(), h.Signature[:]...) }

// UnmarshalHeader decodes a header; it does not check the signature.
func UnmarshalHeader(b []byte) (*PieceHeader, error) {
	if len(b) < HeaderFixedSize+64 {
		return nil, errors.New("piece header: short")
	}
	h := &PieceHeader{
		Number:   binary.BigEndian.Uint32(b[20:]),
		Time:     int64(binary.BigEndian.Uint64(b[24:])),
		Length:   binary.BigEndian.Uint32(b[32:]),
		Keyframe: int32(binary.BigEndian.Uint32(b[36:])),
	}
	copy(h.InfoHash[:], b)
	n := int(binary.BigEndian.Uint16(b[40:]))
	if len(b) != HeaderFixedSize+32*n+64 {
		return nil, fmt.Errorf("piece header: %d bytes for %d blocks", len(b), n)
	}
	h.Blocks = make([][32]byte, n)
	for i := range h.Blocks {
		copy(h.Blocks[i][:], b[HeaderFixedSize+32*i:])
	}
	copy(h.Signature[:], b[HeaderFixedSize+32*n:])
	return h, nil
}

// Verify checks the signature and that the header fits the stream's parameters.
func (h *PieceHeader) Verify(key ed25519.PublicKey, ih [20]byte, pieceLen, blockLen int) error {
	switch {
	case h.InfoHash != ih:
		return errors.New("piece header: other infohash")
	case h.Length == 0 || int64(h.Length) > int64(pieceLen) || h.Length%188 != 0:
		return fmt.Errorf("piece header: bad length %d", h.Length)
	case len(h.Blocks) != (int(h.Length)+blockLen-1)/blockLen:
		return errors.New("piece header: block count does not match length")
	case h.Keyframe < -1 || h.Keyframe >= int32(h.Length):
		return errors.New("piece header: keyframe offset out of range")
	case !ed25519.Verify(key, h.signed(), h.Signature[:]):
		return errors.New("piece header: bad signature")
	}
	return nil
}

// BlockSize is the length of block i of a piece described by h.
func (h *PieceHeader) BlockSize(i, blockLen int) int {
	return min(blockLen, int(h.Length)-i*blockLen)
}

// CheckBlock verifies block i's data against its hash.
func (h *PieceHeader) CheckBlock(i, blockLen int, data []byte) error {
	if i < 0 || i >= len(h.Blocks) {
		return fmt.Errorf("block %d of piece %d: no such block", i, h.Number)
	}
	if len(data) != h.BlockSize(i, blockLen) {
		return fmt.Errorf("block %d of piece %d: %d bytes, want %d", i, h.Number, len(data), h.BlockSize(i, blockLen))
	}
	if sha256.Sum256(data) != h.Blocks[i] {
		return fmt.Errorf("block %d of piece %d: hash mismatch", i, h.Number)
	}
	return nil
}
