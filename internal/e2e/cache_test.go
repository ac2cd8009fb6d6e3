package e2e

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// highBitrateStream is two minutes of a 12 Mbit/s stream: 10 s made by ffmpeg, looped 12 times.
func highBitrateStream(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hi.ts")
	out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-t", "10", "-vf", "noise=alls=30:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
		"-b:v", "12M", "-maxrate", "12M", "-bufsize", "4M", "-g", "50", "-f", "mpegts", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	clip, _ := os.ReadFile(path)
	l := mpegts.NewLooper()
	var stream []byte
	for range 12 {
		for b := clip; len(b) >= mpegts.PacketSize; b = b[mpegts.PacketSize:] {
			stream = l.Append(stream, mpegts.Packet(b[:mpegts.PacketSize]))
		}
		l.Rewind()
	}
	return stream
}

// pacedReader hands out the stream at a given rate (bytes per second).
type pacedReader struct {
	r     io.Reader
	rate  int
	start time.Time
	n     int
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	if due := p.start.Add(time.Duration(float64(p.n) / float64(p.rate) * float64(time.Second))); time.Until(due) > 0 {
		time.Sleep(time.Until(due))
	}
	n, err := p.r.Read(b[:min(len(b), 64<<10)])
	p.n += n
	return n, err
}

// cacheBytes is the disk the files under dir take (their allocated blocks, as du counts them:
// the live cache's file is sparse, so only what was written takes disk).
func cacheBytes(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					total += st.Blocks * 512
				}
			}
		}
		return nil
	})
	return total
}

// rss reads a process's resident set size.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cacheRun streams two minutes at 12 Mbit/s (sent at 8x speed) through a source and a support
// node with the given cache flags, sampling each node with measure; it returns the peaks.
func cacheRun(t *testing.T, bin string, cacheFlags []string, measure func(p *proc, cacheDir string) int64) (src, sup int64, bytesIn int) {
	return cacheRunIn(t, t.TempDir(), bin, cacheFlags, measure)
}

func cacheRunIn(t *testing.T, dir, bin string, cacheFlags []string, measure func(p *proc, cacheDir string) int64) (src, sup int64, bytesIn int) {
	return cacheRunAt(t, dir, freePort(t, "127.0.0.101"), bin, cacheFlags, measure)
}

func cacheRunAt(t *testing.T, dir string, supPort int, bin string, cacheFlags []string, measure func(p *proc, cacheDir string) int64) (src, sup int64, bytesIn int) {
	stream := highBitrateStream(t)
	srcCache, supCache := filepath.Join(dir, "src-cache"), filepath.Join(dir, "sup-cache")
	srcPort := freePort(t, "127.0.0.100")
	source := startIn(t, &pacedReader{r: bytes.NewReader(stream), rate: 8 * 12_000_000 / 8}, "source", bin,
		append([]string{"--stream-source-node", "--bind", "127.0.0.100", "--port", strconv.Itoa(srcPort), "--source", "-",
			"--name", "hi", "--title", "High", "--quality", "HD", "--category", "sport", "--bitrate", "1500000",
			"--publish-dir", filepath.Join(dir, "pub"), "--cache-dir", srcCache}, cacheFlags...)...)
	waitFile(t, filepath.Join(dir, "pub", "hi.acelive"), 10*time.Second)
	support := start(t, "support", bin, append([]string{"--stream-support-node", "--bind", "127.0.0.101", "--port", strconv.Itoa(supPort),
		"--url", filepath.Join(dir, "pub", "hi.acelive"), "--download-from", fmt.Sprintf("127.0.0.100:%d", srcPort),
		"--cache-dir", supCache}, cacheFlags...)...)
	var peakSrc, peakSup atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			peakSrc.Store(max(peakSrc.Load(), measure(source, srcCache)))
			peakSup.Store(max(peakSup.Load(), measure(support, supCache)))
		}
	}()
	// The stream is sent in 15 s; then the nodes keep their window for a while.
	time.Sleep(18 * time.Second)
	close(stop)
	<-sampled
	if !strings.Contains(support.out.String(), "relaying") {
		t.Fatalf("support node did not start:\n%s", support.out.String())
	}
	support.stop()
	return peakSrc.Load(), peakSup.Load(), len(stream)
}

// The disk cache never holds more than --live-cache-size, over two minutes of a 12 Mbit/s stream,
// and its files are gone after the node exits.
func TestDiskCacheStaysWithinSize(t *testing.T) {
	needFFmpeg(t)
	const size = 16 << 20
	dir := t.TempDir()
	// What a killed node left behind is removed at the next start.
	supPort := freePort(t, "127.0.0.101")
	stale := filepath.Join(dir, "sup-cache", fmt.Sprintf("live-127_0_0_101_%d", supPort), "0123", "7.piece")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, make([]byte, 1000), 0o644)
	src, sup, n := cacheRunAt(t, dir, supPort, binary, []string{"--live-cache-type", "disk", "--live-cache-size", strconv.Itoa(size)},
		func(_ *proc, dir string) int64 { return cacheBytes(dir) })
	if _, err := os.Stat(stale); err == nil {
		t.Fatal("a stale cache file survived the node's start")
	}
	if left := cacheBytes(filepath.Join(dir, "sup-cache")); left != 0 {
		t.Fatalf("%d bytes of cache left after the support node exited", left)
	}
	t.Logf("streamed %d MB; peak disk cache: source %d bytes, support %d bytes (limit %d)", n>>20, src, sup, size)
	if src > size || sup > size {
		t.Fatalf("disk cache over its size: source %d, support %d, limit %d", src, sup, size)
	}
	if sup < size/2 {
		t.Fatalf("support node cached only %d bytes: the stream did not flow", sup)
	}
}

// The memory cache keeps the process within --live-cache-size plus a fixed overhead.
func TestMemoryCacheBoundsRSS(t *testing.T) {
	needFFmpeg(t)
	plain := plainBinary(t) // RSS is measured without the race detector
	const size, overhead = 64 << 20, 100 << 20
	src, sup, n := cacheRun(t, plain, []string{"--live-cache-type", "memory", "--live-cache-size", strconv.Itoa(size)},
		func(p *proc, _ string) int64 { return rss(p.cmd.Process.Pid) })
	t.Logf("streamed %d MB; peak RSS: source %d MB, support %d MB (cache %d MB + %d MB allowed overhead)", n>>20, src>>20, sup>>20, size>>20, overhead>>20)
	if src > size+overhead || sup > size+overhead {
		t.Fatalf("RSS over the cache size plus overhead: source %d, support %d", src, sup)
	}
}
