package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/testclip"
)

// netns makes two network namespaces joined by a veth pair, 10.<n>.0.1 in the first (with a
// default route through the second, like a machine on a LAN) and 10.<n>.0.2 in the second, and
// removes them when the test ends. It skips the test where namespaces cannot be made (not root,
// no iproute2).
func netns(t *testing.T) (a, b, addrA string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	needTool(t, "ip")
	n := 100 + os.Getpid()%150
	a, b = fmt.Sprintf("aswA%d", os.Getpid()), fmt.Sprintf("aswB%d", os.Getpid())
	va, vb := fmt.Sprintf("vA%d", os.Getpid()), fmt.Sprintf("vB%d", os.Getpid())
	addrA, addrB := fmt.Sprintf("10.%d.0.1", n), fmt.Sprintf("10.%d.0.2", n)
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
		{"-n", a, "route", "add", "default", "via", addrB},
	} {
		if out, err := exec.Command("ip", cmd...).CombinedOutput(); err != nil {
			t.Skipf("cannot make network namespaces here: ip %s: %v %s", strings.Join(cmd, " "), err, out)
		}
	}
	return a, b, addrA
}

// The seed's source command line without --bind, on a machine whose address is not loopback,
// writes that address's tracker URL into its transport file, and a viewer on another machine
// (another namespace) finds the source through it and plays (ffmpeg -xerror).
func TestSourceWithoutBindIsReachable(t *testing.T) {
	needFFmpeg(t)
	a, b, addrA := netns(t)
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
