package engine

import (
	"testing"
	"time"
)

// A viewer's fan-out rings keep its players' pace plus ringSlack, within the live cache's time.
func TestRingTime(t *testing.T) {
	for _, c := range []struct {
		cache, delay, want time.Duration
	}{
		{DefaultLiveCacheTime, 1300 * time.Millisecond, 1300*time.Millisecond + ringSlack},
		{DefaultLiveCacheTime, 0, ringSlack},
		{3 * time.Second, 1300 * time.Millisecond, 3 * time.Second},
		{0, 1300 * time.Millisecond, 0}, // no time bound: the ring's bytes only
	} {
		if got := ringTime(Config{LiveCacheTime: c.cache, LiveDelay: c.delay}); got != c.want {
			t.Errorf("cache %v, delay %v: ring keeps %v, want %v", c.cache, c.delay, got, c.want)
		}
	}
}
