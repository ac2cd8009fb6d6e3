package livebuf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Store keeps piece bytes. Sizes are fixed when a piece is created; Create may fail with
// ErrNoRoom (a disk store whose free space is not in one span), and the caller frees a piece and
// tries again.
type Store interface {
	Create(n uint32, size int) error
	WriteAt(n uint32, off int, b []byte) error
	ReadAt(n uint32, off, size int) ([]byte, error)
	Remove(n uint32)
	Close() error
}

// MemoryStore keeps pieces in memory.
type MemoryStore struct {
	mu     sync.Mutex // guards pieces
	pieces map[uint32][]byte
}

// NewMemoryStore returns an empty memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{pieces: map[uint32][]byte{}} }

func (m *MemoryStore) Create(n uint32, size int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pieces[n] = make([]byte, size)
	return nil
}

func (m *MemoryStore) WriteAt(n uint32, off int, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pieces[n]
	if p == nil || off+len(b) > len(p) {
		return fmt.Errorf("piece %d: write outside the piece", n)
	}
	copy(p[off:], b)
	return nil
}

// ReadAt returns the stored bytes themselves; pieces are never written after they complete.
func (m *MemoryStore) ReadAt(n uint32, off, size int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pieces[n]
	if p == nil || off+size > len(p) {
		return nil, fmt.Errorf("piece %d: not stored", n)
	}
	return p[off : off+size : off+size], nil
}

func (m *MemoryStore) Remove(n uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pieces, n)
}

func (m *MemoryStore) Close() error { return nil }

// DiskStore keeps the pieces in one file of the cache's size, used as a circular log: a new
// piece goes into the first free span from where the previous one ended, wrapping to the start,
// so the disk never holds more than the file, and a piece costs one write a block and one read a
// block or piece, not the creation, opening and removal of a file of its own (which took a
// tenth of a 50-viewer bench's CPU). Reads and writes go on outside the lock; the span of a piece
// removed while it is read is not reused until the read ends, so a reader never gets another
// piece's bytes. The folder is emptied when the store opens and removed when it closes.
type DiskStore struct {
	dir  string
	f    *os.File
	size int64

	mu     sync.Mutex // guards the fields below
	head   int64      // where the newest piece ends: the next one is placed from here
	pieces map[uint32]*span
	gone   []*span // spans of removed pieces still being read or written
}

// span is where a piece lies in the file.
type span struct {
	off, n int64
	users  int  // reads and writes going on
	gone   bool // the piece was removed: the span is free once users is 0
}

// ErrNoRoom means no free span of the file can take a new piece: the caller frees one and tries
// again.
var ErrNoRoom = errors.New("no room in the live cache")

// NewDiskStore makes (or empties) dir and creates in it the cache file of size bytes.
func NewDiskStore(dir string, size int64) (*DiskStore, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("live cache %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("live cache %s: %w", dir, err)
	}
	f, err := os.Create(filepath.Join(dir, "pieces"))
	if err != nil {
		return nil, fmt.Errorf("live cache %s: %w", dir, err)
	}
	if err := f.Truncate(size); err != nil { // sparse: the disk holds what was written
		f.Close()
		return nil, fmt.Errorf("live cache %s: %w", dir, err)
	}
	return &DiskStore{dir: dir, f: f, size: size, pieces: map[uint32]*span{}}, nil
}

func (d *DiskStore) Create(n uint32, size int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pieces[n]; ok {
		d.removeLocked(n)
	}
	off, ok := d.place(int64(size))
	if !ok {
		return ErrNoRoom
	}
	d.pieces[n] = &span{off: off, n: int64(size)}
	d.head = off + int64(size)
	return nil
}

// place finds the first offset, from head on and wrapping once, where size bytes overlap no
// piece held or still in use; d.mu is held. Each turn moves past a span in the way, so the search
// ends at the file's end or, wrapped, back at head.
func (d *DiskStore) place(size int64) (int64, bool) {
	if size > d.size {
		return 0, false
	}
	off, wrapped := d.head, false
	for {
		if off+size > d.size || wrapped && off >= d.head {
			if wrapped {
				return 0, false
			}
			off, wrapped = 0, true
		}
		end, clash := d.clash(off, off+size)
		if !clash {
			return off, true
		}
		off = end
	}
}

// clash tells whether [from, to) overlaps a span in use, and where the last such span ends (no
// offset before it can take the bytes either); d.mu is held.
func (d *DiskStore) clash(from, to int64) (int64, bool) {
	end, hit := int64(0), false
	check := func(s *span) {
		if s.off < to && from < s.off+s.n {
			end, hit = max(end, s.off+s.n), true
		}
	}
	for _, s := range d.pieces {
		check(s)
	}
	for _, s := range d.gone {
		check(s)
	}
	return end, hit
}

// use finds the span of bytes [off, off+size) of piece n and counts a user of it.
func (d *DiskStore) use(n uint32, off, size int) (*span, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.pieces[n]
	if s == nil || off < 0 || int64(off+size) > s.n {
		return nil, fmt.Errorf("piece %d: not stored", n)
	}
	s.users++
	return s, nil
}

// done ends a use of s; a removed piece's span is free after its last.
func (d *DiskStore) done(s *span) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s.users--
	if s.gone && s.users == 0 {
		d.gone = slices.DeleteFunc(d.gone, func(g *span) bool { return g == s })
	}
}

func (d *DiskStore) WriteAt(n uint32, off int, b []byte) error {
	s, err := d.use(n, off, len(b))
	if err != nil {
		return err
	}
	defer d.done(s)
	_, err = d.f.WriteAt(b, s.off+int64(off))
	return err
}

func (d *DiskStore) ReadAt(n uint32, off, size int) ([]byte, error) {
	s, err := d.use(n, off, size)
	if err != nil {
		return nil, err
	}
	defer d.done(s)
	b := make([]byte, size)
	_, err = d.f.ReadAt(b, s.off+int64(off))
	return b, err
}

func (d *DiskStore) Remove(n uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked(n)
}

func (d *DiskStore) removeLocked(n uint32) {
	s := d.pieces[n]
	if s == nil {
		return
	}
	delete(d.pieces, n)
	if s.users > 0 {
		s.gone = true
		d.gone = append(d.gone, s)
	}
}

func (d *DiskStore) Close() error {
	return errors.Join(d.f.Close(), os.RemoveAll(d.dir))
}
