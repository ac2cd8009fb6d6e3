package metatracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// DefaultInterval is the interval, in seconds, when the configuration gives none.
const DefaultInterval = 30

// Response is the seed's JSON answer.
type Response struct {
	Trackers     []string `json:"trackers"`
	StartupNodes []string `json:"startup_nodes"`
	Interval     int      `json:"interval"`
}

// Validate checks every entry; the message names the key.
func (r *Response) Validate() error {
	for _, t := range r.Trackers {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "udp") || u.Host == "" {
			return fmt.Errorf("trackers: %q is not an http(s):// or udp:// URL", t)
		}
	}
	for _, n := range r.StartupNodes {
		if _, err := netip.ParseAddrPort(n); err != nil {
			return fmt.Errorf("startup_nodes: %q is not IP:PORT", n)
		}
	}
	if r.Interval < 0 || r.Interval > 86400 {
		return fmt.Errorf("interval: %d out of range 1..86400", r.Interval)
	}
	return nil
}

// Fetch asks a metatracker about a stream.
func Fetch(ctx context.Context, c *http.Client, base, infohash string) (Response, error) {
	u, err := url.Parse(base)
	if err != nil {
		return Response{}, fmt.Errorf("metatracker %q: %w", base, err)
	}
	q := u.Query()
	q.Set("infohash", infohash)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Response{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Response{}, fmt.Errorf("metatracker %s: HTTP %s", base, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, err
	}
	var r Response
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil {
		return Response{}, fmt.Errorf("metatracker %s: not the expected JSON: %w", base, err)
	}
	if err := r.Validate(); err != nil {
		return Response{}, fmt.Errorf("metatracker %s: %w", base, err)
	}
	if r.Interval == 0 {
		r.Interval = DefaultInterval
	}
	return r, nil
}

// Config is the metatracker's configuration file.
type Config struct {
	Path    string              `json:"path"`    // an extra path it answers on, besides /
	Streams map[string]Response `json:"streams"` // by infohash (40 hex digits) or "*"
}

// ParseConfig reads and validates a configuration; the message names the key that is wrong.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if c.Path != "" && !strings.HasPrefix(c.Path, "/") {
		return nil, fmt.Errorf("config: path %q must start with /", c.Path)
	}
	if c.Streams == nil {
		return nil, errors.New("config: streams is missing")
	}
	norm := map[string]Response{}
	for k, r := range c.Streams {
		key := strings.ToLower(k)
		if key != "*" && !isInfoHash(key) {
			return nil, fmt.Errorf("config: streams: key %q is not an infohash (40 hex digits) or *", k)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("config: streams.%s.%w", k, err)
		}
		if r.Interval == 0 {
			r.Interval = DefaultInterval
		}
		if r.Trackers == nil {
			r.Trackers = []string{}
		}
		if r.StartupNodes == nil {
			r.StartupNodes = []string{}
		}
		norm[key] = r
	}
	c.Streams = norm
	return &c, nil
}

func isInfoHash(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// Lookup answers for an infohash: its own entry, else "*", else empty lists.
func (c *Config) Lookup(infohash string) Response {
	if r, ok := c.Streams[strings.ToLower(infohash)]; ok {
		return r
	}
	if r, ok := c.Streams["*"]; ok {
		return r
	}
	return Response{Trackers: []string{}, StartupNodes: []string{}, Interval: DefaultInterval}
}
