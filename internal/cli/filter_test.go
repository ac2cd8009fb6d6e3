package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad --ip-filter-config exits 2 with one line naming the key, before the node starts.
func TestBadFilterConfigExits2(t *testing.T) {
	dir := t.TempDir()
	for cfg, want := range map[string]string{
		`{"blacklistt": {}}`:                                   `unknown field "blacklistt"`,
		`{"blacklist": {"addresses": ["10.0.0.0/40"]}}`:        "blacklist.addresses[0]",
		`{"groups": {"g": {}}, "limit_groups": {"g": "120%"}}`: "limit_groups.g",
		`{"whitelist": {"countries": ["FRA"]}}`:                "whitelist.countries[0]",
		`{"whitelist": {"groups": ["ghost"]}}`:                 `unknown group "ghost"`,
		`{"blacklist": {"countries": ["FR"]}}`:                 "--geoip-db",
	} {
		path := filepath.Join(dir, "f.json")
		os.WriteFile(path, []byte(cfg), 0o644)
		pub := filepath.Join(dir, "pub")
		code, _, stderr := runCLI("--stream-support-node", "--url", "/nonexistent.acelive", "--port", "0",
			"--bind", "127.0.0.1", "--cache-dir", dir, "--ip-filter-config", path)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, %q; want 2 and a line naming %q", cfg, code, stderr, want)
		}
		if _, err := os.Stat(pub); err == nil {
			t.Error("something started")
		}
	}
	code, _, stderr := runCLI("--ip-filter-config", filepath.Join(dir, "f.json"), "--http-port", "0")
	if code != 2 || !strings.Contains(stderr, "source, support and startup") {
		t.Errorf("viewer with a filter: %d %q", code, stderr)
	}
}
