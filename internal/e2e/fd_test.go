package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A viewer engine that runs out of file descriptors (a child with RLIMIT_NOFILE 64, then
// connections until accept fails with EMFILE) takes connections again on every port — the peer
// port with its web interface, the player API and the TCP API — within a second of their release.
func TestListenersOutliveFDExhaustion(t *testing.T) {
	ip := "127.0.0.190"
	peer, httpPort, api := freePort(t, ip), freePort(t, ""), freePort(t, "")
	v := start(t, "viewer", "sh", "-c", `ulimit -n 64 && exec "$0" "$@"`, binary, "--bind", ip, "--port", strconv.Itoa(peer),
		"--http-port", strconv.Itoa(httpPort), "--api-port", strconv.Itoa(api), "--cache-dir", filepath.Join(t.TempDir(), "c"))
	web := fmt.Sprintf("http://%s:%d/app/monitoring", ip, peer)
	player := fmt.Sprintf("http://127.0.0.1:%d/webui/api/service?method=get_version", httpPort)
	tcpAPI := fmt.Sprintf("127.0.0.1:%d", api)
	allAnswer := func() bool { return httpOK(web) && httpOK(player) && tcpAPIAnswers(tcpAPI) }
	for deadline := time.Now().Add(10 * time.Second); !allAnswer(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the viewer's ports do not answer:\n%s", v.out.String())
		}
	}
	var held []net.Conn
	for len(held) < 300 && !strings.Contains(v.out.String(), "too many open files") {
		for _, to := range []string{fmt.Sprintf("%s:%d", ip, peer), tcpAPI} {
			if c, err := net.DialTimeout("tcp", to, time.Second); err == nil {
				held = append(held, c)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(v.out.String(), "too many open files") {
		t.Fatalf("no EMFILE after %d connections:\n%s", len(held), v.out.String())
	}
	for _, c := range held {
		c.Close()
	}
	released := time.Now()
	for !allAnswer() {
		if time.Since(released) > 3*time.Second {
			t.Fatalf("ports still refuse %v after the release: web %v, player API %v, TCP API %v", time.Since(released),
				httpOK(web), httpOK(player), tcpAPIAnswers(tcpAPI))
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(released)
	t.Logf("%d connections held; every port answers %v after their release", len(held), took)
	if took > 1500*time.Millisecond {
		t.Errorf("ports answered %v after the release, want within a second", took)
	}
}

func httpOK(u string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func tcpAPIAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	c.Write([]byte("HELLOBG version=3\r\n"))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "HELLOTS")
}

// 2,000 idle keep-alive connections to the player API: at most MaxPlayerConns (1,024) are kept,
// the rest are closed at once, the engine's memory grows by a bounded amount, and a new request
// is answered as soon as they are gone.
func TestIdleConnectionsToThePlayerAPIAreCapped(t *testing.T) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Max < 4096 {
		t.Skipf("this machine allows %d open files: 2,000 connections and the engine's 1,024 do not fit", lim.Max)
	}
	httpPort := freePort(t, "")
	// the memory is measured without the race detector's
	v := start(t, "viewer", plainBinary(t), "--bind", "127.0.0.191", "--port", "0", "--http-port", strconv.Itoa(httpPort),
		"--api-port", "0", "--cache-dir", filepath.Join(t.TempDir(), "c"))
	version := fmt.Sprintf("http://127.0.0.1:%d/webui/api/service?method=get_version", httpPort)
	for deadline := time.Now().Add(10 * time.Second); !httpOK(version); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the player API does not answer:\n%s", v.out.String())
		}
	}
	before := rssOf(t, v.cmd.Process.Pid)
	var held []net.Conn
	answered := 0
	for range 2000 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(c, "GET /webui/api/service?method=get_version HTTP/1.1\r\nHost: x\r\n\r\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && strings.Contains(line, "200") {
			answered++ // and the connection stays open, idle
		}
	}
	grown := rssOf(t, v.cmd.Process.Pid) - before
	t.Logf("2,000 idle connections: %d answered and kept, the engine grew by %d KiB", answered, grown>>10)
	if answered > 1024 || answered < 1000 {
		t.Errorf("%d connections answered, want the cap (1,024)", answered)
	}
	if grown > 64<<20 {
		t.Errorf("the engine grew by %d MiB for idle connections", grown>>20)
	}
	for _, c := range held {
		c.Close()
	}
	for deadline := time.Now().Add(2 * time.Second); !httpOK(version); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no answer after the idle connections closed")
		}
	}
}

// rssOf is a process's resident memory in bytes.
func rssOf(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
