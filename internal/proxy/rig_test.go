package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/fakeengine"
	"github.com/aceswarm/aceswarm/internal/mpegts"
	"github.com/aceswarm/aceswarm/internal/synth"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// rig is a proxy in front of fake AceStream engines (fakeengine stands for the vendor's closed
// engine, written from the compat reference) that all serve one broadcast, on loopback.
type rig struct {
	t       *testing.T
	bc      *fakeengine.Broadcast
	engines []*fakeengine.Engine
	proxy   *Proxy
	base    string
}

// newRig starts n engines and a proxy. The broadcast is the test clip (decodable), or a
// synthetic stream of bitrate bits/s when bitrate > 0. before runs once the engines are up and
// before the proxy starts.
func newRig(t *testing.T, n int, bitrate int, tune func(*Config), before ...func(*rig)) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{t: t, bc: fakeengine.NewBroadcast()}
	done := make(chan struct{}, 3)
	go func() {
		defer func() { done <- struct{}{} }()
		if bitrate > 0 {
			var total atomic.Int64
			synth.New(bitrate).RunCounting(ctx, r.bc, &total)
			return
		}
		fakeengine.RunClip(ctx, r.bc, t.TempDir())
	}()
	var urls []string
	for range n {
		e := r.addEngine()
		urls = append(urls, e.URL())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Listener: ln, Engines: urls, StartTimeout: 10 * time.Second, Linger: time.Second}
	if tune != nil {
		tune(&cfg)
	}
	for _, f := range before {
		f(r)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.proxy, r.base = p, "http://"+ln.Addr().String()
	go func() {
		defer func() { done <- struct{}{} }()
		if err := p.Run(ctx); err != nil {
			t.Errorf("proxy: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		for _, e := range r.engines {
			e.Close()
		}
		<-done
		<-done
	})
	return r
}

func (r *rig) addEngine() *fakeengine.Engine {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	e := fakeengine.New(ln, r.bc)
	go e.Serve()
	r.engines = append(r.engines, e)
	return e
}

func (r *rig) url(id string) string { return r.base + "/ace/getstream?id=" + id }

// chanID is a content id for channel n.
func chanID(n int) string { return fmt.Sprintf("%040x", n+1) }

// reader is one client: it records what it got and when.
type reader struct {
	status int
	ttfb   time.Duration
	first  []byte        // the first bytes (up to 64 KiB)
	bytes  atomic.Int64  // received so far
	gaps   time.Duration // the longest time between two reads after the first
	err    error
}

// read GETs u and reads for d (or until n bytes when n > 0).
func read(ctx context.Context, u string, d time.Duration, n int64) *reader {
	rd := &reader{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		rd.err = err
		return rd
	}
	defer resp.Body.Close()
	rd.status = resp.StatusCode
	buf := make([]byte, 64<<10)
	var last time.Time
	for {
		k, err := resp.Body.Read(buf)
		now := time.Now()
		if k > 0 {
			if rd.bytes.Load() == 0 {
				rd.ttfb = now.Sub(start)
			} else {
				rd.gaps = max(rd.gaps, now.Sub(last))
			}
			if len(rd.first) < 64<<10 {
				rd.first = append(rd.first, buf[:min(k, 64<<10-len(rd.first))]...)
			}
			last = now
			if rd.bytes.Add(int64(k)) >= n && n > 0 {
				return rd
			}
		}
		if err != nil {
			if err != io.EOF && ctx.Err() == nil {
				rd.err = err
			}
			return rd
		}
	}
}

// startsAtKeyframe checks that b begins with PAT, PMT and, before any other video packet, a
// packet starting a keyframe.
func startsAtKeyframe(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 3*mpegts.PacketSize {
		t.Fatalf("only %d bytes", len(b))
	}
	var a mpegts.Analyzer
	if pid := mpegts.Packet(b[:mpegts.PacketSize]).PID(); pid != 0 {
		t.Fatalf("first packet is PID %#x, want the PAT", pid)
	}
	for i := 0; i+mpegts.PacketSize <= len(b); i += mpegts.PacketSize {
		p := mpegts.Packet(b[i : i+mpegts.PacketSize])
		kf := a.Feed(p)
		if i == mpegts.PacketSize && p.PID() != a.Program.PMTPID {
			t.Fatalf("second packet is PID %#x, want the PMT", p.PID())
		}
		if a.Program.HasVideo && p.PID() == a.Program.VideoPID {
			if !kf {
				t.Fatalf("first video packet (at %d) does not start a keyframe", i)
			}
			return
		}
	}
	t.Fatal("no video in the first bytes")
}

// needFFmpeg skips a test without ffmpeg, except in CI, where make tools must have installed it.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI (make tools installs it)")
		}
		t.Skip("ffmpeg not installed (make tools installs it)")
	}
}

// ffmpegDecodes runs ffmpeg -xerror on u for secs seconds and returns its error output.
func ffmpegDecodes(ctx context.Context, u string, secs int) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", u, "-t", fmt.Sprint(secs), "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawClient sends a GET and never reads the answer: a stalled player.
func rawClient(t *testing.T, addr, path string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	bufio.NewReader(c) // nothing is read
	return c
}

// counterValue reads a Prometheus counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
