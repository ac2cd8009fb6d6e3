package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
	"golang.org/x/sys/unix"
)

// netns makes two network namespaces joined by a veth pair, 10.<n>.0.1/24 in the first (with a
// default route through the second, like a machine on a LAN) and 10.<n>.0.2/24 in the second, or
// with otherSubnet 10.<n>.1.2/24, routed, so that the second is not on the first's subnet. It
// removes them when the test ends, and skips the test where namespaces cannot be made (not
// root, no iproute2).
func netns(t *testing.T, otherSubnet bool) (a, b, addrA, addrB string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	needTool(t, "ip")
	id := fmt.Sprintf("%d%d", os.Getpid()%10000, nsCount.Add(1))
	n := 100 + (os.Getpid()+int(nsCount.Load()))%150
	a, b = "aswA"+id, "aswB"+id
	va, vb := "vA"+id, "vB"+id
	addrA, addrB = fmt.Sprintf("10.%d.0.1", n), fmt.Sprintf("10.%d.0.2", n)
	routes := [][]string{{"-n", a, "route", "add", "default", "via", addrB}}
	if otherSubnet {
		addrB = fmt.Sprintf("10.%d.1.2", n)
		routes = [][]string{{"-n", a, "route", "add", addrB + "/32", "dev", va}, {"-n", b, "route", "add", addrA + "/32", "dev", vb}}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", a).Run()
		exec.Command("ip", "netns", "del", b).Run()
	})
	for _, cmd := range [][]string{
		{"netns", "add", a}, {"netns", "add", b},
		{"link", "add", va, "type", "veth", "peer", "name", vb},
		{"link", "set", va, "netns", a}, {"link", "set", vb, "netns", b},
		{"-n", a, "addr", "add", addrA + "/24", "dev", va}, {"-n", b, "addr", "add", addrB + "/24", "dev", vb},
		{"-n", a, "link", "set", va, "up"}, {"-n", b, "link", "set", vb, "up"},
		{"-n", a, "link", "set", "lo", "up"}, {"-n", b, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", cmd...).CombinedOutput(); err != nil {
			t.Skipf("cannot make network namespaces here: ip %s: %v %s", strings.Join(cmd, " "), err, out)
		}
	}
	for _, cmd := range routes {
		if out, err := exec.Command("ip", cmd...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(cmd, " "), err, out)
		}
	}
	return a, b, addrA, addrB
}

var nsCount atomic.Int32

// getIn makes an HTTP GET from inside network namespace ns and fails the test on an error.
func getIn(t *testing.T, ns, target string) (int, string) {
	t.Helper()
	code, body, err := doIn(ns, target)
	if err != nil {
		t.Fatalf("GET %s in %s: %v", target, ns, err)
	}
	return code, body
}

// doIn makes an HTTP GET from inside network namespace ns: the socket is made on a thread that
// enters it and comes back. (A thread must not end instead: the processes it started, with
// Pdeathsig, would be killed with it.)
func doIn(ns, target string) (code int, body string, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		home, err2 := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err = err2; err != nil {
			runtime.UnlockOSThread()
			return
		}
		defer func() {
			if unix.Setns(home, unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread() // else the thread stays locked and ends with the goroutine
			}
			unix.Close(home)
		}()
		fd, err2 := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err = err2; err != nil {
			return
		}
		defer unix.Close(fd)
		if err = unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return
		}
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		conn, err2 := net.DialTimeout("tcp", req.URL.Host, 5*time.Second)
		if err = err2; err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		req.Close = true
		if err = req.Write(conn); err != nil {
			return
		}
		resp, err2 := http.ReadResponse(bufio.NewReader(conn), req)
		if err = err2; err != nil {
			return
		}
		b, _ := io.ReadAll(resp.Body)
		code, body = resp.StatusCode, string(b)
	}()
	<-done
	return code, body, err
}

