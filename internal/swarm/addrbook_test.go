package swarm

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

func addr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 7764)
}

func none(netip.AddrPort) bool { return false }

// The book stays within maxKnown under spam, keeping what answered, startup and named addresses,
// and forgets spam as its dials fail, its map rebuilt smaller.
func TestAddrBookBoundsAndForgets(t *testing.T) {
	now := time.Now()
	b := newAddrBook(addr(0))
	b.add([]netip.AddrPort{addr(0)}, now) // ourselves: never added
	b.addStartup([]netip.AddrPort{addr(1)}, now)
	b.addNamed([]netip.AddrPort{addr(2)}, now)
	b.add([]netip.AddrPort{addr(3)}, now)
	b.dialStarted(addr(3))
	b.answered(addr(3), false, now)
	var spam []netip.AddrPort
	for i := range 10000 {
		spam = append(spam, addr(100+i))
	}
	b.add(spam, now)
	if b.size() != maxKnown || b.get(addr(0)) != nil {
		t.Fatalf("%d addresses held (bound %d); ourselves held: %v", b.size(), maxKnown, b.get(addr(0)) != nil)
	}
	for i := 1; i <= 3; i++ {
		if b.get(addr(i)) == nil {
			t.Fatalf("address %d (startup, named, answered) was evicted by spam", i)
		}
	}
	peak := b.peak
	for _, a := range b.candidates(now, none, maxKnown) {
		b.dialStarted(a)
		if b.get(a).kept() {
			b.answered(a, false, now)
		} else {
			b.failed(a, now)
		}
	}
	b.compact()
	if b.size() != 3 || b.peak >= peak || b.inFlight() != 0 {
		t.Fatalf("after the spam failed: %d held, peak %d (was %d), %d dials in flight", b.size(), b.peak, peak, b.inFlight())
	}
}

// Dial order: startup, named, answered, then most sources, then fewest failures; addresses
// backing off, being dialed, ourselves, or refused by the caller are left out.
func TestAddrBookOrder(t *testing.T) {
	now := time.Now()
	b := newAddrBook(addr(0))
	b.add([]netip.AddrPort{addr(10), addr(11), addr(12), addr(13), addr(14), addr(15)}, now)
	b.add([]netip.AddrPort{addr(11)}, now) // learned twice
	b.dialStarted(addr(12))
	b.answered(addr(12), false, now.Add(-2*time.Second)) // good, may be dialed again after 1 s
	b.addNamed([]netip.AddrPort{addr(13)}, now)
	b.addStartup([]netip.AddrPort{addr(14)}, now)
	b.dialStarted(addr(15))
	b.answered(addr(15), true, now) // it was us
	b.add([]netip.AddrPort{addr(16), addr(17)}, now)
	b.dialStarted(addr(16))
	got := b.candidates(now, func(a netip.AddrPort) bool { return a == addr(17) }, maxKnown)
	want := []netip.AddrPort{addr(14), addr(13), addr(12), addr(11), addr(10)}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// A kept address that fails backs off: 2 s doubling to 30 s; one that answered before is tried
// every second for its first 8 failures.
func TestAddrBookBackoff(t *testing.T) {
	now := time.Now()
	b := newAddrBook(addr(0))
	b.addNamed([]netip.AddrPort{addr(1)}, now)
	var waits []time.Duration
	for range 6 {
		b.failed(addr(1), now)
		waits = append(waits, b.get(addr(1)).next.Sub(now))
	}
	if want := []time.Duration{2, 4, 8, 16, 30, 30}; !slices.Equal(waits, scale(want)) {
		t.Fatalf("back-off %v", waits)
	}
	b.answered(addr(1), false, now)
	for range goodRetries {
		b.failed(addr(1), now)
		if d := b.get(addr(1)).next.Sub(now); d != time.Second {
			t.Fatalf("an address that answered waits %v", d)
		}
	}
	b.failed(addr(1), now)
	if d := b.get(addr(1)).next.Sub(now); d != 2*time.Second {
		t.Fatalf("after %d quick retries: %v", goodRetries, d)
	}
}

func scale(secs []time.Duration) []time.Duration {
	out := make([]time.Duration, len(secs))
	for i, s := range secs {
		out[i] = s * time.Second
	}
	return out
}

// A node that ends our connection before HELLO waits 4 s, doubling to 30 s, until it says HELLO;
// a viewer that answered before and now fails a dial has left and is forgotten, unlike a server,
// which is retried every second.
func TestAddrBookRefusedAndGone(t *testing.T) {
	now := time.Now()
	b := newAddrBook(addr(0))
	b.add([]netip.AddrPort{addr(1), addr(2), addr(3)}, now)
	var waits []time.Duration
	for range 5 {
		b.dialStarted(addr(1))
		b.answered(addr(1), false, now)
		b.refusedUs(addr(1), now)
		waits = append(waits, b.get(addr(1)).next.Sub(now))
	}
	if want := []time.Duration{4, 8, 16, 30, 30}; !slices.Equal(waits, scale(want)) {
		t.Fatalf("refusals wait %v", waits)
	}
	b.welcomed(addr(1), wire.RoleViewer)
	b.refusedUs(addr(1), now)
	if d := b.get(addr(1)).next.Sub(now); d != refuseWait {
		t.Fatalf("after HELLO a refusal waits %v", d)
	}
	for _, a := range []netip.AddrPort{addr(2), addr(3)} {
		b.dialStarted(a)
		b.answered(a, false, now)
	}
	b.welcomed(addr(2), wire.RoleViewer)
	b.welcomed(addr(3), wire.RoleSupport)
	b.failed(addr(2), now)
	b.failed(addr(3), now)
	if b.get(addr(2)) != nil {
		t.Fatal("a viewer gone is kept")
	}
	if d := b.get(addr(3)).next.Sub(now); d != time.Second {
		t.Fatalf("a support node gone waits %v, want 1s", d)
	}
}
