package playerapi

import (
	"net"
	"net/http"
	"net/netip"
)

// localNets lists the machine's addresses with their subnets.
func localNets() []netip.Prefix {
	addrs, _ := net.InterfaceAddrs()
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(n.String()); err == nil {
				out = append(out, p.Masked())
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
	if h.cfg.BindAll {
		return true
	}
	a = a.Unmap()
	if a.IsLoopback() {
		return true
	}
	for _, p := range h.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
