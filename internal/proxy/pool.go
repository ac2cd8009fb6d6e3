package proxy

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// The engine pool: the configured engine URLs, a host name that resolves to several addresses
// being several engines (re-resolved every resolveEvery, so docker compose --scale and a
// Kubernetes headless Service grow and shrink the pool), each health-checked every checkEvery.
const (
	resolveEvery = 10 * time.Second
	checkEvery   = 5 * time.Second
	checkTimeout = 2 * time.Second
	failsToSick  = 2 // consecutive failed checks that make an engine unhealthy
)

// engine is one AceStream-compatible engine. Its fields below base are guarded by pool.mu.
type engine struct {
	base        *url.URL
	containerID string // from the orchestrator
	load        int    // channels on it
	sick        bool
	fails       int
	gone        bool // no longer in DNS: takes no new channels
	used        time.Time
	checks      int
	// what the orchestrator says: its streams (of every proxy) and its health
	orchLoad int
	orchSick bool
}

// busy is the engine's load: our channels, or the orchestrator's count when higher.
func (e *engine) busy() int { return max(e.load, e.orchLoad) }

// healthy tells whether neither our checks nor the orchestrator find the engine failing.
func (e *engine) healthy() bool { return !e.sick && !e.orchSick }

// record counts the outcome of a check or a request: failsToSick failures in a row make the
// engine unhealthy, a success makes it healthy again.
func (e *engine) record(ok bool) {
	if ok {
		e.fails, e.sick = 0, false
		return
	}
	e.fails++
	e.sick = e.fails >= failsToSick
}

type pool struct {
	urls   []*url.URL    // the configured engines; with an orchestrator, its fallback
	orch   *orchestrator // nil: none
	maxPer int           // channels per engine at most; 0 = no limit
	client *http.Client
	log    *slog.Logger

	provMu sync.Mutex // one provisioning at a time

	mu      sync.Mutex // guards engines and the engines' fields
	engines []*engine
	orchUp  bool // the orchestrator answered the last engine list
}

func newPool(urls []*url.URL, orch *orchestrator, maxPer int, client *http.Client, log *slog.Logger) *pool {
	p := &pool{urls: urls, orch: orch, maxPer: maxPer, client: client, log: log}
	if orch == nil { // with an orchestrator, the first request asks it (provision below)
		p.resolve(func(host string) ([]string, error) { return []string{host}, nil })
	}
	return p
}

// dns resolves host names for resolve.
func dns(ctx context.Context) func(string) ([]string, error) {
	return func(host string) ([]string, error) { return net.DefaultResolver.LookupHost(ctx, host) }
}

// Run resolves and checks the engines until ctx ends.
func (p *pool) Run(ctx context.Context) error {
	p.refresh(ctx)
	p.checkAll(ctx)
	resolveT, checkT := time.NewTicker(resolveEvery), time.NewTicker(checkEvery)
	defer resolveT.Stop()
	defer checkT.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-resolveT.C:
			p.refresh(ctx)
		case <-checkT.C:
			p.checkAll(ctx)
		}
	}
}

// refresh updates the engine list: from the orchestrator when there is one and it answers,
// otherwise from the configured URLs.
func (p *pool) refresh(ctx context.Context) {
	if p.orch != nil {
		list, err := p.orch.engines(ctx)
		p.mu.Lock()
		wasUp := p.orchUp
		p.orchUp = err == nil
		p.mu.Unlock()
		if err == nil {
			p.fromOrchestrator(list)
			return
		}
		if wasUp {
			p.log.Warn("orchestrator unavailable, using the configured engines", "err", err)
		}
	}
	p.resolve(dns(ctx))
}

