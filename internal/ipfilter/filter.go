package ipfilter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/aceswarm/aceswarm/internal/configfile"
)

// FilterConfig configures a Filter.
type FilterConfig struct {
	Path     string     // --ip-filter-config
	GeoIPDB  string     // --geoip-db: a GeoIP2/GeoLite2 Country or City database
	MaxConns func() int // the node's maximum number of connections, for limit_groups
	Reload   time.Duration
	Logger   *slog.Logger
}

// Filter admits or refuses connections and keeps the count of each limited group.
type Filter struct {
	cfg  FilterConfig
	geo  *geoip2.Reader
	file *configfile.File

	mu     sync.Mutex // guards rules, counts
	rules  *Rules
	counts map[string]int
}

// NewFilter reads the rules and the country database; errors name the key or the flag.
func NewFilter(cfg FilterConfig) (*Filter, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Reload == 0 {
		cfg.Reload = time.Second
	}
	f := &Filter{cfg: cfg, counts: map[string]int{}}
	f.file = configfile.New(cfg.Path, f.apply, cfg.Logger)
	if err := f.file.Load(); err != nil {
		return nil, fmt.Errorf("--ip-filter-config %s: %w", cfg.Path, err)
	}
	if cfg.GeoIPDB != "" {
		db, err := geoip2.Open(cfg.GeoIPDB)
		if err != nil {
			return nil, fmt.Errorf("--geoip-db %s: %w", cfg.GeoIPDB, err)
		}
		f.geo = db
	} else if f.rules.UsesCountries() {
		return nil, errors.New("--ip-filter-config names countries: give a country database with --geoip-db")
	}
	return f, nil
}

// apply puts new rules in force.
func (f *Filter) apply(b []byte) error {
	r, err := Parse(b)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.UsesCountries() && f.geo == nil && f.rules != nil {
		return errors.New("the rules name countries but there is no --geoip-db")
	}
	f.rules = r
	return nil
}

// Country is the ISO code of a's country, or "" without a database or a match.
func (f *Filter) Country(a netip.Addr) string {
	if f.geo == nil {
		return ""
	}
	c, err := f.geo.Country(a)
	if err != nil {
		return ""
	}
	return c.Country.ISOCode
}

// Admit decides about a new connection from a. When it is admitted, release must be called
// once the connection ends.
func (f *Filter) Admit(a netip.Addr) (release func(), ok bool) {
	country := f.Country(a)
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.rules.Decide(a, country)
	if v.Allowed {
		max := f.cfg.MaxConns()
		for _, g := range v.Groups {
			if limit, _ := f.rules.Limit(g, max); f.counts[g] >= limit {
				v = Verdict{Reason: "group " + g + " is at its limit"}
				break
			}
		}
	}
	if !v.Allowed {
		f.cfg.Logger.Debug("connection refused", "addr", a.String(), "country", country, "reason", v.Reason)
		return nil, false
	}
	for _, g := range v.Groups {
		f.counts[g]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, g := range v.Groups {
				f.counts[g]--
			}
		})
	}, true
}

// Run re-reads the rules when the file changes, and on SIGHUP, until ctx ends. A bad edit is
// logged with the key that is wrong; the rules in force stay.
func (f *Filter) Run(ctx context.Context) error {
	f.file.Run(ctx, f.cfg.Reload)
	return nil
}

// Close releases the country database; call it once nothing can call Admit any more.
func (f *Filter) Close() error {
	if f.geo == nil {
		return nil
	}
	return f.geo.Close()
}
