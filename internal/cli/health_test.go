package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// aceswarm health exits 0 on a 200 and 1, with one line, on anything else or no answer.
func TestHealth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if code, out, _ := runCLI("health", srv.URL+"/ok"); code != 0 || out != "ok\n" {
		t.Fatalf("healthy: exit %d %q", code, out)
	}
	if code, _, stderr := runCLI("health", srv.URL+"/down"); code != 1 || !strings.Contains(stderr, "503") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("unhealthy: exit %d %q", code, stderr)
	}
	srv.Close()
	if code, _, stderr := runCLI("health", "--timeout", "1s", srv.URL+"/ok"); code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("no server: exit %d %q", code, stderr)
	}
}
