package cli

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"4.2MiB": 4404019, "64KiB": 65536, "4MB": 4_000_000, "1048576": 1 << 20, "2M": 2 << 20, " 128 KiB ": 131072} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "big", "-1MiB", "4.2XiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

// acexy's variables set the flags; a flag given overrides its variable; a bad value is one line
// naming the variable or flag, and exit status 2.
func TestProxyFlagsAndEnvironment(t *testing.T) {
	t.Setenv("ACEXY_BUFFER_SIZE", "nonsense")
	if code, _, errb := runCLI("proxy"); code != 2 || !strings.Contains(errb, "ACEXY_BUFFER_SIZE") || strings.Count(errb, "\n") != 1 {
		t.Fatalf("bad variable: exit %d, %q", code, errb)
	}
	t.Setenv("ACEXY_BUFFER_SIZE", "64KiB")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "-buffer-size", "-12"}, "-buffer-size"},
		{[]string{"proxy", "--empty-timeout", "soon"}, "empty-timeout"},
		{[]string{"proxy", "-engine", "ftp://x"}, `-engine "ftp://x"`},
		{[]string{"proxy", "-acestream-port", "0"}, "-acestream-port 0"},
		{[]string{"proxy", "-addr", "256.0.0.1:1"}, "-addr"},
		{[]string{"proxy", "stray"}, `unexpected argument "stray"`},
		{[]string{"proxy", "-max-channels", "-1"}, "-max-channels -1"},
	} {
		code, _, errb := runCLI(c.args...)
		if code != 2 || !strings.Contains(errb, c.want) || strings.Count(errb, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errb, c.want)
		}
	}
	t.Setenv("ACEXY_ORCH_URL", "orchestrator:8000")
	if code, _, errb := runCLI("proxy"); code != 2 || !strings.Contains(errb, "ACEXY_ORCH_URL") {
		t.Fatalf("bad ACEXY_ORCH_URL: exit %d, %q", code, errb)
	}
	t.Setenv("ACEXY_ORCH_URL", "")
	t.Setenv("ACEXY_MAX_STREAMS_PER_ENGINE", "many")
	if code, _, errb := runCLI("proxy"); code != 2 || !strings.Contains(errb, "ACEXY_MAX_STREAMS_PER_ENGINE") {
		t.Fatalf("bad ACEXY_MAX_STREAMS_PER_ENGINE: exit %d, %q", code, errb)
	}
	code, out, _ := runCLI("proxy", "-help")
	if code != 0 || !strings.Contains(out, "--acestream-host") || !strings.Contains(out, "--no-response-timeout") {
		t.Fatalf("-help: exit %d, %q", code, out)
	}
	if code, out, _ := runCLI("proxy", "-license"); code != 0 || !strings.Contains(out, "acexy") {
		t.Fatalf("-license: exit %d, %q", code, out)
	}
}

// ACEXY_ENGINES is the pool unless -engine is given, which replaces it rather than adding to it.
func TestProxyEnginesFlagOverridesVariable(t *testing.T) {
	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"http://a:1, http://b:2", nil, "http://a:1,http://b:2"},
		{"http://a:1,http://b:2", []string{"-engine", "http://c:3", "-engine", "http://d:4"}, "http://c:3,http://d:4"},
		{"", []string{"-engine", "http://c:3"}, "http://c:3"},
	} {
		fs := newFlagSet("aceswarm proxy")
		var l envList
		fs.Var(&l, "engine", "")
		applyEnv(fs, func(k string) (string, bool) { return c.env, k == "ACEXY_ENGINES" && c.env != "" })
		if err := parse(fs, c.args); err != nil || l.String() != c.want {
			t.Errorf("ACEXY_ENGINES=%q %v: %q, %v; want %q", c.env, c.args, l.String(), err, c.want)
		}
	}
}

// ACEXY_LISTEN_ADDR is where the proxy listens, and --addr overrides it.
func TestProxyListensWhereTold(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	envAddr := ln.Addr().String()
	ln.Close()
	ln, _ = net.Listen("tcp", "127.0.0.1:0")
	flagAddr := ln.Addr().String()
	ln.Close()
	t.Setenv("ACEXY_LISTEN_ADDR", envAddr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { code, _, _ := runCLIContext(ctx, "proxy", "--addr", flagAddr); done <- code }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + flagAddr + "/ace/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy not listening on --addr: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := http.Get("http://" + envAddr + "/ace/status"); err == nil {
		t.Fatal("the variable won over the flag")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after SIGTERM-like stop", code)
	}
}
