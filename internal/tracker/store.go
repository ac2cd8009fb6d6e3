package tracker

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/anacrolix/generics"
	"github.com/anacrolix/torrent/tracker"
	trackerServer "github.com/anacrolix/torrent/tracker/server"
	"github.com/anacrolix/torrent/tracker/udp"
)

// Interval is the announce interval the tracker asks for, in seconds.
const Interval = 30

// Bounds of the store: one address keeps at most PerAddress ports in a swarm (a newer announce
// replaces the one closest to expiring), and the store holds at most MaxPeers in all (beyond
// that, new peers are not recorded until some expire). Expired peers are swept once a minute.
const (
	PerAddress = 4
	MaxPeers   = 200_000
	sweepEvery = time.Minute
)

type entry struct {
	expires time.Time
	seeder  bool
}

// Store keeps the announced peers of every infohash.
type Store struct {
	ttl time.Duration

	mu        sync.Mutex // guards swarms, total, swept, announces
	swarms    map[[20]byte]map[netip.AddrPort]entry
	total     int       // peers in all swarms
	swept     time.Time // last sweep of expired peers
	announces int64
}

// NewStore returns an empty store; peers expire after ttl without an announce.
func NewStore(ttl time.Duration) *Store {
	return &Store{ttl: ttl, swarms: map[[20]byte]map[netip.AddrPort]entry{}}
}

// TrackAnnounce records or removes a peer.
func (s *Store) TrackAnnounce(_ context.Context, req udp.AnnounceRequest, addr trackerServer.AnnounceAddr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.announces++
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	now := time.Now()
	if now.Sub(s.swept) > sweepEvery {
		s.sweep(now)
	}
	peers := s.swarms[req.InfoHash]
	if req.Event == tracker.Stopped {
		s.remove(req.InfoHash, addr)
		return nil
	}
	if _, known := peers[addr]; !known {
		if s.total >= MaxPeers {
			return nil
		}
		s.makeRoomFor(req.InfoHash, addr)
		if peers == nil {
			peers = map[netip.AddrPort]entry{}
			s.swarms[req.InfoHash] = peers
		}
		s.total++
	}
	peers[addr] = entry{expires: now.Add(s.ttl), seeder: req.Left == 0}
	return nil
}

// makeRoomFor removes, when addr's address already has PerAddress ports in the swarm, the one
// closest to expiring; s.mu is held.
func (s *Store) makeRoomFor(ih [20]byte, addr netip.AddrPort) {
	var n int
	var oldest netip.AddrPort
	peers := s.swarms[ih]
	for a, e := range peers {
		if a.Addr() != addr.Addr() {
			continue
		}
		n++
		if !oldest.IsValid() || e.expires.Before(peers[oldest].expires) {
			oldest = a
		}
	}
	if n >= PerAddress {
		s.remove(ih, oldest)
	}
}

// remove forgets a peer; s.mu is held.
func (s *Store) remove(ih [20]byte, addr netip.AddrPort) {
	peers := s.swarms[ih]
	if _, ok := peers[addr]; ok {
		delete(peers, addr)
		s.total--
	}
	if len(peers) == 0 {
		delete(s.swarms, ih)
	}
}

// sweep forgets expired peers; s.mu is held.
func (s *Store) sweep(now time.Time) {
	s.swept = now
	for ih, peers := range s.swarms {
		for a, e := range peers {
			if now.After(e.expires) {
				s.remove(ih, a)
			}
		}
	}
}

// GetPeers returns up to MaxCount live peers of an infohash, in random order, without the asker.
func (s *Store) GetPeers(_ context.Context, ih trackerServer.InfoHash, opts trackerServer.GetPeersOpts, remote trackerServer.AnnounceAddr) trackerServer.ServerAnnounceResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	var out []trackerServer.PeerInfo
	var seeders, leechers int32
	now := time.Now()
	for a, e := range s.swarms[ih] {
		if now.After(e.expires) {
			s.remove(ih, a)
			continue
		}
		if e.seeder {
			seeders++
		} else {
			leechers++
		}
		if a != remote {
			out = append(out, trackerServer.PeerInfo{AnnounceAddr: a})
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if opts.MaxCount.Ok && uint(len(out)) > opts.MaxCount.Value {
		out = out[:opts.MaxCount.Value]
	}
	return trackerServer.ServerAnnounceResult{
		Peers: out, Interval: generics.Some[int32](Interval),
		Seeders: generics.Some(seeders), Leechers: generics.Some(leechers),
	}
}

// Scrape counts seeders and leechers.
func (s *Store) Scrape(_ context.Context, ihs []trackerServer.InfoHash) ([]udp.ScrapeInfohashResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]udp.ScrapeInfohashResult, len(ihs))
	for i, ih := range ihs {
		for _, e := range s.swarms[ih] {
			if e.seeder {
				out[i].Seeders++
			} else {
				out[i].Leechers++
			}
		}
	}
	return out, nil
}

// Count is the number of peers known for an infohash.
func (s *Store) Count(ih [20]byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.swarms[ih])
}
