package playerapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// localNets lists the machine's addresses with their subnets (the addresses' host bits kept).
func localNets() []netip.Prefix {
	addrs, _ := net.InterfaceAddrs()
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(n.String()); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// allowed tells whether the player API answers r: from the machine itself and its own subnets,
// as AceStream does, or from anywhere with --bind-all.
func (h *Handler) allowed(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && h.Allowed(ap.Addr())
}

// Allowed tells whether the engine's APIs answer a client at a: this machine and its own
// subnets, or anyone with --bind-all.
func (h *Handler) Allowed(a netip.Addr) bool {
	if h.cfg.BindAll || h.remoteOK.Load() {
		return true
	}
	a = a.Unmap()
	if a.IsLoopback() || (h.intranetOK.Load() && (a.IsPrivate() || a.IsLinkLocalUnicast())) {
		return true
	}
	for _, p := range h.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// setAccess is /server/api?method=set_allow_remote_access|set_allow_intranet_access&value=0|1,
// a private method (from this machine, with the API access token), as Docker images call at
// boot. The setting lasts for the engine's lifetime.
func (h *Handler) setAccess(w http.ResponseWriter, r *http.Request, remote bool, value string) {
	switch {
	case !isLoopback(r):
		writeAPIError(w, r, "access denied: local requests only")
		return
	case r.URL.Query().Get("token") != h.token():
		writeAPIError(w, r, "auth_error")
		return
	case value != "0" && value != "1":
		writeAPIError(w, r, "value must be 0 or 1")
		return
	}
	if remote {
		h.remoteOK.Store(value == "1")
	} else {
		h.intranetOK.Store(value == "1")
	}
	writeResult(w, r, "ok", nil)
}

// pointsHere tells whether raw, an http(s) URL, names this engine: one of its own ports on an
// address of this machine. Played or loaded, such a URL would make the engine request itself,
// request after request. A host name is resolved (within two seconds).
func (h *Handler) pointsHere(ctx context.Context, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	port, err := strconv.Atoi(u.Port())
	if u.Port() == "" {
		port, err = map[string]int{"http": 80, "https": 443}[u.Scheme], nil
	}
	if err != nil || !slices.Contains(h.cfg.OwnPorts, port) {
		return false
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		addrs = []netip.Addr{a}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ips, _ := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
		addrs = ips
	}
	for _, a := range addrs {
		a = a.Unmap()
		if a.IsLoopback() || a.IsUnspecified() || slices.ContainsFunc(h.nets, func(p netip.Prefix) bool { return p.Addr().Unmap() == a }) {
			return true
		}
	}
	return false
}
