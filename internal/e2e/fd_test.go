package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
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
