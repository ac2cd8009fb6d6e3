package fifo

import "testing"

func TestQueueKeepsOrderAcrossReuse(t *testing.T) {
	var f Queue[int]
	next, want := 0, 0
	pop := func() {
		if v := f.Pop(); v != want {
			t.Fatalf("popped %d, want %d", v, want)
		}
		want++
	}
	for round := range 60 {
		for range round%7 + 1 {
			f.Push(next)
			next++
		}
		for range round % 5 {
			if f.Len() > 0 {
				pop()
			}
		}
	}
	for f.Len() > 0 {
		pop()
	}
	if want != next {
		t.Fatalf("popped %d items, pushed %d", want, next)
	}
}

func TestQueueRoomStaysAtItsPeak(t *testing.T) {
	var f Queue[[]byte]
	for range 1000 { // one waits at a time, however many pass
		f.Push(make([]byte, 1))
		f.Pop()
	}
	if c := cap(f.q); c > 1 {
		t.Fatalf("room for %d items after one at a time", c)
	}
	for range 3 {
		f.Push(nil)
	}
	for range 100 { // three wait: the room moves to the front, it does not grow
		f.Pop()
		f.Push(nil)
	}
	if c := cap(f.q); c > 4 {
		t.Fatalf("room for %d items with three waiting", c)
	}
}
