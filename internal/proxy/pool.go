package proxy

import (
	"context"
	"encoding/json"
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
	base   *url.URL
	load   int // channels on it
	sick   bool
	fails  int
	gone   bool // no longer in DNS: takes no new channels
	used   time.Time
	checks int
}

type pool struct {
	urls   []*url.URL
	maxPer int // channels per engine at most; 0 = no limit
	client *http.Client

	mu      sync.Mutex // guards engines and the engines' fields
	engines []*engine
}

func newPool(urls []*url.URL, maxPer int, client *http.Client) *pool {
	p := &pool{urls: urls, maxPer: maxPer, client: client}
	p.resolve(context.Background(), func(host string) ([]string, error) { return []string{host}, nil })
	return p
}

// Run resolves and checks the engines until ctx ends.
func (p *pool) Run(ctx context.Context) error {
	lookup := func(host string) ([]string, error) { return net.DefaultResolver.LookupHost(ctx, host) }
	p.resolve(ctx, lookup)
	p.checkAll(ctx)
	resolveT, checkT := time.NewTicker(resolveEvery), time.NewTicker(checkEvery)
	defer resolveT.Stop()
	defer checkT.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-resolveT.C:
			p.resolve(ctx, lookup)
		case <-checkT.C:
			p.checkAll(ctx)
		}
	}
}

// resolve updates the engine list from the configured URLs. A name that fails to resolve keeps
// the engines it had.
func (p *pool) resolve(ctx context.Context, lookup func(string) ([]string, error)) {
	want := map[string]*url.URL{}
	var order []string
	for _, u := range p.urls {
		for _, b := range expand(u, lookup) {
			if _, ok := want[b.String()]; !ok {
				want[b.String()] = b
				order = append(order, b.String())
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	have := map[string]*engine{}
	for _, e := range p.engines {
		have[e.base.String()] = e
	}
	var next []*engine
	for _, key := range order {
		e := have[key]
		if e == nil {
			e = &engine{base: want[key]}
		}
		e.gone = false
		next = append(next, e)
		delete(have, key)
	}
	for _, e := range have { // gone from DNS: kept while channels use it
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
	ok := func(e *engine) bool { return !e.sick && !e.gone && (p.maxPer == 0 || e.load < p.maxPer) }
	var best *engine
	if prefer != nil && ok(prefer) && slices.Contains(p.engines, prefer) {
		best = prefer
	}
	if best == nil {
		for _, e := range p.engines {
			if ok(e) && e != avoid && (best == nil || e.load < best.load || (e.load == best.load && e.used.Before(best.used))) {
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

func (p *pool) release(e *engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.load--
}

// healthy tells whether e may keep its channels.
func (p *pool) healthy(e *engine) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !e.sick
}

// markFailed counts a failed request to e like a failed health check.
func (p *pool) markFailed(e *engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.fails++
	e.sick = e.fails >= failsToSick
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
			if ok {
				e.fails, e.sick = 0, false
			} else {
				e.fails++
				e.sick = e.fails >= failsToSick
			}
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
		u := e.base.JoinPath("/")
		u.Path, u.RawQuery, _ = cutQuery(path)
		if getJSON(ctx, p.client, u.String(), &body) == nil && len(body.Result) > 0 && string(body.Result) != "null" {
			return true
		}
	}
	return false
}

func cutQuery(s string) (path, query string, ok bool) {
	for i := range s {
		if s[i] == '?' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// engineStatus is one engine in /ace/status.
type engineStatus struct {
	URL      string `json:"url"`
	Healthy  bool   `json:"healthy"`
	Channels int    `json:"channels"`
	Checked  bool   `json:"checked"`
}

func (p *pool) status() []engineStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]engineStatus, 0, len(p.engines))
	for _, e := range p.engines {
		out = append(out, engineStatus{URL: e.base.String(), Healthy: !e.sick, Channels: e.load, Checked: e.checks > 0})
	}
	return out
}
