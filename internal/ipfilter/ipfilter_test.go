package ipfilter

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/ipfilter/geotest"
)

const sample = `{
 "groups": {
   "office": {"addresses": ["10.1.0.0/16", "192.0.2.7"]},
   "europe": {"countries": ["FR", "DE"]},
   "v6": {"addresses": ["2001:db8::/32"]}
 },
 "blacklist": {"addresses": ["10.1.2.0/24"], "countries": ["KP"], "groups": []},
 "whitelist": {"addresses": ["198.51.100.0/24"], "groups": ["office", "europe", "v6"]},
 "limit_groups": {"europe": "30%", "office": "10%"}
}`

func TestDecide(t *testing.T) {
	r, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr, country string
		allowed       bool
		groups        string
	}{
		{"10.1.3.4", "", true, "office"},
		{"10.1.2.9", "", false, ""}, // blacklisted subnet inside a whitelisted group
		{"192.0.2.7", "", true, "office"},
		{"192.0.2.8", "", false, ""}, // not on the whitelist
		{"198.51.100.20", "US", true, ""},
		{"203.0.113.1", "FR", true, "europe"},
		{"203.0.113.1", "KP", false, ""},
		{"203.0.113.1", "", false, ""},
		{"2001:db8::1", "", true, ""},
		{"::ffff:10.1.3.4", "", true, "office"}, // IPv4-mapped is the IPv4 address
	} {
		v := r.Decide(netip.MustParseAddr(c.addr), c.country)
		if v.Allowed != c.allowed || strings.Join(v.Groups, ",") != c.groups {
			t.Errorf("%s (%s): %+v, want allowed=%v groups=%q", c.addr, c.country, v, c.allowed, c.groups)
		}
	}
	if n, ok := r.Limit("europe", 200); !ok || n != 60 {
		t.Errorf("europe limit %d", n)
	}
	// Without a white list everything not black-listed passes.
	r, _ = Parse([]byte(`{"blacklist": {"addresses": ["10.0.0.0/8"]}}`))
	if !r.Decide(netip.MustParseAddr("11.0.0.1"), "").Allowed || r.Decide(netip.MustParseAddr("10.9.9.9"), "").Allowed {
		t.Error("blacklist only")
	}
}

func TestParseNamesTheBadKey(t *testing.T) {
	for cfg, want := range map[string]string{
		`{"groups": {}, "blacklisst": {}}`:                     `unknown field "blacklisst"`,
		`{"blacklist": {"addresses": ["10.0.0.0/33"]}}`:        "blacklist.addresses[0]",
		`{"blacklist": {"addresses": ["10.0.0"]}}`:             "blacklist.addresses[0]",
		`{"groups": {"g": {}}, "limit_groups": {"g": "120%"}}`: "limit_groups.g",
		`{"groups": {"g": {}}, "limit_groups": {"g": "30"}}`:   "limit_groups.g",
		`{"groups": {"g": {"countries": ["fra"]}}}`:            "groups.g.countries[0]",
		`{"whitelist": {"countries": ["fr"]}}`:                 "whitelist.countries[0]",
		`{"whitelist": {"groups": ["nope"]}}`:                  `whitelist.groups[0]: unknown group "nope"`,
		`{"limit_groups": {"nope": "10%"}}`:                    "limit_groups.nope",
		`[]`:                                                   "ip filter config",
	} {
		if _, err := Parse([]byte(cfg)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want it to name %q", cfg, err, want)
		}
	}
}

