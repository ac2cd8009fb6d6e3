package livebuf

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// Piece is what the buffer knows of one piece; its bytes are in the store.
type Piece struct {
	Header   *wire.PieceHeader
	have     []bool
	missing  int
	Complete bool
	DoneAt   time.Time
}

// HasBlock tells whether block i has arrived. Only the goroutine that puts blocks may call it.
func (p *Piece) HasBlock(i int) bool { return i < len(p.have) && p.have[i] }

// Buffer is the window. All methods are safe for concurrent use.
type Buffer struct {
	blockLen int
	limit    int64
	store    Store

	mu       sync.Mutex // guards everything below
	pieces   map[uint32]*Piece
	first    uint32 // lowest retained number, when pieces is not empty
	floor    uint32 // numbers below it were evicted and are refused
	last     uint32 // highest complete number, when hasLast
	hasLast  bool
	bytes    int64
	keyframe uint32 // newest complete piece with a keyframe
	hasKey   bool
	gone     uint32 // pieces below it will never come (see Gone)
	notify   chan struct{}
}

// Gone tells that no piece numbered below n will ever come (the source holds nothing older, as
// after its restart): readers waiting for one go on at the next keyframe piece at once instead
// of after SkipAfter.
func (b *Buffer) Gone(n uint32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.gone {
		b.gone = n
		close(b.notify)
		b.notify = make(chan struct{})
	}
}

// New returns an empty buffer holding at most limit bytes of piece data in store (in memory
// when store is nil).
func New(blockLen int, limit int64, store Store) *Buffer {
	if store == nil {
		store = NewMemoryStore()
	}
	return &Buffer{blockLen: blockLen, limit: limit, store: store, pieces: map[uint32]*Piece{}, notify: make(chan struct{})}
}

// Close releases the store (a disk store removes its files).
func (b *Buffer) Close() error { return b.store.Close() }

// ErrUnknownPiece means a block came for a piece whose header is not known.
var ErrUnknownPiece = errors.New("no header for piece")

// AddHeader makes room for a piece whose header was verified. It returns false if the piece is
// already known or too old to keep.
func (b *Buffer) AddHeader(h *wire.PieceHeader) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.pieces[h.Number]; ok || h.Number < b.floor || int64(h.Length) > b.limit {
		return false
	}
	if len(b.pieces) > 0 && h.Number < b.first && b.bytes+int64(h.Length) > b.limit {
		return false // older than everything held, and no room for it
	}
	b.evict(int64(h.Length))
	for {
		err := b.store.Create(h.Number, int(h.Length))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoRoom) || len(b.pieces) == 0 || h.Number < b.first {
			return false
		}
		b.evictOldest() // the disk store's free space is not in one span: free more of it
	}
	if len(b.pieces) == 0 || h.Number < b.first {
		b.first = h.Number
	}
	b.pieces[h.Number] = &Piece{Header: h, have: make([]bool, len(h.Blocks)), missing: len(h.Blocks)}
	b.bytes += int64(h.Length)
	return true
}

// Header returns the header of piece n, if known.
func (b *Buffer) Header(n uint32) *wire.PieceHeader {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.pieces[n]; p != nil {
		return p.Header
	}
	return nil
}

// PutBlock verifies and stores block i of piece n. It reports whether the piece became complete.
// An error means the data does not match the signed header.
func (b *Buffer) PutBlock(n uint32, i int, data []byte) (complete bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pieces[n]
	if p == nil {
		return false, ErrUnknownPiece
	}
	if err := p.Header.CheckBlock(i, b.blockLen, data); err != nil {
		return false, err
	}
	if p.have[i] {
		return false, nil
	}
	if err := b.store.WriteAt(n, i*b.blockLen, data); err != nil {
		return false, fmt.Errorf("live cache: %w", err)
	}
	p.have[i] = true
	p.missing--
	if p.missing == 0 {
		b.completeLocked(p)
		return true, nil
	}
	return false, nil
}

