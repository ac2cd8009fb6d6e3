package swarm

import (
	"errors"
	"sync/atomic"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// BanReason is why a peer was banned, as counted in Metrics.Bans (and aceswarm_bans_total).
type BanReason int

const (
	BanClaim        BanReason = iota // a piece or window far beyond what the source signed
	BanFlood                         // beyond the message budget
	BanProtocol                      // a frame or message that breaks the protocol
	BanForgedHeader                  // a header whose signature or content is wrong
	BanReplay                        // a genuine header long gone, unasked
	BanForgedBlock                   // a block whose hash is not the header's
	BanMetadata                      // a transport file that is not the stream's
	numBanReasons
)

var banNames = [numBanReasons]string{"absurd_claim", "flood", "protocol", "forged_header", "replayed_header", "forged_block", "bad_metadata"}

// String is the reason's label in logs and metrics.
func (r BanReason) String() string { return banNames[r] }

// Metrics are a session's counters since it started, read at any time (atomics).
type Metrics struct {
	// MediaBytes by peer role (index wire.RoleSource…wire.RoleViewer, 0 for a peer that has not
	// said HELLO) and direction (0 sent, 1 received): piece data only.
	MediaBytes     [wire.RoleViewer + 1][2]int64
	WireBytes      [2]int64             // on the connections, protocol included: sent, received
	PiecesComplete int64                // pieces this node completed from peers, or made (a source)
	PiecesSkipped  int64                // pieces given up as never to come, or too far behind the newest
	Bans           [numBanReasons]int64 // by BanReason
	DroppedBlocks  int64                // blocks not sent because a peer's queue was full
	ReaskedBlocks  int64                // blocks asked again of another peer because the first was late
	CacheBytes     int64                // bytes of pieces the live buffer holds
	ForwardedBytes int64                // media bytes forwarded unasked to children in the substream trees
	DuplicateBytes int64                // media bytes received that this node held already (part of those received)
}

// metricCounters are the session's side of Metrics.
type metricCounters struct {
	media     [wire.RoleViewer + 1][2]atomic.Int64
	complete  atomic.Int64
	skipped   atomic.Int64
	reasked   atomic.Int64
	forwarded atomic.Int64
	duplicate atomic.Int64
	bans      [numBanReasons]atomic.Int64
}

func (m *metricCounters) addMedia(role uint8, received bool, n int) {
	if int(role) >= len(m.media) {
		role = 0
	}
	m.media[role][boolInt(received)].Add(int64(n))
}

// banReason names why a peer whose connection failed with err is banned.
func banReason(err error) BanReason {
	if errors.Is(err, errFlood) {
		return BanFlood
	}
	return BanProtocol
}

// Metrics returns the session's counters.
func (s *Session) Metrics() Metrics {
	m := Metrics{
		PiecesComplete: s.metrics.complete.Load(), PiecesSkipped: s.metrics.skipped.Load(),
		DroppedBlocks: s.counts.dropped.Load(), ReaskedBlocks: s.metrics.reasked.Load(), ForwardedBytes: s.metrics.forwarded.Load(), DuplicateBytes: s.metrics.duplicate.Load(), WireBytes: [2]int64{s.counts.sent.Load(), s.counts.recv.Load()},
	}
	for r := range m.MediaBytes {
		for d := range m.MediaBytes[r] {
			m.MediaBytes[r][d] = s.metrics.media[r][d].Load()
		}
	}
	for r := range m.Bans {
		m.Bans[r] = s.metrics.bans[r].Load()
	}
	if _, buf := s.File(); buf != nil {
		m.CacheBytes = buf.Bytes()
	}
	return m
}
