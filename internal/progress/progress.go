package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Terminal tells whether w is a terminal.
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Every writes line() to w every interval until ctx ends; a nil w writes nothing.
func Every(ctx context.Context, w io.Writer, interval time.Duration, line func() string) {
	if w == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintln(w, line())
		}
	}
}

// Bar draws a progress bar of width cells for done out of total, with the times.
func Bar(done, total time.Duration, width int) string {
	frac := 1.0
	if total > 0 {
		frac = min(1, max(0, done.Seconds()/total.Seconds()))
	}
	full := int(frac * float64(width))
	return fmt.Sprintf("[%s%s] %3.0f%%  %v / %v", strings.Repeat("#", full), strings.Repeat(".", width-full), 100*frac,
		done.Truncate(time.Second), total)
}

// RunBar redraws a bar on w (a terminal: carriage return, no new line) every second for total,
// from now, until ctx ends; then it clears the line. A nil w draws nothing.
func RunBar(ctx context.Context, w io.Writer, total time.Duration) {
	if w == nil {
		return
	}
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(w, "\r\033[K")
			return
		case <-t.C:
			fmt.Fprint(w, "\r"+Bar(time.Since(start), total, 40))
		}
	}
}

// Rate formats bytes per second as bits per second.
func Rate(bytesPerSecond float64) string {
	bits := bytesPerSecond * 8
	switch {
	case bits >= 1e6:
		return fmt.Sprintf("%.2f Mbit/s", bits/1e6)
	case bits >= 1e3:
		return fmt.Sprintf("%.1f kbit/s", bits/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", bits)
}
