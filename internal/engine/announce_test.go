package engine

import (
	"fmt"
	"slices"
	"testing"
)

// A source writes --announce-host into its transport file as its built-in tracker's host.
func TestSourceAnnounceHost(t *testing.T) {
	n, f, _ := runSource(t, t.Context(), "127.0.0.150", func(c *Config) { c.AnnounceHost = "127.0.0.151" })
	if want := fmt.Sprintf("http://127.0.0.151:%d/announce", n.Addr().Port()); !slices.Contains(f.Trackers(), want) {
		t.Fatalf("trackers %v, want %s", f.Trackers(), want)
	}
}
