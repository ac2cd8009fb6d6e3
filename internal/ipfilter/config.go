package ipfilter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Config is the seed's JSON file.
type Config struct {
	Groups      map[string]Group  `json:"groups"`
	Blacklist   List              `json:"blacklist"`
	Whitelist   List              `json:"whitelist"`
	LimitGroups map[string]string `json:"limit_groups"`
}

// Group is a named set of addresses and countries.
type Group struct {
	Addresses []string `json:"addresses"`
	Countries []string `json:"countries"`
}

// List is the black or white list.
type List struct {
	Addresses []string `json:"addresses"`
	Countries []string `json:"countries"`
	Groups    []string `json:"groups"`
}

// Parse reads and checks a configuration; the message names the key that is wrong.
func Parse(b []byte) (*Rules, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("ip filter config: %w", err)
	}
	if dec.More() {
		return nil, errors.New("ip filter config: text after the JSON object")
	}
	return compile(&c)
}

// parseAddress reads a host or a subnet. The seed allows /8, /16 and /24; any prefix length and
// IPv6 are accepted too.
func parseAddress(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a subnet", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkCountry(s string) error {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return fmt.Errorf("%q is not a two-letter upper-case country code", s)
	}
	return nil
}

// parsePercent reads "30%".
func parsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0%% to 100%%", s)
	}
	return v, nil
}

func compile(c *Config) (*Rules, error) {
	r := &Rules{groups: map[string]*set{}, limits: map[string]float64{}}
	names := make([]string, 0, len(c.Groups))
	for name := range c.Groups {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		g := c.Groups[name]
		s, err := newSet("groups."+name, g.Addresses, g.Countries)
		if err != nil {
			return nil, err
		}
		r.groups[name] = s
		r.groupOrder = append(r.groupOrder, name)
	}
	var err error
	if r.black, err = r.listSet("blacklist", c.Blacklist); err != nil {
		return nil, err
	}
	if r.white, err = r.listSet("whitelist", c.Whitelist); err != nil {
		return nil, err
	}
	for name, pct := range c.LimitGroups {
		if r.groups[name] == nil {
			return nil, fmt.Errorf("limit_groups.%s: unknown group %q", name, name)
		}
		v, err := parsePercent(pct)
		if err != nil {
			return nil, fmt.Errorf("limit_groups.%s: %w", name, err)
		}
		r.limits[name] = v
	}
	return r, nil
}

func (r *Rules) listSet(key string, l List) (*set, error) {
	s, err := newSet(key, l.Addresses, l.Countries)
	if err != nil {
		return nil, err
	}
	for i, g := range l.Groups {
		if r.groups[g] == nil {
			return nil, fmt.Errorf("%s.groups[%d]: unknown group %q", key, i, g)
		}
		s.groups = append(s.groups, g)
	}
	return s, nil
}