// AddComplete stores a whole piece the caller made and signed.
func (b *Buffer) AddComplete(h *wire.PieceHeader, data []byte) error {
	if int(h.Length) != len(data) {
		return fmt.Errorf("piece %d: %d bytes, header says %d", h.Number, len(data), h.Length)
	}
	if !b.AddHeader(h) {
		return fmt.Errorf("piece %d: already present or too old", h.Number)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pieces[h.Number]
	if p == nil {
		return fmt.Errorf("piece %d: evicted at once", h.Number)
	}
	if err := b.store.WriteAt(h.Number, 0, data); err != nil {
		return fmt.Errorf("live cache: %w", err)
	}
	for i := range p.have {
		p.have[i] = true
	}
	p.missing = 0
	b.completeLocked(p)
	return nil
}

func (b *Buffer) completeLocked(p *Piece) {
	p.Complete, p.DoneAt = true, time.Now()
	n := p.Header.Number
	if !b.hasLast || n > b.last {
		b.last, b.hasLast = n, true
	}
	if p.Header.HasKeyframe() && (!b.hasKey || n > b.keyframe) {
		b.keyframe, b.hasKey = n, true
	}
	close(b.notify)
	b.notify = make(chan struct{})
}

// evict drops the oldest pieces until room more bytes fit within the limit.
func (b *Buffer) evict(room int64) {
	for b.bytes+room > b.limit && len(b.pieces) > 0 {
		b.evictOldest()
	}
}

// evictOldest drops the oldest piece; numbers up to it are refused from now on.
func (b *Buffer) evictOldest() {
	if p := b.pieces[b.first]; p != nil {
		b.bytes -= int64(p.Header.Length)
		delete(b.pieces, b.first)
		b.store.Remove(b.first)
	}
	b.first++
	b.floor = b.first
	for len(b.pieces) > 0 && b.pieces[b.first] == nil {
		b.first++
	}
}

// Get returns piece n if it is complete.
func (b *Buffer) Get(n uint32) *Piece {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.pieces[n]; p != nil && p.Complete {
		return p
	}
	return nil
}

// Data reads the bytes of complete piece n. Reads happen outside the buffer's lock (a complete
// piece is never written again; one evicted meanwhile fails to read), so a slow disk delays only
// its reader, not the swarm.
func (b *Buffer) Data(n uint32) ([]byte, error) {
	b.mu.Lock()
	p := b.pieces[n]
	ok := p != nil && p.Complete
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("piece %d: not held", n)
	}
	return b.store.ReadAt(n, 0, int(p.Header.Length))
}

// Block reads block i of complete piece n (outside the lock, as Data).
func (b *Buffer) Block(n uint32, i int) ([]byte, error) {
	b.mu.Lock()
	p := b.pieces[n]
	ok := p != nil && p.Complete && i >= 0 && i < len(p.Header.Blocks)
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("piece %d block %d: not held", n, i)
	}
	return b.store.ReadAt(n, i*b.blockLen, p.Header.BlockSize(i, b.blockLen))
}

// Incomplete returns piece n if its header is known and it is not complete, for the scheduler.
func (b *Buffer) Incomplete(n uint32) *Piece {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.pieces[n]; p != nil && !p.Complete {
		return p
	}
	return nil
}

// Window describes what the buffer holds, for peers.
func (b *Buffer) Window() wire.WindowInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return wire.WindowInfo{
		First: b.first, Last: b.last, Keyframe: b.keyframe,
		Empty: !b.hasLast, NoKeyframe: !b.hasKey,
	}
}

// Newest returns the header of the newest complete piece, or nil.
func (b *Buffer) Newest() *wire.PieceHeader {
	w := b.Window()
	if w.Empty {
		return nil
	}
	if p := b.Get(w.Last); p != nil {
		return p.Header
	}
	return nil
}

// Bytes is the amount of piece data held.
func (b *Buffer) Bytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// Changed returns a channel closed at the next completed piece.
func (b *Buffer) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.notify
}

// TimeRange returns the source times (unix ms) of the oldest and newest complete pieces held,
// and how many pieces are held.
func (b *Buffer) TimeRange() (first, last int64, pieces int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.hasLast {
		return 0, 0, len(b.pieces)
	}
	for n := b.first; n <= b.last && n >= b.first; n++ {
		if p := b.pieces[n]; p != nil && p.Complete {
			first = p.Header.Time
			break
		}
	}
	if p := b.pieces[b.last]; p != nil {
		last = p.Header.Time
	}
	return first, last, len(b.pieces)
}
