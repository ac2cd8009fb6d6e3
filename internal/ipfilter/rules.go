package ipfilter

import (
	"fmt"
	"net/netip"
)

// set matches addresses (hosts and subnets), countries and, in lists, groups.
type set struct {
	prefixes  map[int]map[netip.Prefix]bool // by prefix length (IPv4 lengths as 0–32, IPv6 as 33–161)
	lengths   []int                         // the lengths present, longest first
	countries map[string]bool
	groups    []string
	empty     bool
}

func newSet(key string, addresses, countries []string) (*set, error) {
	s := &set{prefixes: map[int]map[netip.Prefix]bool{}, countries: map[string]bool{}}
	for i, a := range addresses {
		p, err := parseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("%s.addresses[%d]: %w", key, i, err)
		}
		k := lenKey(p)
		if s.prefixes[k] == nil {
			s.prefixes[k] = map[netip.Prefix]bool{}
			s.lengths = append(s.lengths, k)
		}
		s.prefixes[k][p] = true
	}
	for i, c := range countries {
		if err := checkCountry(c); err != nil {
			return nil, fmt.Errorf("%s.countries[%d]: %w", key, i, err)
		}
		s.countries[c] = true
	}
	s.empty = len(addresses) == 0 && len(countries) == 0
	return s, nil
}

func lenKey(p netip.Prefix) int {
	if p.Addr().Is4() {
		return p.Bits()
	}
	return 33 + p.Bits()
}

// hasAddr tells whether a falls in one of the set's hosts or subnets.
func (s *set) hasAddr(a netip.Addr) bool {
	for _, k := range s.lengths {
		bits := k
		if k > 32 {
			bits = k - 33
			if a.Is4() {
				continue
			}
		} else if !a.Is4() {
			continue
		}
		p, err := a.Prefix(bits)
		if err == nil && s.prefixes[k][p] {
			return true
		}
	}
	return false
}

func (s *set) has(a netip.Addr, country string) bool {
	return s.hasAddr(a) || (country != "" && s.countries[country])
}

// Rules are a compiled configuration.
type Rules struct {
	groups     map[string]*set
	groupOrder []string
	black      *set
	white      *set
	limits     map[string]float64 // percent of max connections, by group
}

// UsesCountries tells whether any rule needs a country database.
func (r *Rules) UsesCountries() bool {
	for _, s := range append([]*set{r.black, r.white}, r.groupsList()...) {
		if len(s.countries) > 0 {
			return true
		}
	}
	return false
}

func (r *Rules) groupsList() []*set {
	out := make([]*set, 0, len(r.groups))
	for _, name := range r.groupOrder {
		out = append(out, r.groups[name])
	}
	return out
}

// listed tells whether a (from country) is on a list, directly or through one of its groups.
func (r *Rules) listed(l *set, a netip.Addr, country string) bool {
	if l.has(a, country) {
		return true
	}
	for _, g := range l.groups {
		if r.groups[g].has(a, country) {
			return true
		}
	}
	return false
}

// Verdict is a decision about one address.
type Verdict struct {
	Allowed bool
	Reason  string   // why a refusal: "blacklist", "not on the whitelist", "group limit"
	Groups  []string // the limited groups the address counts against
}

// Decide applies the lists: the black list refuses; a non-empty white list refuses everything
// not on it. It returns the limited groups the address belongs to; the caller enforces limits.
func (r *Rules) Decide(a netip.Addr, country string) Verdict {
	a = a.Unmap()
	if r.listed(r.black, a, country) {
		return Verdict{Reason: "blacklist"}
	}
	whiteEmpty := r.white.empty && len(r.white.groups) == 0
	if !whiteEmpty && !r.listed(r.white, a, country) {
		return Verdict{Reason: "not on the whitelist"}
	}
	v := Verdict{Allowed: true}
	for name := range r.limits {
		if r.groups[name].has(a, country) {
			v.Groups = append(v.Groups, name)
		}
	}
	return v
}

// Limit is the most connections group name may hold with maxConns in all, and whether it has one.
func (r *Rules) Limit(name string, maxConns int) (int, bool) {
	pct, ok := r.limits[name]
	return int(pct * float64(maxConns) / 100), ok
}
