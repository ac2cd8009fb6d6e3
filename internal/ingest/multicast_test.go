package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// inNetnsEnv marks the copy of the test binary that runs inside a network namespace.
const inNetnsEnv = "ACESWARM_TEST_IN_NETNS"

// TestUDPMulticast receives a multicast source inside a network namespace the test makes, so that
// no multicast datagram can leave the machine. The test binary re-runs itself under `unshare -n`.
func TestUDPMulticast(t *testing.T) {
	if os.Getenv(inNetnsEnv) == "" {
		runInNetns(t, "^TestUDPMulticast$")
		return
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for i, src := range []string{"udp://@239.255.42.1:5004", "udp://@239.255.42.2:5004?localaddr=127.0.0.1"} {
		receiveMulticast(t, src, fmt.Sprintf("239.255.42.%d:5004", i+1))
	}
}

// receiveMulticast sends the clip to group and checks that the source src receives it.
func receiveMulticast(t *testing.T, src, group string) {
	in, err := New(Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go sendClip(t, ctx, group)
	if got := collect(t, in, ctx, 188*70); len(got) < 188*70 {
		t.Fatalf("%s: got %d bytes from the multicast group", src, len(got))
	}
}

// runInNetns runs the named tests of this binary again in a new network namespace, and fails with
// their output if they fail. It skips when this machine cannot make namespaces (no root, no
// unshare or ip).
func runInNetns(t *testing.T, pattern string) {
	t.Helper()
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: cannot make a network namespace", tool)
		}
	}
	if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
		t.Skipf("cannot make a network namespace here (needs root): %v", err)
	}
	cmd := exec.Command("unshare", "-n", os.Args[0], "-test.run="+pattern, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("in the network namespace: %v\n%s", err, out)
	}
}
