package swarm

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/anacrolix/torrent/tracker"

	"github.com/aceswarm/aceswarm/internal/wire"
)

const (
	maxAnnounceInterval = 30 * time.Second
	announceRetry       = 5 * time.Second
	announceTimeout     = 10 * time.Second
	announceNumWant     = 50
)

// trackers lists the transport file's trackers and the configured ones.
func (s *Session) trackers() []string {
	out := slices.Clone(s.cfg.Trackers)
	s.metaMu.Lock()
	for _, u := range s.metaTrackers {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	s.metaMu.Unlock()
	if f, _ := s.File(); f != nil {
		for _, u := range f.Trackers() {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// announceLoop runs one announcer per tracker; trackers that appear later (with the transport
// file, or from a metatracker) get theirs when they appear.
func (s *Session) announceLoop(ctx context.Context) {
	eachURL(ctx, s.trackers, s.trackerLoop)
}

// eachURL runs run(ctx, u) in a goroutine of its own for every URL list() returns, checking the
// list every second, until ctx ends and every run has returned.
func eachURL(ctx context.Context, list func() []string, run func(context.Context, string)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	running := map[string]bool{}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, u := range list() {
			if !running[u] {
				running[u] = true
				wg.Go(func() { run(ctx, u) })
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Session) trackerLoop(ctx context.Context, url string) {
	event := tracker.Started
	for {
		wait, err := s.announce(ctx, url, event)
		if err != nil {
			s.log.Warn("announce failed", "tracker", url, "err", err)
			wait = announceRetry
		} else {
			event = tracker.None
		}
		select {
		case <-ctx.Done():
			if event == tracker.None {
				stopCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				s.announce(stopCtx, url, tracker.Stopped)
				cancel()
			}
			return
		case <-time.After(wait):
		}
	}
}

// announce sends one announce and passes the peers it returns to the session.
func (s *Session) announce(ctx context.Context, url string, ev tracker.AnnounceEvent) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, announceTimeout)
	defer cancel()
	left := int64(1)
	if s.cfg.Role != wire.RoleViewer {
		left = 0
	}
	req := tracker.AnnounceRequest{
		InfoHash: [20]byte(s.cfg.InfoHash), PeerId: s.cfg.PeerID, Event: ev, NumWant: announceNumWant,
		Port: s.cfg.ListenPort, Left: left,
	}
	a := tracker.Announce{TrackerUrl: url, Request: req, Context: ctx, Slogger: s.log}
	if b := s.cfg.Bind; b.IsValid() && !b.IsUnspecified() {
		a.DialContext = s.dialer().DialContext
		a.ListenPacket = func(network, _ string) (net.PacketConn, error) {
			return net.ListenPacket(network, net.JoinHostPort(b.String(), "0"))
		}
	}
	resp, err := a.Do()
	if err != nil || ev == tracker.Stopped {
		return 0, err
	}
	var addrs []netip.AddrPort
	for _, p := range resp.Peers {
		if ip, ok := netip.AddrFromSlice(p.IP); ok {
			addrs = append(addrs, netip.AddrPortFrom(ip.Unmap(), uint16(p.Port)))
		}
	}
	select {
	case s.found <- addrs:
	case <-ctx.Done():
	}
	wait := time.Duration(resp.Interval) * time.Second
	if wait <= 0 || wait > maxAnnounceInterval {
		wait = maxAnnounceInterval
	}
	wait = max(wait, announceRetry)
	s.log.Debug("announced", "tracker", url, "event", ev.String(), "peers", len(addrs), "next", wait)
	return wait, nil
}

// dialer dials from the node's --bind address.
func (s *Session) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: dialTimeout}
	if b := s.cfg.Bind; b.IsValid() && !b.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: b.AsSlice()}
	}
	return d
}

// dialPeerConn opens a connection to a peer: through Config.Dial when set, else over TCP from the
// --bind address.
func (s *Session) dialPeerConn(ctx context.Context, addr string) (net.Conn, error) {
	if s.cfg.Dial != nil {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		return s.cfg.Dial(ctx, addr)
	}
	return s.dialer().DialContext(ctx, "tcp", addr)
}

// httpTransport makes HTTP requests from the node's --bind address.
func (s *Session) httpTransport() *http.Transport {
	return &http.Transport{DialContext: s.dialer().DialContext, MaxIdleConns: 2, IdleConnTimeout: time.Minute}
}

// HasTracker tells whether the session announces to url.
func (s *Session) HasTracker(url string) bool { return slices.Contains(s.trackers(), url) }