func TestFilterCountriesLimitsAndReload(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	if err := geotest.Write(db, map[string]string{"127.0.0.160/30": "FR", "127.0.0.164/30": "US"}); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "filter.json")
	os.WriteFile(cfgPath, []byte(`{"groups": {"fr": {"countries": ["FR"]}}, "whitelist": {"groups": ["fr"]}, "limit_groups": {"fr": "2%"}}`), 0o644)
	f, err := NewFilter(FilterConfig{Path: cfgPath, GeoIPDB: db, MaxConns: func() int { return 100 }, Reload: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done; f.Close() }()
	fr, us := netip.MustParseAddr("127.0.0.161"), netip.MustParseAddr("127.0.0.165")
	if f.Country(fr) != "FR" || f.Country(us) != "US" {
		t.Fatalf("countries: %q %q", f.Country(fr), f.Country(us))
	}
	if _, ok := f.Admit(us); ok {
		t.Fatal("US admitted by a FR white list")
	}
	r1, ok1 := f.Admit(fr)
	r2, ok2 := f.Admit(fr)
	if _, ok3 := f.Admit(fr); !ok1 || !ok2 || ok3 {
		t.Fatalf("limit of 2: %v %v %v", ok1, ok2, ok3)
	}
	r1()
	r1() // release is idempotent
	if r3, ok := f.Admit(fr); !ok {
		t.Fatal("a slot freed by a closed connection was not reused")
	} else {
		r3()
	}
	r2()
	// A bad edit keeps the rules; a good one applies within a reload period.
	os.WriteFile(cfgPath, []byte(`{"whitelist": {"countries": ["usa"]}}`), 0o644)
	time.Sleep(200 * time.Millisecond)
	if _, ok := f.Admit(us); ok {
		t.Fatal("a bad edit replaced the rules")
	}
	os.WriteFile(cfgPath, []byte(`{"whitelist": {"countries": ["US"]}}`), 0o644)
	time.Sleep(200 * time.Millisecond)
	if _, ok := f.Admit(us); !ok {
		t.Fatal("the new rules were not taken")
	}
}

func TestCountriesNeedADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	os.WriteFile(path, []byte(`{"blacklist": {"countries": ["FR"]}}`), 0o644)
	if _, err := NewFilter(FilterConfig{Path: path, MaxConns: func() int { return 1 }}); err == nil || !strings.Contains(err.Error(), "--geoip-db") {
		t.Fatalf("err %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"blacklist": {"addresses": ["10.0.0.0/8", "::1"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			return
		}
		r.Decide(netip.MustParseAddr("10.1.2.3"), "FR")
		r.Decide(netip.MustParseAddr("2001:db8::1"), "")
	})
}

// One decision against 10,000 rules.
func BenchmarkDecide10000Rules(b *testing.B) {
	var addrs []string
	for i := range 10000 {
		switch i % 3 {
		case 0:
			addrs = append(addrs, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		case 1:
			addrs = append(addrs, fmt.Sprintf("172.%d.%d.0/24", 16+i>>8&15, i&255))
		default:
			addrs = append(addrs, fmt.Sprintf("2001:db8:%x::/48", i))
		}
	}
	cfg := fmt.Sprintf(`{"groups": {"g": {"addresses": [%q]}}, "blacklist": {"addresses": [%s]}, "whitelist": {"groups": ["g"], "countries": ["FR"]}, "limit_groups": {"g": "10%%"}}`,
		"192.0.2.0/24", `"`+strings.Join(addrs, `", "`)+`"`)
	r, err := Parse([]byte(cfg))
	if err != nil {
		b.Fatal(err)
	}
	ips := []netip.Addr{netip.MustParseAddr("10.0.39.15"), netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8:7::1")}
	i := 0
	for b.Loop() {
		r.Decide(ips[i%len(ips)], "FR")
		i++
	}
}

// Admit: the country lookup in the database, the decision, and the group count.
func BenchmarkAdmitWithCountryLookup(b *testing.B) {
	dir := b.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	geo := map[string]string{}
	for i := range 2000 {
		geo[fmt.Sprintf("10.%d.%d.0/24", i>>8, i&255)] = []string{"FR", "DE", "US", "BR"}[i%4]
	}
	if err := geotest.Write(db, geo); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "f.json")
	os.WriteFile(path, []byte(`{"groups": {"eu": {"countries": ["FR", "DE"]}}, "blacklist": {"countries": ["BR"]}, "limit_groups": {"eu": "50%"}}`), 0o644)
	f, err := NewFilter(FilterConfig{Path: path, GeoIPDB: db, MaxConns: func() int { return 1 << 30 }})
	if err != nil {
		b.Fatal(err)
	}
	a := netip.MustParseAddr("10.3.7.9")
	for b.Loop() {
		if release, ok := f.Admit(a); ok {
			release()
		}
	}
}
