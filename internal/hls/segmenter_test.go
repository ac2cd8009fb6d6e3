package hls

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/testclip"
)

// liveClip returns secs seconds (about) of the test clip looped as one continuous stream.
func liveClip(secs int) []byte {
	looper := mpegts.NewLooper()
	var out []byte
	for range (secs + 15) / 16 {
		for b := testclip.TS; len(b) >= mpegts.PacketSize; b = b[mpegts.PacketSize:] {
			out = looper.Append(out, mpegts.Packet(b[:mpegts.PacketSize]))
		}
		looper.Rewind()
	}
	return out
}

// segmented cuts stream in writes of chunk bytes and returns the segmenter and every playlist
// it showed after each write.
func segmented(stream []byte, chunk int) (*Segmenter, []string) {
	s := New()
	var lists []string
	for len(stream) > 0 {
		n := min(chunk, len(stream))
		s.Write(stream[:n])
		stream = stream[n:]
		if pl := s.Playlist("/"); pl != "" {
			lists = append(lists, pl)
		}
	}
	return s, lists
}

var (
	targetRE = regexp.MustCompile(`#EXT-X-TARGETDURATION:(\d+)`)
	extinfRE = regexp.MustCompile(`#EXTINF:([0-9.]+),`)
)

// Over two minutes of stream the playlist keeps one target duration, which every segment
// respects (RFC 8216 4.3.3.1); segments last at least 90% of MinSegment.
func TestTargetDurationIsConstant(t *testing.T) {
	_, lists := segmented(liveClip(120), 1000) // writes that split packets, as the proxy's ring does
	if len(lists) < 50 {
		t.Fatalf("%d playlists", len(lists))
	}
	target := ""
	for _, pl := range lists {
		m := targetRE.FindStringSubmatch(pl)
		if target == "" {
			target = m[1]
		}
		if m[1] != target {
			t.Fatalf("target duration changed from %s to %s", target, m[1])
		}
		limit, _ := strconv.Atoi(target)
		for _, d := range extinfRE.FindAllStringSubmatch(pl, -1) {
			secs, _ := strconv.ParseFloat(d[1], 64)
			if secs > float64(limit) || secs < 1.5 {
				t.Fatalf("segment of %.3f s, target %d:\n%s", secs, limit, pl)
			}
		}
	}
}

// Every segment starts with PAT and PMT, then a keyframe before any other video, and decodes on
// its own with ffmpeg -xerror (60 s of segments).
func TestEverySegmentDecodesAlone(t *testing.T) {
	var c cutter // the segmenter keeps the newest ten: take every segment from its cutter
	var got []segment
	c.write(liveClip(64), func(data []byte, dur time.Duration, disc bool) {
		got = append(got, segment{data: append([]byte(nil), data...), dur: dur})
	})
	if len(got) < 30 {
		t.Fatalf("%d segments in 64 s", len(got))
	}
	for i, sg := range got {
		startsAtKeyframe(t, fmt.Sprintf("segment %d", i), sg.data)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI (make tools installs it)")
		}
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	for i, sg := range got {
		path := filepath.Join(dir, fmt.Sprintf("%d.ts", i))
		os.WriteFile(path, sg.data, 0o644)
		if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil {
			t.Fatalf("segment %d (%v) does not decode alone: %v\n%s", i, sg.dur, err, strings.TrimSpace(string(out)))
		}
	}
}

func startsAtKeyframe(t *testing.T, what string, b []byte) {
	t.Helper()
	var a mpegts.Analyzer
	for i := 0; i+mpegts.PacketSize <= len(b); i += mpegts.PacketSize {
		p := mpegts.Packet(b[i : i+mpegts.PacketSize])
		kf := a.Feed(p)
		if i == 0 && p.PID() != 0 {
			t.Fatalf("%s starts with PID %#x, not the PAT", what, p.PID())
		}
		if a.Program.HasVideo && p.PID() == a.Program.VideoPID {
			if !kf {
				t.Fatalf("%s: its first video packet (at %d) is not a keyframe", what, i)
			}
			return
		}
	}
	t.Fatalf("%s has no video", what)
}

// A player that resumes a segment with a Range request gets the rest of it, not the whole again.
func TestSegmentHonoursRange(t *testing.T) {
	seg := New()
	seg.Add([]byte("0123456789"), 2*time.Second, false)
	req := httptest.NewRequest(http.MethodGet, "/0.ts", nil)
	req.Header.Set("Range", "bytes=4-")
	w := httptest.NewRecorder()
	if n := seg.ServeSegment(w, req, 0); w.Code != http.StatusPartialContent || w.Body.String() != "456789" || n != 6 {
		t.Fatalf("range: %d %q, %d bytes counted", w.Code, w.Body.String(), n)
	}
}
