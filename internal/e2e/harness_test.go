package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() { // make unit: the end-to-end tests need real clients and minutes
		fmt.Println("end-to-end tests skipped in -short mode (make e2e runs them)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "aceswarm-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "aceswarm")
	args := []string{"build", "-o", binary}
	if raceBuild {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, "../../cmd/aceswarm")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build aceswarm: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	plainOnce sync.Once
	plainPath string
	plainErr  error
)

// plainBinary builds aceswarm without the race detector, for measurements.
func plainBinary(t *testing.T) string {
	plainOnce.Do(func() {
		plainPath = filepath.Join(filepath.Dir(binary), "aceswarm-plain")
		if out, err := exec.Command("go", "build", "-o", plainPath, "../../cmd/aceswarm").CombinedOutput(); err != nil {
			plainErr = fmt.Errorf("build: %v %s", err, out)
		}
	})
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plainPath
}

// needTool returns the path of a client the tests use; without it the test is skipped, except in
// CI, where `make tools` must have installed it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (make tools installs it)", name)
		}
		t.Skipf("%s not installed (make tools installs it)", name)
	}
	return path
}

// needFFmpeg skips without ffmpeg and ffprobe (see needTool).
func needFFmpeg(t *testing.T) {
	t.Helper()
	needTool(t, "ffmpeg")
	needTool(t, "ffprobe")
}

// freePort returns a port free on ip ("" for every address) for TCP and UDP.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port))); err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// proc is a running child process whose output is kept for failure messages.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited; err is set then
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, name string, bin string, args ...string) *proc {
	t.Helper()
	return startIn(t, nil, name, bin, args...)
}

// startIn starts a process reading stdin from in.
func startIn(t *testing.T, in io.Reader, name string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr, p.cmd.Stdin = p.out, p.out, in
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if the tests die
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("--- %s output (last 20000 bytes):\n%s", name, tail(p.out.String(), 20000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stop ends the process with SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// node starts an aceswarm process.
func node(t *testing.T, name string, args ...string) *proc {
	return start(t, name, binary, args...)
}

// waitFile waits for a file to exist.
func waitFile(t *testing.T, path string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within %v", path, d)
}

// infohash runs `aceswarm info` and returns the infohash.
func infohash(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(binary, "info", path).Output()
	if err != nil {
		t.Fatalf("aceswarm info: %v", err)
	}
	i := strings.Index(string(out), `"infohash": "`)
	if i < 0 {
		t.Fatalf("no infohash in %s", out)
	}
	return string(out[i+13 : i+53])
}

// firstByte requests url and returns how long the first body byte took; it reads n bytes.
func firstByte(ctx context.Context, url string, n int) (time.Duration, error) {
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	var b [1]byte
	if _, err := io.ReadFull(resp.Body, b[:]); err != nil {
		return 0, err
	}
	d := time.Since(start)
	_, err = io.CopyN(io.Discard, resp.Body, int64(n))
	return d, err
}

// play runs ffmpeg as a player that must decode secs seconds without a single error.
func play(t *testing.T, name, url string, secs int) *proc {
	return start(t, name, "ffmpeg", "-nostdin", "-v", "error", "-xerror", "-rw_timeout", "20000000", "-i", url, "-t", strconv.Itoa(secs), "-f", "null", "-")
}

// wait waits for a process to exit and fails the test unless it exited 0 with no error output.
func (p *proc) mustSucceed(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil || strings.TrimSpace(p.out.String()) != "" {
			t.Fatalf("%s: %v\n%s", p.name, p.err, tail(p.out.String(), 2000))
		}
	case <-time.After(within):
		t.Fatalf("%s still running after %v", p.name, within)
	}
}

// waitExit waits for the process to exit 0.
func (p *proc) waitExit(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("%s: %v\n%s", p.name, p.err, tail(p.out.String(), 2000))
		}
	case <-time.After(within):
		t.Fatalf("%s still running after %v", p.name, within)
	}
}
