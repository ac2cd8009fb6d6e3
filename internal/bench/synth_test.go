package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/synth"
)

func TestSynthIsValidTSWithKeyframesAndMarkers(t *testing.T) {
	s := synth.New(2_000_000)
	var ts []byte
	now := time.Unix(1_700_000_000, 0)
	for i := range 100 {
		ts = append(ts, s.Frame(now.Add(time.Duration(i)*40*time.Millisecond))...)
	}
	var a mpegts.Analyzer
	keys := 0
	var frames []frame
	var r frameReader
	for b := ts; len(b) >= 188; b = b[188:] {
		if !mpegts.Valid(b[:188]) {
			t.Fatal("not a packet")
		}
		if a.Feed(mpegts.Packet(b[:188])) {
			keys++
		}
	}
	frames = r.feed(ts, now)
	if keys != 2 || len(frames) != 100 {
		t.Fatalf("%d keyframes, %d frames", keys, len(frames))
	}
	for i, f := range frames {
		if f.seq != uint32(i) || f.src.UnixMilli() != now.Add(time.Duration(i)*40*time.Millisecond).UnixMilli() || f.key != (i%synth.GOP == 0) {
			t.Fatalf("frame %d: %+v", i, f)
		}
	}
	if _, err := exec.LookPath("ffprobe"); err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "s.ts")
	os.WriteFile(path, ts, 0o644)
	// The frames are not real H.264, so only the container is checked: ffprobe must find every
	// PES packet.
	out, err := exec.Command("ffprobe", "-v", "quiet", "-count_packets", "-show_entries",
		"stream=codec_name,nb_read_packets", "-of", "csv=p=0", path).Output()
	out = bytes.TrimSpace(out)
	if err != nil || !bytes.HasPrefix(out, []byte("h264,100")) {
		t.Fatalf("ffprobe: %v %q", err, out)
	}
}