// The seed's source command line without --bind, on a machine whose address is not loopback,
// writes that address's tracker URL into its transport file, and a viewer on another machine
// (another namespace) finds the source through it and plays (ffmpeg -xerror).
func TestSourceWithoutBindIsReachable(t *testing.T) {
	needFFmpeg(t)
	a, b, addrA, _ := netns(t, false)
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ts")
	os.WriteFile(clip, testclip.TS, 0o644)
	start(t, "source", "ip", "netns", "exec", a, binary, "--stream-source-node", "--port", "7764", "--source", clip, "--source-loop",
		"--name", "test", "--title", "test", "--bitrate", "350000", "--publish-dir", dir, "--cache-dir", filepath.Join(dir, "src"),
		"--quality", "SD", "--category", "sport")
	acelive := filepath.Join(dir, "test.acelive")
	waitFile(t, acelive, 15*time.Second)
	out, err := exec.Command(binary, "info", acelive).Output()
	if want := "http://" + addrA + ":7764/announce"; err != nil || !strings.Contains(string(out), want) {
		t.Fatalf("transport file's trackers, want %s: %v\n%s", want, err, out)
	}
	start(t, "viewer", "ip", "netns", "exec", b, binary, "--http-port", "6878", "--port", "8621", "--cache-dir", filepath.Join(dir, "viewer"))
	time.Sleep(time.Second)
	player := start(t, "player", "ip", "netns", "exec", b, "ffmpeg", "-nostdin", "-v", "error", "-xerror", "-rw_timeout", "20000000",
		"-i", "http://127.0.0.1:6878/ace/getstream?url="+acelive, "-t", "5", "-f", "null", "-")
	player.mustSucceed(t, 60*time.Second)
}

// A viewer engine answers another machine (here a namespace on another subnet) only after
// set_allow_intranet_access (for a private address) or set_allow_remote_access, called from the
// machine itself with the API token, as Docker images do at boot.
func TestAllowRemoteAccessFromAnotherMachine(t *testing.T) {
	a, b, addrA, _ := netns(t, true)
	dir := t.TempDir()
	start(t, "viewer", "ip", "netns", "exec", a, binary, "--http-port", "6878", "--port", "8621", "--cache-dir", dir)
	local, remote := "http://127.0.0.1:6878", "http://"+addrA+":6878"
	version := "/webui/api/service?method=get_version"
	waitForIn(t, a, local+version)
	if code, body := getIn(t, b, remote+version); code != http.StatusForbidden {
		t.Fatalf("another subnet before the setting: %d %s", code, body)
	}
	_, body := getIn(t, a, local+"/server/api?api_version=3&method=get_api_access_token")
	m := regexp.MustCompile(`"token": "([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("token: %s", body)
	}
	set := func(method, value string) {
		if _, body := getIn(t, a, local+"/server/api?api_version=3&method="+method+"&value="+value+"&token="+m[1]); !strings.Contains(body, `"ok"`) {
			t.Fatalf("%s=%s: %s", method, value, body)
		}
	}
	set("set_allow_intranet_access", "1")
	if code, body := getIn(t, b, remote+version); code != http.StatusOK || !strings.Contains(body, `"version"`) {
		t.Fatalf("a private address after set_allow_intranet_access: %d %s", code, body)
	}
	set("set_allow_intranet_access", "0")
	if code, _ := getIn(t, b, remote+version); code != http.StatusForbidden {
		t.Fatalf("after set_allow_intranet_access=0: %d", code)
	}
	set("set_allow_remote_access", "1")
	if code, _ := getIn(t, b, remote+version); code != http.StatusOK {
		t.Fatalf("after set_allow_remote_access: %d", code)
	}
}

// waitForIn waits until a GET in namespace ns answers.
func waitForIn(t *testing.T, ns, target string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, _, err := doIn(ns, target); err == nil {
			return
		}
		if time.Now().After(deadline) {
			_, _, err := doIn(ns, target)
			t.Fatalf("%s in %s did not answer: %v", target, ns, err)
		}
	}
}
