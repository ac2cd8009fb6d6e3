package livebuf

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// Pieces of many sizes, made, removed and made again in no particular order, each read back as
// written: the circular file never puts two held pieces in the same bytes.
func TestDiskStoreKeepsEveryPieceApart(t *testing.T) {
	const size = 64 << 10
	d, err := NewDiskStore(t.TempDir()+"/live", size)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	held := map[uint32][]byte{}
	oldest := func() uint32 {
		first := true
		var o uint32
		for n := range held {
			if first || n < o {
				o, first = n, false
			}
		}
		return o
	}
	for n := range uint32(3000) {
		if len(held) > 0 && rng.IntN(4) == 0 { // a piece dropped out of order
			for k := range held {
				d.Remove(k)
				delete(held, k)
				break
			}
		}
		data := make([]byte, 1+rng.IntN(12<<10))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for {
			err := d.Create(n, len(data))
			if err == nil {
				break
			}
			if !errors.Is(err, ErrNoRoom) || len(held) == 0 {
				t.Fatalf("piece %d (%d bytes): %v with %d pieces held", n, len(data), err, len(held))
			}
			o := oldest()
			d.Remove(o)
			delete(held, o)
		}
		if err := d.WriteAt(n, 0, data); err != nil {
			t.Fatal(err)
		}
		held[n] = data
		for k, want := range held {
			if got, err := d.ReadAt(k, 0, len(want)); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("after piece %d, piece %d read back wrong (%v)", n, k, err)
			}
		}
	}
}

// A piece removed while it is being read keeps its bytes until the read ends: a new piece does not
// take them meanwhile.
func TestDiskStoreKeepsARemovedPieceWhileItIsRead(t *testing.T) {
	d, err := NewDiskStore(t.TempDir()+"/live", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Create(1, 1000); err != nil {
		t.Fatal(err)
	}
	reading, err := d.use(1, 0, 1000) // a read has begun
	if err != nil {
		t.Fatal(err)
	}
	d.Remove(1)
	if err := d.Create(2, 10); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("a new piece took a span still being read (err %v)", err)
	}
	if _, err := d.ReadAt(1, 0, 10); err == nil {
		t.Fatal("a removed piece could still be read anew")
	}
	d.done(reading)
	if err := d.Create(2, 1000); err != nil {
		t.Fatalf("the span stayed taken after the read ended: %v", err)
	}
}
