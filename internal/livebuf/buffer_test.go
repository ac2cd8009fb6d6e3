package livebuf

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

var _, testKey, _ = ed25519.GenerateKey(nil)

func piece(n uint32, key bool, size int) (*wire.PieceHeader, []byte) {
	data := bytes.Repeat([]byte{byte(n)}, size)
	kf := int32(-1)
	if key {
		kf = 0
	}
	return wire.NewHeader(testKey, [20]byte{}, n, time.Now().UnixMilli(), kf, data, 1000), data
}

func TestBlocksCompleteAPiece(t *testing.T) {
	b := New(1000, 1<<20, nil)
	h, data := piece(5, true, 2500)
	if !b.AddHeader(h) || b.AddHeader(h) {
		t.Fatal("AddHeader should accept once")
	}
	if !b.Window().Empty {
		t.Fatal("window not empty before completion")
	}
	if _, err := b.PutBlock(5, 0, bytes.Repeat([]byte{9}, 1000)); err == nil {
		t.Fatal("forged block stored")
	}
	for i, want := range []bool{false, false, true} {
		done, err := b.PutBlock(5, i, data[i*1000:min(i*1000+1000, len(data))])
		if err != nil || done != want {
			t.Fatalf("block %d: done=%v err=%v", i, done, err)
		}
	}
	if got, err := b.Data(5); err != nil || !bytes.Equal(got, data) {
		t.Fatal("piece not complete")
	}
	if w := b.Window(); w.Empty || w.Last != 5 || w.Keyframe != 5 || w.NoKeyframe {
		t.Fatalf("window %+v", w)
	}
	if _, err := b.PutBlock(6, 0, nil); err != ErrUnknownPiece {
		t.Fatal(err)
	}
}

func TestEvictionKeepsWithinLimit(t *testing.T) {
	b := New(1000, 10_000, nil)
	for n := uint32(0); n < 100; n++ {
		h, d := piece(n, n%4 == 0, 3000)
		if err := b.AddComplete(h, d); err != nil {
			t.Fatal(err)
		}
		if b.Bytes() > 10_000 {
			t.Fatalf("buffer holds %d bytes", b.Bytes())
		}
	}
	if w := b.Window(); w.First != 97 || w.Last != 99 || w.Keyframe != 96 {
		t.Fatalf("window %+v", w)
	}
	h, _ := piece(3, false, 3000)
	if b.AddHeader(h) {
		t.Fatal("evicted number accepted again")
	}
}

func TestReaderStartsAtKeyframeAndSkipsMissing(t *testing.T) {
	b := New(1000, 1<<20, nil)
	for _, n := range []uint32{10, 11, 12} {
		h, d := piece(n, n == 11, 1000)
		b.AddComplete(h, d)
	}
	r := b.NewReader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.Next(ctx)
	if err != nil || c.Header.Number != 11 || !c.Gap || c.Data[0] != 11 {
		t.Fatalf("first: %+v %v", c, err)
	}
	if c, _ = r.Next(ctx); c.Header.Number != 12 || c.Gap {
		t.Fatalf("second: %d %v", c.Header.Number, c.Gap)
	}
	// 13 never comes; 14 (no keyframe) and 15 (keyframe) do: the reader skips to 15 after SkipAfter.
	for _, n := range []uint32{14, 15} {
		h, d := piece(n, n == 15, 1000)
		b.AddComplete(h, d)
	}
	start := time.Now()
	c, err = r.Next(ctx)
	if err != nil || c.Header.Number != 15 || !c.Gap {
		t.Fatalf("after gap: %+v %v", c, err)
	}
	if waited := time.Since(start); waited < SkipAfter {
		t.Fatalf("skipped after %v, before SkipAfter", waited)
	}
}

func TestReaderHonoursContext(t *testing.T) {
	b := New(1000, 1<<20, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := b.NewReader().Next(ctx); err == nil {
		t.Fatal("Next returned without data")
	}
}

// The disk store never holds more than the limit, and leaves nothing behind when closed.
func TestDiskStoreStaysWithinLimit(t *testing.T) {
	dir := t.TempDir() + "/live"
	store, err := NewDiskStore(dir, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	b := New(1000, 10_000, store)
	for n := uint32(0); n < 50; n++ {
		h, d := piece(n, n%4 == 0, 3000)
		if err := b.AddComplete(h, d); err != nil {
			t.Fatal(err)
		}
		if used := dirSize(t, dir); used > 10_000 {
			t.Fatalf("disk cache holds %d bytes, limit 10000", used)
		}
		if got, err := b.Data(n); err != nil || !bytes.Equal(got, d) {
			t.Fatalf("piece %d read back wrong: %v", n, err)
		}
	}
	b.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("cache folder left behind")
	}
}

// A piece that fits the disk cache's limit but not its file's free spans (a large piece held
// between two freed ones) makes the buffer drop one more old piece, not the new one.
func TestDiskCacheFreesASpanForAPieceThatFitsTheLimit(t *testing.T) {
	store, err := NewDiskStore(t.TempDir()+"/live", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	b := New(1000, 10_000, store)
	defer b.Close()
	for n, size := range []int{2000, 5000, 2000, 2500} { // the last fits only once piece 1 goes too
		h, d := piece(uint32(n), n == 0, size)
		if err := b.AddComplete(h, d); err != nil {
			t.Fatalf("piece %d (%d bytes): %v", n, size, err)
		}
	}
	if b.Get(1) != nil || b.Get(0) != nil {
		t.Fatal("the pieces in the way are still held")
	}
	for n, size := range map[uint32]int{2: 2000, 3: 2500} {
		_, want := piece(n, false, size)
		if got, err := b.Data(n); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("piece %d read back wrong: %v", n, err)
		}
	}
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		info, _ := e.Info()
		total += info.Size()
	}
	return total
}

// slowStore takes a second for every read, as a disk under load might.
type slowStore struct{ *MemoryStore }

func (s slowStore) ReadAt(n uint32, off, size int) ([]byte, error) {
	time.Sleep(time.Second)
	return s.MemoryStore.ReadAt(n, off, size)
}

// A reader's slow read holds no lock: the swarm adds pieces and answers for the window meanwhile.
func TestSlowReadDoesNotBlockTheBuffer(t *testing.T) {
	b := New(1000, 1<<20, slowStore{NewMemoryStore()})
	h, data := piece(1, true, 3000)
	if err := b.AddComplete(h, data); err != nil {
		t.Fatal(err)
	}
	go b.NewReader().Next(context.Background())
	go b.Block(1, 0)
	time.Sleep(100 * time.Millisecond) // both are reading
	began := time.Now()
	h2, data2 := piece(2, false, 3000)
	if err := b.AddComplete(h2, data2); err != nil {
		t.Fatal(err)
	}
	b.Window()
	if took := time.Since(began); took > 300*time.Millisecond {
		t.Fatalf("adding a piece waited %v for a slow read", took)
	}
}
