package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aceswarm/aceswarm/internal/transport"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	return runCLIContext(context.Background(), args...)
}

func runCLIContext(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestUsageErrorsExit2WithOneLineNamingTheInput(t *testing.T) {
	dir := t.TempDir()
	src := []string{"--stream-source-node", "--port", "0", "--bind", "127.0.0.1", "--source", "-", "--name", "n",
		"--publish-dir", dir, "--cache-dir", dir}
	with := func(extra ...string) []string { return append(append([]string(nil), src...), extra...) }
	cases := []struct {
		args []string
		want string
	}{
		{with("--quality", "SD", "--category", "sport"), "--title is required"},
		{with("--title", "T", "--category", "sport"), "--quality is required"},
		{with("--title", "T", "--quality", "SD"), "--category is required"},
		{with("--title", "T", "--quality", "4K", "--category", "sport"), `--quality "4K"`},
		{with("--title", "T", "--quality", "HD", "--category", "cats"), `--category "cats"`},
		{[]string{"--stream-source", "--port", "1"}, "--stream-source is no longer used: use --stream-source-node"},
		{[]string{"--stream-node"}, "use --stream-support-node"},
		{[]string{"--private-source", "1"}, "use --private-node 1"},
		{[]string{"--allow-peers-download"}, "--allow-peers-download is no longer used"},
		{[]string{"--add-authorized-peers", "1.2.3.4"}, "--add-authorized-peers is no longer used"},
		{[]string{"--no-such-flag"}, "unknown flag --no-such-flag"},
		{[]string{"--port", "notanumber"}, "--port"},
		{[]string{"--stream-support-node", "--url", "x", "--download-from", "nowhere"}, `--download-from "nowhere"`},
		{[]string{"--stream-support-node"}, "--url"},
		{[]string{"--bind", "not-an-ip"}, "--bind"},
		{[]string{"--live-cache-type", "tape"}, "--live-cache-type"},
		{[]string{"--live-cache-seconds", "0"}, "--live-cache-seconds 0: want 1 to 3600"},
		{[]string{"--live-delay", "10s"}, "--live-delay 10s: want 0 up to less than --live-cache-seconds (10)"},
		{[]string{"--live-delay", "-1s"}, "--live-delay -1s"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"info"}, "usage: aceswarm info"},
		{[]string{"info", filepath.Join(dir, "missing.acelive")}, "transport file"},
		{[]string{"tracker", "--listen", "nonsense"}, "--listen"},
		{[]string{"health", "ftp://x"}, `health: "ftp://x" is not an http(s) URL`},
		{[]string{"health", "http://a", "http://b"}, "usage: aceswarm health"},
		{[]string{"clip"}, "usage: aceswarm clip FILE"},
		{[]string{"bench", "swarm", "--profile", "office"}, `--profile "office": want home`},
		{[]string{"bench", "swarm", "--viewer-upload", "2y"}, `--viewer-upload: "2y": want bits per second`},
		{[]string{"bench", "swarm", "--server-upload", "-3M"}, `--server-upload: "-3M"`},
		{[]string{"bench", "swarm", "--nat", "2"}, "--nat 2: want a share from 0 to 1"},
		{[]string{"bench", "swarm", "--rtt", "50ms", "--jitter", "80ms"}, "--jitter 80ms: want 0 to --rtt (50ms)"},
		{[]string{"bench", "swarm", "--viewers", "5000"}, "--viewers 5000: want 1 to 1000"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", c.args, code, stderr)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", c.args, stderr, c.want)
		}
	}
}

// --help (and -h) prints the flags with their defaults, taken from the packages that own them.
func TestHelpListsFlagsWithDefaults(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"aceswarm tracker --listen ADDR", "--start-timeout int", "(default 30)", "--live-cache-size int", "(default 209715200)", "--stats-report-interval int", "(default 60)"}},
		{[]string{"tracker", "-h"}, []string{"flags of aceswarm tracker:", "\n  --listen string"}},
		{[]string{"bench", "swarm", "--help"}, []string{"--rtt duration", "--jitter duration", "--viewer-upload value", "--nat float", "--stall-links float", "--profile string"}},
	} {
		code, out, errs := runCLI(c.args...)
		if code != 0 || errs != "" {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out)
			}
		}
	}
}

func TestVersionAndIgnoredLibPath(t *testing.T) {
	code, out, _ := runCLI("--lib-path", "/opt/acestream", "--version")
	if code != 0 || !strings.HasPrefix(out, "version: ") || !strings.Contains(out, " revision: ") {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestInfoPrintsTheTransportFile(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	f := &transport.File{Info: transport.Info{
		Name: "ch", Title: "Channel", Quality: "HD", Category: "music", Bitrate: 350000, PieceLength: 1 << 20,
		BlockLength: transport.BlockLength, SignatureAlgorithm: "ed25519", PublicKey: string(pub), Live: 1,
	}, Metatrackers: []string{"http://m/"}}
	f.SetTrackers([]string{"http://t/announce"})
	path, err := transport.WriteFile(t.TempDir(), f)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI("info", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"infohash": f.InfoHash().String(), "name": "ch", "title": "Channel", "quality": "HD", "category": "music",
		"bitrate": 350000.0, "piece_length": float64(1 << 20),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if tr := got["trackers"].([]any); len(tr) != 1 || tr[0] != "http://t/announce" {
		t.Errorf("trackers = %v", tr)
	}
	if mt := got["metatrackers"].([]any); len(mt) != 1 {
		t.Errorf("metatrackers = %v", mt)
	}
}
