package swarm

import (
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
)

// A viewer's live cache is seconds of stream at the file's bitrate, within its byte limit and at
// least two pieces.
func TestCacheLimit(t *testing.T) {
	f := &transport.File{Info: transport.Info{Bitrate: 250_000, PieceLength: 1 << 20}}
	for _, c := range []struct {
		cfg  Config
		want int64
	}{
		{Config{CacheSize: 16 << 20}, 16 << 20},
		{Config{CacheSize: 16 << 20, CacheTime: 10 * time.Second}, 2_500_000},
		{Config{CacheSize: 1 << 20, CacheTime: 10 * time.Second}, 1 << 20},
		{Config{CacheSize: 16 << 20, CacheTime: time.Second}, 2 << 20},
	} {
		if got := cacheLimit(c.cfg, f); got != c.want {
			t.Errorf("size %d, time %v: %d bytes, want %d", c.cfg.CacheSize, c.cfg.CacheTime, got, c.want)
		}
	}
}