// fromOrchestrator makes the orchestrator's engines the pool.
func (p *pool) fromOrchestrator(list []orchEngine) {
	var urls []*url.URL
	info := map[string]orchEngine{}
	for _, oe := range list {
		if oe.Host != "" && oe.Port > 0 {
			u := oe.engineURL()
			urls, info[u.String()] = append(urls, u), oe
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replace(urls)
	for _, e := range p.engines {
		if oe, ok := info[e.base.String()]; ok {
			e.containerID, e.orchLoad, e.orchSick = oe.ContainerID, len(oe.Streams), oe.Health == "unhealthy"
		}
	}
}

// resolve updates the engine list from the configured URLs. A name that fails to resolve stands
// for itself (the HTTP client then resolves it per request).
func (p *pool) resolve(lookup func(string) ([]string, error)) {
	var urls []*url.URL
	for _, u := range p.urls {
		urls = append(urls, expand(u, lookup)...)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replace(urls)
}

// replace makes the engines at urls (in order, once each) the pool, keeping the state of those it
// had; an engine that is no longer listed stays, taking no new channels, while channels use it.
// p.mu is held.
func (p *pool) replace(urls []*url.URL) {
	have := map[string]*engine{}
	for _, e := range p.engines {
		have[e.base.String()] = e
	}
	var next []*engine
	seen := map[string]bool{}
	for _, u := range urls {
		key := u.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		e := have[key]
		if e == nil {
			e = &engine{base: u}
		}
		e.gone = false
		next = append(next, e)
		delete(have, key)
	}
	for _, e := range have { // no longer listed: kept while channels use it
		if e.load > 0 {
			e.gone = true
			next = append(next, e)
		}
	}
	p.engines = next
}

// expand turns a configured URL into one URL per address of its host. IP literals and
// "localhost" stay as they are.
func expand(u *url.URL, lookup func(string) ([]string, error)) []*url.URL {
	host := u.Hostname()
	if host == "localhost" || net.ParseIP(host) != nil {
		return []*url.URL{u}
	}
	addrs, err := lookup(host)
	if err != nil || len(addrs) == 0 {
		return []*url.URL{u}
	}
	slices.Sort(addrs)
	var out []*url.URL
	for _, a := range addrs {
		c := *u
		c.Host = net.JoinHostPort(a, u.Port())
		out = append(out, &c)
	}
	return out
}

// acquire picks an engine for a channel: healthy ones first, then the fewest channels, then the
// least recently used; at most maxPer channels each. prefer is taken when it qualifies; avoid
// only when nothing else does.
func (p *pool) acquire(prefer, avoid *engine) *engine {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := p.takes
	var best *engine
	if prefer != nil && ok(prefer) && slices.Contains(p.engines, prefer) {
		best = prefer
	}
	if best == nil {
		for _, e := range p.engines {
			if ok(e) && e != avoid && (best == nil || e.busy() < best.busy() || (e.busy() == best.busy() && e.used.Before(best.used))) {
				best = e
			}
		}
	}
	if best == nil && avoid != nil && ok(avoid) && slices.Contains(p.engines, avoid) {
		best = avoid
	}
	if best != nil {
		best.load++
		best.used = time.Now()
	}
	return best
}

// takes tells whether e may take a new channel; p.mu is held.
func (p *pool) takes(e *engine) bool {
	return e.healthy() && !e.gone && (p.maxPer == 0 || e.busy() < p.maxPer)
}

// hasRoom tells whether some engine may take a new channel.
func (p *pool) hasRoom() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.engines, p.takes)
}

func (p *pool) release(e *engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.load--
}

// healthy tells whether e may keep its channels.
func (p *pool) healthy(e *engine) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.healthy()
}

// markFailed counts a failed request to e like a failed health check.
func (p *pool) markFailed(e *engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.record(false)
}

func (p *pool) checkAll(ctx context.Context) {
	p.mu.Lock()
	list := slices.Clone(p.engines)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range list {
		wg.Go(func() {
			ok := p.check(ctx, e)
			p.mu.Lock()
			defer p.mu.Unlock()
			e.checks++
			e.record(ok)
		})
	}
	wg.Wait()
}

// check asks the engine for its version (/webui/api/service?method=get_version), then for its
// status (/server/api?api_version=3&method=get_status).
func (p *pool) check(ctx context.Context, e *engine) bool {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	for _, path := range []string{"/webui/api/service?method=get_version", "/server/api?api_version=3&method=get_status"} {
		var body struct {
			Result json.RawMessage `json:"result"`
		}
		if getJSON(ctx, p.client, e.base.String()+path, &body) == nil && len(body.Result) > 0 && string(body.Result) != "null" {
			return true
		}
	}
	return false
}

// engineStatus is one engine in /ace/status.
type engineStatus struct {
	URL         string `json:"url"`
	Healthy     bool   `json:"healthy"`
	Channels    int    `json:"channels"`
	Checked     bool   `json:"checked"`
	ContainerID string `json:"container_id,omitempty"`
}

func (p *pool) status() []engineStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]engineStatus, 0, len(p.engines))
	for _, e := range p.engines {
		out = append(out, engineStatus{URL: e.base.String(), Healthy: e.healthy(), Channels: e.load, Checked: e.checks > 0, ContainerID: e.containerID})
	}
	return out
}

// provision finds room for a channel: it asks the orchestrator for its engines, and for a new
// one when they are all full, and waits until that is listed and answers (provisionReady at
// most). One provisioning runs at a time. It reports whether there may be room now; an
// orchestrator that is down leaves the configured engines as the pool.
func (p *pool) provision(ctx context.Context) (bool, error) {
	p.provMu.Lock()
	defer p.provMu.Unlock()
	p.refresh(ctx)
	if p.hasRoom() { // on an engine listed since, or made by another channel's provisioning
		return true, nil
	}
	if !p.orchestratorUp() {
		return false, nil // the configured engines are the pool now, and full
	}
	id, err := p.orch.provision(ctx)
	if err != nil {
		return false, err
	}
	p.log.Info("engine provisioned", "container_id", id)
	deadline := time.Now().Add(provisionReady)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p.refresh(ctx)
		if e := p.byContainer(id); e != nil && p.check(ctx, e) {
			return true, nil
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return false, errNoCapacity{msg: "the provisioned engine " + id + " did not answer", retryAfter: defaultRetryAfter}
}

func (p *pool) orchestratorUp() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.orchUp
}

// containerOf is the orchestrator's container id of e ("" when it has none), read under the
// pool's lock: the orchestrator's refresh rewrites it while sessions are announced.
func (p *pool) containerOf(e *engine) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.containerID
}

func (p *pool) byContainer(id string) *engine {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.engines {
		if e.containerID == id {
			return e
		}
	}
	return nil
}
