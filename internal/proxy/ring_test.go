package proxy

import (
	"bytes"
	"errors"
	"testing"
)

// Reads from any offset give the bytes added there, across blocks; the ring holds at most its
// limit; an evicted offset is errBehind; after close, what is left, then the error.
func TestRingReadsAndEvicts(t *testing.T) {
	g := newRing(3 * blockSize)
	var all []byte
	for i := range 5000 {
		chunk := bytes.Repeat([]byte{byte(i)}, 97+i%200)
		g.add(chunk, nil)
		all = append(all, chunk...)
	}
	if held := g.end - g.start; held > g.limit || held < g.limit-blockSize {
		t.Fatalf("holds %d bytes, limit %d", held, g.limit)
	}
	for _, off := range []int64{g.start, g.start + 1, g.start + blockSize - 1, g.start + blockSize, g.end - 5} {
		bufs, end, _, err := g.read(off, nil)
		if err != nil || end != g.end || !bytes.Equal(bytes.Join(bufs, nil), all[off:]) {
			t.Fatalf("read at %d: %v, end %d", off, err, end)
		}
	}
	if _, _, _, err := g.read(g.start-1, nil); !errors.Is(err, errBehind) {
		t.Fatalf("evicted offset: %v", err)
	}
	g.close(errEnded)
	if bufs, _, _, err := g.read(g.end-3, nil); err != nil || len(bytes.Join(bufs, nil)) != 3 {
		t.Fatalf("after close, the rest: %v", err)
	}
	if _, _, _, err := g.read(g.end, nil); !errors.Is(err, errEnded) {
		t.Fatalf("after close, at the end: %v", err)
	}
}
