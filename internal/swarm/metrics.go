package swarm

import (
	"errors"
	"sync/atomic"
)

// Ban reasons, as counted in Metrics.Bans (and the aceswarm_bans_total series).
const (
	BanClaim        = "absurd_claim"    // a piece or window far beyond what the source signed
	BanFlood        = "flood"           // beyond the message budget
	BanProtocol     = "protocol"        // a frame or message that breaks the protocol
	BanForgedHeader = "forged_header"   // a header whose signature or content is wrong
	BanReplay       = "replayed_header" // a genuine header long gone, unasked
	BanForgedBlock  = "forged_block"    // a block whose hash is not the header's
	BanMetadata     = "bad_metadata"    // a transport file that is not the stream's
)

// BanReasons lists every reason, in a stable order.
var BanReasons = []string{BanClaim, BanFlood, BanProtocol, BanForgedHeader, BanReplay, BanForgedBlock, BanMetadata}

// Metrics are a session's counters since it started, read at any time (atomics).
type Metrics struct {
	// MediaBytes by peer role (index wire.RoleSource…wire.RoleViewer, 0 for a peer that has not
	// said HELLO) and direction (0 sent, 1 received): piece data only.
	MediaBytes     [5][2]int64
	PiecesComplete int64 // pieces this node completed from peers, or made (a source)
	PiecesSkipped  int64 // pieces given up as never to come, or too far behind the newest
	Bans           map[string]int64
	DroppedBlocks  int64 // blocks not sent because a peer's queue was full
	CacheBytes     int64 // bytes of pieces the live buffer holds
}

// metricCounters are the session's side of Metrics.
type metricCounters struct {
	media    [5][2]atomic.Int64
	complete atomic.Int64
	skipped  atomic.Int64
	bans     [7]atomic.Int64 // by index in BanReasons
}

func (m *metricCounters) addMedia(role uint8, received bool, n int) {
	if int(role) >= len(m.media) {
		role = 0
	}
	m.media[role][boolInt(received)].Add(int64(n))
}

func (m *metricCounters) ban(reason string) {
	for i, r := range BanReasons {
		if r == reason {
			m.bans[i].Add(1)
		}
	}
}

// banReason names why a peer whose connection failed with err is banned.
func banReason(err error) string {
	if errors.Is(err, errFlood) {
		return BanFlood
	}
	return BanProtocol
}

// Metrics returns the session's counters.
func (s *Session) Metrics() Metrics {
	m := Metrics{
		PiecesComplete: s.metrics.complete.Load(), PiecesSkipped: s.metrics.skipped.Load(),
		Bans: map[string]int64{}, DroppedBlocks: s.counts.dropped.Load(),
	}
	for r := range m.MediaBytes {
		for d := range m.MediaBytes[r] {
			m.MediaBytes[r][d] = s.metrics.media[r][d].Load()
		}
	}
	for i, r := range BanReasons {
		m.Bans[r] = s.metrics.bans[i].Load()
	}
	if _, buf := s.File(); buf != nil {
		m.CacheBytes = buf.Bytes()
	}
	return m
}
