package progress

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTerminalIsFalseForFilesAndBuffers(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	for _, out := range []io.Writer{f, w, &bytes.Buffer{}} {
		if Terminal(out) {
			t.Errorf("%T taken for a terminal", out)
		}
	}
}

func TestBarAndRate(t *testing.T) {
	if got := Bar(30*time.Second, 2*time.Minute, 8); got != "[##......]  25%  30s / 2m0s" {
		t.Fatalf("bar %q", got)
	}
	if got := Bar(3*time.Minute, 2*time.Minute, 4); !strings.HasPrefix(got, "[####] 100%") {
		t.Fatalf("bar past the end %q", got)
	}
	for in, want := range map[float64]string{250000: "2.00 Mbit/s", 1500: "12.0 kbit/s", 10: "80 bit/s"} {
		if got := Rate(in); got != want {
			t.Errorf("Rate(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestEveryWritesLinesAndNilWritesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	done := make(chan struct{})
	n := 0
	go func() {
		Every(ctx, &buf, time.Millisecond, func() string {
			n++
			if n == 3 {
				cancel()
			}
			return "line"
		})
		close(done)
	}()
	<-done
	if strings.Count(buf.String(), "line\n") < 2 {
		t.Fatalf("wrote %q", buf.String())
	}
	Every(context.Background(), nil, time.Millisecond, func() string { panic("called") }) // returns at once
}
