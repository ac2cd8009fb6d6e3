package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/fakeengine"
)

// fakeOrch stands for acestream-orchestrator, written from its docs/API.md: GET /engines,
// POST /provision/acestream (starting a fake engine), and the stream events; every call needs
// the Bearer key.
type fakeOrch struct {
	rig *rig

	mu            sync.Mutex
	engines       []*fakeengine.Engine
	ids           []string
	down          bool // /engines answers 500
	failProvision bool // provisioning answers 503, Retry-After 7
	unauthorized  int
	provisions    int
	started       []map[string]any
	ended         []map[string]any
}

const orchKey = "s3cret"

func (o *fakeOrch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+orchKey {
		o.mu.Lock()
		o.unauthorized++
		o.mu.Unlock()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "GET /engines":
		if o.down {
			http.Error(w, "database locked", http.StatusInternalServerError)
			return
		}
		var list []map[string]any
		for i, e := range o.engines {
			u, _ := url.Parse(e.URL())
			port, _ := strconv.Atoi(u.Port())
			streams := make([]string, e.Sessions())
			list = append(list, map[string]any{"container_id": o.ids[i], "host": u.Hostname(), "port": port, "health_status": "healthy", "streams": streams})
		}
		json.NewEncoder(w).Encode(list)
	case "POST /provision/acestream":
		o.provisions++
		if o.failProvision {
			w.Header().Set("Retry-After", "7")
			http.Error(w, `{"detail": "VPN not connected"}`, http.StatusServiceUnavailable)
			return
		}
		e := o.rig.addEngine()
		o.engines = append(o.engines, e)
		o.ids = append(o.ids, fmt.Sprintf("c%d", len(o.ids)))
		u, _ := url.Parse(e.URL())
		fmt.Fprintf(w, `{"container_id": %q, "host_http_port": %s}`, o.ids[len(o.ids)-1], u.Port())
	case "POST /events/stream_started", "POST /events/stream_ended":
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		if r.URL.Path == "/events/stream_started" {
			o.started = append(o.started, ev)
			fmt.Fprintf(w, `{"id": "s%d"}`, len(o.started))
			return
		}
		o.ended = append(o.ended, ev)
		fmt.Fprint(w, `{"updated": true}`)
	default:
		http.NotFound(w, r)
	}
}

func (o *fakeOrch) snapshot() (started, ended []map[string]any, provisions, unauthorized int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]map[string]any(nil), o.started...), append([]map[string]any(nil), o.ended...), o.provisions, o.unauthorized
}

// newOrchRig starts a fake orchestrator listing the rig's first engine, and a proxy using it
// with one channel per engine (acexy's default with an orchestrator).
func newOrchRig(t *testing.T, down bool) (*rig, *fakeOrch) {
	o := &fakeOrch{down: down}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	r := newRig(t, 1, 0, func(c *Config) {
		c.Orchestrator, c.OrchestratorKey, c.MaxPerEngine, c.ContainerID = srv.URL, orchKey, 1, "proxy-1"
	}, func(r *rig) {
		o.mu.Lock()
		o.rig, o.engines, o.ids = r, []*fakeengine.Engine{r.engines[0]}, []string{"c0"}
		o.mu.Unlock()
	})
	return r, o
}

// With every engine full the proxy provisions one; it reports each stream's start and end.
func TestOrchestratorProvisionsAndReports(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r, o := newOrchRig(t, false)
	ctx := context.Background()
	var wg sync.WaitGroup
	readers := make([]*reader, 2)
	for i := range readers {
		wg.Go(func() { readers[i] = read(ctx, r.url(chanID(20+i)), 6*time.Second, 0) })
		time.Sleep(500 * time.Millisecond)
	}
	wg.Wait()
	for i, rd := range readers {
		if rd.status != 200 || rd.bytes.Load() == 0 {
			t.Fatalf("channel %d: status %d, err %v", i, rd.status, rd.err)
		}
	}
	waitFor(t, 15*time.Second, "two stream_ended events", func() bool {
		_, ended, _, _ := o.snapshot()
		return len(ended) == 2
	})
	started, ended, provisions, unauthorized := o.snapshot()
	if provisions != 1 || len(started) != 2 || unauthorized != 0 {
		t.Fatalf("%d provisions, %d stream_started, %d unauthorized calls", provisions, len(started), unauthorized)
	}
	containers := map[any]bool{}
	for _, ev := range started {
		containers[ev["container_id"]] = true
		if s, _ := ev["session"].(map[string]any); s["stat_url"] == "" || s["command_url"] == "" {
			t.Fatalf("stream_started without the session's URLs: %v", ev)
		}
	}
	if !containers["c0"] || !containers["c1"] {
		t.Fatalf("streams on %v, want one on c0 and one on c1", containers)
	}
	for _, ev := range ended {
		if ev["reason"] != "client_disconnect" || ev["stream_id"] == "" {
			t.Fatalf("stream_ended %v", ev)
		}
	}
}

// When the orchestrator cannot provision, a new channel answers 503 with Retry-After at once.
func TestOrchestratorCannotProvision(t *testing.T) {
	r, o := newOrchRig(t, false)
	o.mu.Lock()
	o.failProvision = true
	o.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go read(ctx, r.url(chanID(30)), 20*time.Second, 0)
	waitFor(t, 10*time.Second, "the first channel on the engine", func() bool { return r.engines[0].Playing() == 1 })
	start := time.Now()
	resp, err := http.Get(r.url(chanID(31)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "7" || time.Since(start) > 5*time.Second {
		t.Fatalf("full pool, provisioning refused: %d, Retry-After %q, after %v", resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start))
	}
}

// An orchestrator that is down leaves the configured engines in use.
func TestOrchestratorDownFallsBack(t *testing.T) {
	r, _ := newOrchRig(t, true)
	rd := read(context.Background(), r.url(chanID(40)), 3*time.Second, 0)
	if rd.status != 200 || rd.bytes.Load() == 0 {
		t.Fatalf("status %d, err %v", rd.status, rd.err)
	}
}
