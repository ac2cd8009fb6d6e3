package swarm

import (
	"net/netip"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
	"golang.org/x/time/rate"
)

type blockKey struct {
	n     uint32
	block uint16
}

// peer is the session loop's view of one connection. Only the loop touches it.
type peer struct {
	c           *conn
	role        uint8
	listen      netip.AddrPort // where it accepts connections; invalid if unknown
	dialed      bool           // we opened the connection
	hello       bool
	window      wire.WindowInfo
	chokedUs    bool // it will not serve our requests
	unchoked    bool // we serve its requests (it holds an upload slot)
	uploaded    int64
	downloaded  int64
	since       time.Time
	mayDownload bool // we may request from it (download-from rules)
	rejected    map[uint32]bool
	replays     *rate.Limiter // stale HEADERs it may still send (see replayLimit); nil before the first
	requests    map[blockKey]time.Time
	flow        flow // how fast it answers our requests (flow.go)
	headers     int  // headers asked of it, not yet answered
	sentPex     time.Time
	strikes     int       // requests it left unanswered
	struck      time.Time // when it last did
	usefulAt    time.Time // when it last sent a request or verified data (or connected)

	// The substream trees (tree.go).
	haves      map[uint32]bool            // the pieces it announced by HAVE, of the last haveSpan (exact, where its window is not)
	gotBlocks  map[blockKey]bool          // blocks it said by CANCEL it holds, of the last haveSpan: not forwarded to it
	pushes     map[blockKey]time.Time     // blocks it is expected to forward to us, as our parent
	treeAsked  uint16                     // substreams we asked it to forward
	treeGiven  uint16                     // substreams it forwards to us, as it last said
	treeTaken  uint16                     // substreams we forward to it
	depths     [wire.Substreams]uint8     // its depth in each substream's tree
	free       uint8                      // substreams it could still take a viewer for
	treeSent   *treeInfo                  // what we last told it, nil before the first TREE
	answersDue int                        // our SUBSCRIBEs it has not answered yet
	askedAt    time.Time                  // when we last sent it a SUBSCRIBE
	avoidUntil [wire.Substreams]time.Time // not asked to be our parent before this
	orphaned   [wire.Substreams]time.Time // since when it has had no path, as our parent
	fwdFrom    uint32                     // the first piece it forwarded to us since taking us
	fwdKnown   bool                       // fwdFrom is set
	pushWait   time.Duration              // moving average of the wait for a block it forwards to us
	kept       int                        // pieces in a row it held and did not forward to us
	keptPiece  uint32                     // the last such piece
}

// has tells whether the peer announced piece n.
func (p *peer) has(n uint32) bool {
	w := p.window
	return p.hello && !w.Empty && n >= w.First && n <= w.Last && !p.rejected[n]
}

func (p *peer) noteHave(n uint32, key bool) {
	if p.window.Empty {
		p.window.First, p.window.Last, p.window.Empty = n, n, false
	}
	p.window.Last = max(p.window.Last, n)
	if key && (p.window.NoKeyframe || n > p.window.Keyframe) {
		p.window.Keyframe, p.window.NoKeyframe = n, false
	}
}

// haveSpan is how far behind the verified edge a peer's HAVEs are remembered exactly.
const haveSpan = 2 * lookahead

// announced tells whether the peer sent HAVE for piece n: a tree parent forwards a piece to a
// child that did not, though the child's window (which assumes no holes) may cover it.
func (p *peer) announced(n uint32) bool { return p.haves[n] }

// lacks tells whether p, a child, still wants piece n: it has not announced n, and n is not so
// far behind p's newest piece that p went past it (p would take its header for a replay).
func (p *peer) lacks(n uint32) bool {
	return !p.haves[n] && (p.window.Empty || n+lookahead/2 >= p.window.Last)
}

// forgetHaves drops the HAVEs and CANCELs older than haveSpan behind edge.
func (p *peer) forgetHaves(edge uint32) {
	for n := range p.haves {
		if n+haveSpan < edge {
			delete(p.haves, n)
		}
	}
	for k := range p.gotBlocks {
		if k.n+haveSpan < edge {
			delete(p.gotBlocks, k)
		}
	}
}

// inFlight is how many requests (blocks and headers) it has not answered yet.
func (p *peer) inFlight() int { return len(p.requests) + p.headers }
