package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// Streams other than one H.264 program with audio play through a source and a viewer engine: an
// audio-only MP2 radio channel (each audio frame a random access point), HEVC and MPEG-2 video
// (clips made by ffmpeg), and a DVB-like multiplex (a radio program listed first, the video
// program's PMT spanning two packets; testclip.Multiplex). A player's first byte is timed and
// ffmpeg -xerror decodes 8 s. With --source-program 1 the viewers get that program alone.
func TestOtherCodecsPlay(t *testing.T) {
	needFFmpeg(t)
	for i, tc := range []struct {
		name    string
		args    []string
		program string // --source-program
	}{
		{"mp2 radio", []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "mp2", "-b:a", "128k"}, ""},
		{"hevc", []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-c:v", "libx265", "-preset", "ultrafast",
			"-x265-params", "keyint=50:min-keyint=50:log-level=error", "-b:v", "300k"}, ""},
		{"mpeg2", []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-c:v", "mpeg2video", "-g", "25", "-b:v", "500k"}, ""},
		{"dvb multiplex", nil, ""},
		{"dvb multiplex, program 1", nil, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clip := filepath.Join(dir, "clip.ts")
			if tc.args == nil {
				os.WriteFile(clip, testclip.Multiplex(), 0o644)
			} else {
				args := append([]string{"-nostdin", "-v", "error"}, tc.args...)
				args = append(args, "-t", "12", "-f", "mpegts", clip)
				if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
					t.Fatalf("ffmpeg: %v %s", err, out)
				}
			}
			srcIP := "127.0.0." + strconv.Itoa(200+2*i)
			args := []string{"--stream-source-node", "--port", strconv.Itoa(freePort(t, srcIP)), "--bind", srcIP,
				"--source", clip, "--source-loop", "--name", "c", "--title", "C", "--quality", "SD", "--category", "music",
				"--publish-dir", dir, "--cache-dir", filepath.Join(dir, "src")}
			if tc.program != "" {
				args = append(args, "--source-program", tc.program)
			}
			node(t, "source", args...)
			acelive := filepath.Join(dir, "c.acelive")
			waitFile(t, acelive, 15*time.Second)
			url := viewerEngine(t, dir, "127.0.0."+strconv.Itoa(201+2*i), 0, acelive)
			d, err := firstByte(context.Background(), url, 188*20)
			if err != nil {
				t.Fatalf("first byte: %v", err)
			}
			t.Logf("%s: first byte after %v", tc.name, d)
			play(t, "player", url, 8).mustSucceed(t, 60*time.Second)
			if tc.program != "" {
				out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "program=program_id", "-of", "default=nw=1", url).CombinedOutput()
				if err != nil || strings.TrimSpace(string(out)) != "program_id="+tc.program {
					t.Fatalf("ffprobe of what viewers get: %v %q", err, out)
				}
			}
		})
	}
}

// A --source-program the stream does not carry ends the source with one line naming the
// programs it does carry.
func TestMissingSourceProgramIsAnError(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ts")
	os.WriteFile(clip, testclip.Multiplex(), 0o644)
	p := start(t, "source", binary, "--stream-source-node", "--port", "0", "--bind", "127.0.0.230", "--source", clip,
		"--name", "c", "--title", "C", "--quality", "SD", "--category", "music", "--publish-dir", dir, "--cache-dir", filepath.Join(dir, "src"), "--source-program", "7")
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the source still runs with a program the stream lacks")
	}
	want := "--source-program: program 7 is not in the stream; its programs are [5 1]"
	if p.err == nil || !strings.Contains(p.out.String(), want) {
		t.Fatalf("exit %v, output:\n%s", p.err, p.out.String())
	}
}
