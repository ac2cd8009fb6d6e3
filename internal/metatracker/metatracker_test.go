package metatracker

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/promtest"
)

const ih = "0a4848271c91ce2d8965ce416267c25047dc8141"

func TestParseConfigNamesTheBadKey(t *testing.T) {
	for cfg, want := range map[string]string{
		`{"streams": {"xyz": {}}}`:                           `key "xyz"`,
		`{"streams": {"*": {"trackers": ["ftp://x"]}}}`:      "trackers",
		`{"streams": {"*": {"startup_nodes": ["nowhere"]}}}`: "startup_nodes",
		`{"streams": {"*": {"interval": -1}}}`:               "interval",
		`{"streams": {}, "extra": 1}`:                        `unknown field "extra"`,
		`{"path": "meta", "streams": {}}`:                    "path",
		`{}`:                                                 "streams is missing",
		`not json`:                                           "config",
	} {
		if _, err := ParseConfig([]byte(cfg)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want it to name %q", cfg, err, want)
		}
	}
}

func TestServerAnswersTheSeedJSONAndReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.json")
	os.WriteFile(path, []byte(`{"path": "/meta", "streams": {"`+strings.ToUpper(ih)+`": {"trackers": ["http://t1/announce"], "startup_nodes": ["1.2.3.4:8632"], "interval": 30}, "*": {"interval": 60}}}`), 0o644)
	s, err := New(ServerConfig{Listen: "127.0.0.1:0", ConfigPath: path, Reload: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	base := "http://" + s.Addr().String()
	get := func(url string) (int, string, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(b))
	}
	want := `{"trackers":["http://t1/announce"],"startup_nodes":["1.2.3.4:8632"],"interval":30}`
	for _, u := range []string{base + "/?infohash=" + ih, base + "/meta?infohash=" + ih} {
		code, ct, body := get(u)
		if code != 200 || ct != "application/json" || body != want {
			t.Fatalf("%s: %d %s %s", u, code, ct, body)
		}
	}
	if _, _, body := get(base + "/?infohash=" + strings.Repeat("1", 40)); body != `{"trackers":[],"startup_nodes":[],"interval":60}` {
		t.Fatalf("wildcard: %s", body)
	}
	if code, _, _ := get(base + "/?infohash=zz"); code != 400 {
		t.Fatalf("bad infohash: %d", code)
	}
	// A bad edit keeps the old rules; a good one is taken within a reload period.
	os.WriteFile(path, []byte(`{"streams": {"*": {"interval": "soon"}}}`), 0o644)
	time.Sleep(200 * time.Millisecond)
	if _, _, body := get(base + "/?infohash=" + ih); body != want {
		t.Fatalf("after a bad edit: %s", body)
	}
	os.WriteFile(path, []byte(`{"streams": {"*": {"trackers": ["udp://t2:6969"], "interval": 5}}}`), 0o644)
	time.Sleep(200 * time.Millisecond)
	if _, _, body := get(base + "/?infohash=" + ih); body != `{"trackers":["udp://t2:6969"],"startup_nodes":[],"interval":5}` {
		t.Fatalf("after a good edit: %s", body)
	}
	r, err := Fetch(ctx, http.DefaultClient, base+"/", ih)
	if err != nil || r.Interval != 5 || r.Trackers[0] != "udp://t2:6969" {
		t.Fatalf("Fetch: %+v %v", r, err)
	}
	m := promtest.Scrape(t, base+"/metrics")
	if ok, bad := promtest.Value(m, "aceswarm_metatracker_requests_total", "outcome", "ok"),
		promtest.Value(m, "aceswarm_metatracker_requests_total", "outcome", "bad_infohash"); ok != 6 || bad != 1 {
		t.Fatalf("metrics: %v answered, %v bad infohashes; want 6 and 1", ok, bad)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"streams": {"*": {"trackers": ["http://t/announce"], "startup_nodes": ["1.2.3.4:5"], "interval": 30}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		for k := range c.Streams {
			if r := c.Lookup(k); r.Interval <= 0 || r.Trackers == nil {
				t.Fatalf("lookup %s: %+v", k, r)
			}
		}
	})
}
