package swarm

import (
	"net/netip"
	"slices"
	"testing"
)

func TestTrackerHosts(t *testing.T) {
	got := trackerHosts([]string{
		"http://10.0.0.1:7764/announce", "https://[2001:db8::1]:443/announce", "http://tracker.example:80/announce",
		"http://10.0.0.2/announce", "udp://10.0.0.3:6969", "::bad::",
	})
	want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:7764"), netip.MustParseAddrPort("[2001:db8::1]:443")}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
