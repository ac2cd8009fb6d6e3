package mpegts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// Keeping program 1 of the DVB-like multiplex drops the radio program's PMT, leaves a PAT that
// lists program 1 alone, and gives a stream ffprobe sees as one program and ffmpeg decodes with
// -xerror; a program the PAT does not list is an error naming those it does.
func TestSelectorKeepsOneProgram(t *testing.T) {
	sel := Selector{Number: 1}
	var out []byte
	var err error
	for _, p := range packets(testclip.Multiplex()) {
		if out, err = sel.Append(out, p); err != nil {
			t.Fatal(err)
		}
	}
	var pats int
	for _, p := range packets(out) {
		switch p.PID() {
		case 0x200, 0x201:
			t.Fatalf("a packet of the other program (PID %#x) kept", p.PID())
		case 0:
			pats++
			progs, ok := parsePAT(p.Payload()[1 : 1+12])
			if !ok || len(progs) != 1 || progs[0] != [2]uint16{1, 0x1000} || CRC32(p.Payload()[1:1+16]) != 0 {
				t.Fatalf("rewritten PAT lists %v (ok %v)", progs, ok)
			}
		}
	}
	if pats == 0 || len(out) < len(testclip.TS)*9/10 {
		t.Fatalf("%d PATs, %d of %d bytes kept", pats, len(out), len(testclip.TS))
	}
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "one.ts")
	os.WriteFile(path, out, 0o644)
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "program=program_id", "-of", "default=nw=1", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(probe)) != "program_id=1" {
		t.Fatalf("ffprobe sees programs %q (%v)", probe, err)
	}
	if msg, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil || len(msg) > 0 {
		t.Fatalf("ffmpeg: %v %s", err, msg)
	}

	missing := Selector{Number: 7}
	for _, p := range packets(testclip.Multiplex()) {
		if _, err = missing.Append(nil, p); err != nil {
			break
		}
	}
	if err == nil || err.Error() != "program 7 is not in the stream; its programs are [5 1]" {
		t.Fatalf("program 7: %v", err)
	}
}
