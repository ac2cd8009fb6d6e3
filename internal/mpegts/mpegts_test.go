package mpegts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

func packets(b []byte) []Packet {
	var out []Packet
	for ; len(b) >= PacketSize; b = b[PacketSize:] {
		out = append(out, Packet(b[:PacketSize]))
	}
	return out
}

func TestAnalyzerFindsKeyframesEveryTwoSeconds(t *testing.T) {
	var a Analyzer
	var keyframes []int64
	for _, p := range packets(testclip.TS) {
		if a.Feed(p) {
			pts, _, _ := Timestamps(p)
			keyframes = append(keyframes, pts)
		}
	}
	if !a.Program.HasVideo || a.Program.VideoType != StreamH264 || a.PSI() == nil {
		t.Fatalf("program = %+v", a.Program)
	}
	if len(keyframes) != 8 {
		t.Fatalf("keyframes at %v, want 8", keyframes)
	}
	for i := 1; i < len(keyframes); i++ {
		if d := keyframes[i] - keyframes[i-1]; d != 180000 {
			t.Fatalf("keyframe gap %d, want 2 s", d)
		}
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	for _, p := range packets(testclip.TS) {
		pts, dts, ok := Timestamps(p)
		if !ok {
			continue
		}
		q := Packet(bytes.Clone(p))
		ShiftTimestamps(q, 1<<32)
		p2, d2, _ := Timestamps(q)
		if p2 != (pts+1<<32)&(1<<33-1) || d2 != (dts+1<<32)&(1<<33-1) {
			t.Fatalf("shift: %d,%d -> %d,%d", pts, dts, p2, d2)
		}
		if pcr, ok := p.PCR(); ok {
			q.SetPCR(pcr + 90000)
			if got, _ := q.PCR(); got != pcr+90000 {
				t.Fatal("pcr rewrite")
			}
		}
	}
}

func TestContinuityDropsHalfFramesAfterGap(t *testing.T) {
	ps := packets(testclip.TS)
	c := NewContinuity()
	var out []byte
	for _, p := range ps[:100] {
		out = c.Append(out, p)
	}
	c.Gap()
	for _, p := range ps[150:] {
		out = c.Append(out, p)
	}
	next := map[uint16]uint8{}
	for _, p := range packets(out) {
		if !p.HasPayload() {
			continue
		}
		if want, ok := next[p.PID()]; ok && p.CC() != want {
			t.Fatalf("pid %d: cc %d, want %d", p.PID(), p.CC(), want)
		}
		next[p.PID()] = (p.CC() + 1) & 0xf
	}
}

// A clip looped three times and spliced with a gap decodes without a single error in ffmpeg.
func TestLoopAndSpliceDecodeInFFmpeg(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	l := NewLooper()
	var out []byte
	for range 3 {
		for _, p := range packets(testclip.TS) {
			out = l.Append(out, p)
		}
		l.Rewind()
	}
	// Splice: drop from packet 4000 to the next keyframe (as a viewer that skips pieces does) and
	// resume there; the splicer must hand ffmpeg no half frame.
	sp := NewSplicer()
	var a Analyzer
	var spliced []byte
	skipping := false
	for i, p := range packets(out) {
		key := a.Feed(p)
		if i == 4000 {
			skipping = true
			spliced = sp.Gap(spliced)
		}
		if skipping && key {
			skipping = false
			for _, psi := range a.PSI() {
				spliced = sp.Write(spliced, psi)
			}
		}
		if !skipping {
			spliced = sp.Write(spliced, p)
		}
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"loop.ts": out, "splice.ts": spliced} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, b, 0o644)
		cmd := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-")
		if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
			t.Fatalf("%s: ffmpeg: %v %s", name, err, msg)
		}
	}
	dur, _ := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", filepath.Join(dir, "loop.ts")).Output()
	// The clip starts at 1.4 s; three loops end 48 s later.
	if d, err := strconv.ParseFloat(string(bytes.TrimSpace(dur)), 64); err != nil || d < 47.5 || d > 49.6 {
		t.Fatalf("looped duration %s, want about 48 s after the 1.4 s start", dur)
	}
}
