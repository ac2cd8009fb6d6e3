package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/aceswarm/aceswarm/internal/transport"
	"github.com/aceswarm/aceswarm/internal/wire"
)

// hostile is the soak's hostile peer: every few seconds it makes one attack of the threat model
// (docs/protocol.md) against a node picked at random, each from an address of its own (a ban is
// per address): window poisoning, a forged header, a HAVE flood, PEX spam of 1,000 addresses, a
// silent connection.
func (r *run) hostile(every time.Duration) {
	b, err := os.ReadFile(r.acelive)
	f, err2 := transport.Decode(b)
	if err != nil || err2 != nil {
		r.cfg.Logger.Error("hostile peer: no transport file", "err", errors.Join(err, err2))
		return
	}
	ih := f.InfoHash()
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		if to, ok := r.randomNode(); ok {
			from := netip.AddrFrom4([4]byte{127, 1, byte(200 + i/250%50), byte(1 + i%250)})
			attackOnce(r.ctx, from, to, ih, i)
			r.attacks.Add(1)
		}
	}
}

// randomNode picks the peer address of a running node.
func (r *run) randomNode() (netip.AddrPort, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []netip.AddrPort
	for _, role := range roles {
		for _, rn := range r.nodes[role] {
			all = append(all, rn.n.Addr())
		}
	}
	if len(all) == 0 {
		return netip.AddrPort{}, false
	}
	return all[rand.IntN(len(all))], true
}

// attackOnce makes attack number i (of the list above, in turn) from one address.
func attackOnce(ctx context.Context, from netip.Addr, to netip.AddrPort, ih transport.InfoHash, i int) {
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0)), Timeout: 2 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return
	}
	defer nc.Close()
	var id [20]byte
	copy(id[:], fmt.Sprintf("-AW0000-hostile%05d", i%100000))
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(wire.Handshake{InfoHash: ih, PeerID: id}.Marshal())
	if _, err := wire.ReadHandshake(nc); err != nil {
		return
	}
	empty := wire.WindowInfo{Empty: true, NoKeyframe: true}
	hello := &wire.Message{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: empty}
	var msgs []*wire.Message
	switch i % 5 {
	case 0:
		msgs = []*wire.Message{{Type: wire.Hello, Role: wire.RoleSupport, Port: 9, Window: wire.WindowInfo{Last: 0xFFFFFFF0, Keyframe: 0xFFFFFFF0}}}
	case 1:
		msgs = []*wire.Message{hello, {Type: wire.Header, Header: &wire.PieceHeader{InfoHash: ih, Number: 1, Length: 188, Keyframe: -1, Blocks: [][32]byte{{}}}}}
	case 2:
		msgs = []*wire.Message{hello}
		for k := range 20000 {
			msgs = append(msgs, &wire.Message{Type: wire.Have, Number: uint32(k % 64)})
		}
	case 3:
		msgs = []*wire.Message{hello}
		for k := 0; k < 1000; k += wire.MaxPex {
			var junk []netip.AddrPort
			for j := k; j < k+wire.MaxPex; j++ {
				junk = append(junk, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 7, byte(j >> 8), byte(j)}), 9))
			}
			msgs = append(msgs, &wire.Message{Type: wire.Pex, Peers: junk})
		}
	case 4: // silent: say nothing until the node hangs up
	}
	var b []byte
	for _, m := range msgs {
		b = m.Append(b)
	}
	nc.Write(b)
	for { // read until the node hangs up, or the deadline
		if _, err := wire.ReadFrame(nc, nil); err != nil {
			return
		}
	}
}
