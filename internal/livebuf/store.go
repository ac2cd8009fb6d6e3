package livebuf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Store keeps piece bytes. Sizes are fixed when a piece is created.
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

// DiskStore keeps each piece in a file of its own in one folder, which it empties when it
// opens and removes when it closes.
type DiskStore struct {
	dir string
}

// NewDiskStore makes (or empties) dir.
func NewDiskStore(dir string) (*DiskStore, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("live cache %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("live cache %s: %w", dir, err)
	}
	return &DiskStore{dir: dir}, nil
}

func (d *DiskStore) path(n uint32) string {
	return filepath.Join(d.dir, strconv.FormatUint(uint64(n), 10)+".piece")
}

func (d *DiskStore) Create(n uint32, size int) error {
	f, err := os.Create(d.path(n))
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(int64(size))
}

func (d *DiskStore) WriteAt(n uint32, off int, b []byte) error {
	f, err := os.OpenFile(d.path(n), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, int64(off))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *DiskStore) ReadAt(n uint32, off, size int) ([]byte, error) {
	f, err := os.Open(d.path(n))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	_, err = f.ReadAt(b, int64(off))
	return b, err
}

func (d *DiskStore) Remove(n uint32) { os.Remove(d.path(n)) }

func (d *DiskStore) Close() error { return os.RemoveAll(d.dir) }
