package hls

import (
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// FuzzSegmenter cuts arbitrary MPEG-TS (in arbitrary chunks, with breaks) and checks the
// playlist: it parses (gohlslib), its segments are whole packets and none is longer than the
// target duration rounded.
func FuzzSegmenter(f *testing.F) {
	f.Add(testclip.TS[:188*400], uint16(188*7), uint8(0))
	f.Add([]byte{0x47, 0x40, 0, 0x10}, uint16(1), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint16, breakEvery uint8) {
		s := New()
		n := max(int(chunk), 1)
		for i := 0; len(b) > 0; i++ {
			k := min(n, len(b))
			s.Write(b[:k])
			b = b[k:]
			if breakEvery > 0 && i%int(breakEvery) == int(breakEvery)-1 {
				s.Break(nil)
			}
		}
		text := s.Playlist("http://h/")
		if text == "" {
			return
		}
		pl, err := playlist.Unmarshal([]byte(text))
		if err != nil {
			t.Fatalf("playlist does not parse: %v\n%s", err, text)
		}
		m, ok := pl.(*playlist.Media)
		if !ok {
			t.Fatalf("not a media playlist:\n%s", text)
		}
		for _, sg := range m.Segments {
			if sg.Duration > time.Duration(m.TargetDuration)*time.Second+500*time.Millisecond {
				t.Fatalf("segment of %v over the target %d s", sg.Duration, m.TargetDuration)
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, sg := range s.segs {
			if len(sg.data)%188 != 0 {
				t.Fatalf("segment %d: %d bytes, not whole packets", sg.seq, len(sg.data))
			}
		}
	})
}
