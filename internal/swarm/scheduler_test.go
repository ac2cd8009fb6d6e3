package swarm

import (
	"context"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/wire"
)

// A header no relay can give is asked of the source once the piece has been known a while: a
// support node whose peers are the source and another support node hears (HAVE) of a new piece
// from both, and the other support node refuses its header (it has not got the piece: the source
// made it before its tree to the relays formed, so no tree brings it either). Before the fix the
// node waited for a relay's tree for ever, since a piece whose header it lacked never counted as
// old, and every player skipped the piece (the flake of TestHomeProfileRegression: all ten
// players missed the stream's third piece).
func TestHeaderNoRelayHasIsAskedOfTheSource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, priv := testFile(t)
	data, h := signedPiece(f, priv, 1000, 188*20) // one block, which both peers give
	_, peers := nodeAmong(t, ctx, wire.RoleSupport, f, h, true, []uint8{wire.RoleSource, wire.RoleSupport}, "127.0.9.10", "127.0.9.11", "127.0.9.12")
	source, relay := peers[0], peers[1]
	serve := func(p *attacker, m *wire.Message) {
		if m.Type == wire.Request && m.Number == 1000 {
			p.send(&wire.Message{Type: wire.Piece, Number: 1000, Block: m.Block, Data: data})
		}
	}
	refused := make(chan struct{}, 1)
	go func() { // the other relay refuses the header: it has not got the piece
		relay.nc.SetReadDeadline(time.Now().Add(15 * time.Second))
		for {
			frame, err := wire.ReadFrame(relay.nc, nil)
			if err != nil {
				return
			}
			m, err := wire.Decode(frame)
			if err != nil {
				continue
			}
			serve(relay, m)
			if m.Type == wire.GetHeader && m.Number == 1001 {
				relay.send(&wire.Message{Type: wire.Reject, Number: 1001, Block: wire.HeaderBlock})
				select {
				case refused <- struct{}{}:
				default:
				}
			}
		}
	}()
	// the relay first, so the node knows a relay serves before the source claims the piece
	have := &wire.Message{Type: wire.Have, Number: 1001}
	relay.send(have)
	select {
	case <-refused:
	case <-ctx.Done():
		t.Fatal("the node never asked the other relay for the header")
	}
	source.send(have)
	asked := time.Now()
	source.readUntil(t, func(m *wire.Message) bool {
		serve(source, m)
		return m.Type == wire.GetHeader && m.Number == 1001
	})
	t.Logf("the source was asked for the header after %v", time.Since(asked).Round(time.Millisecond))
}
