package mpegts

import (
	"reflect"
	"testing"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// In a DVB-like multiplex (a radio program listed first, the video program's PMT spanning two
// packets) the analyzer follows the video program, finds its keyframes, and keeps the PMT's two
// packets for players starting there.
func TestMultiplexWithLargePMT(t *testing.T) {
	ts := testclip.Multiplex()
	var a Analyzer
	keys := 0
	for b := ts; len(b) >= PacketSize; b = b[PacketSize:] {
		if a.Feed(Packet(b[:PacketSize])) {
			keys++
		}
	}
	if !a.Program.HasVideo || a.Program.Number != 1 || a.Program.PMTPID != 0x1000 || keys < 7 {
		t.Fatalf("followed %+v, %d keyframes", a.Program, keys)
	}
	psi := a.PSI()
	if len(psi) != 3 || Packet(psi[1]).PID() != 0x1000 || Packet(psi[2]).PUSI() {
		t.Fatalf("PSI for a player: %d packets", len(psi))
	}
	var fresh Analyzer // a player starting at those packets learns the program from them
	for _, p := range psi {
		fresh.Feed(Packet(p))
	}
	if !reflect.DeepEqual(fresh.Program, a.Program) {
		t.Fatalf("from the PSI: %+v, want %+v", fresh.Program, a.Program)
	}
}
