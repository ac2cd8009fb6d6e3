package tracker

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/anacrolix/torrent/tracker"
	trackerServer "github.com/anacrolix/torrent/tracker/server"
	"github.com/anacrolix/torrent/tracker/udp"

	"github.com/aceswarm/aceswarm/internal/promtest"
)

func announce(t *testing.T, url, bind string, port uint16, ev tracker.AnnounceEvent) tracker.AnnounceResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(bind)}}
	a := tracker.Announce{
		TrackerUrl: url, Context: ctx, DialContext: d.DialContext,
		ListenPacket: func(network, _ string) (net.PacketConn, error) {
			return net.ListenPacket(network, bind+":0")
		},
		Request: tracker.AnnounceRequest{InfoHash: [20]byte{7}, PeerId: [20]byte{byte(port)}, Port: port, NumWant: 50, Left: 1, Event: ev},
	}
	resp, err := a.Do()
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp
}

func TestHTTPAndUDPAnnounces(t *testing.T) {
	srv, err := New(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	httpURL := "http://" + srv.Addr().String() + "/announce"
	udpURL := "udp://" + srv.Addr().String()

	announce(t, httpURL, "127.0.0.2", 1002, tracker.Started)
	resp := announce(t, udpURL, "127.0.0.3", 1003, tracker.Started)
	if len(resp.Peers) != 1 || resp.Peers[0].Port != 1002 || !net.IP(resp.Peers[0].IP).Equal(net.ParseIP("127.0.0.2")) {
		t.Fatalf("udp announce got %+v", resp.Peers)
	}
	if resp.Interval != Interval {
		t.Fatalf("interval %d", resp.Interval)
	}
	resp = announce(t, httpURL, "127.0.0.2", 1002, tracker.None)
	if len(resp.Peers) != 1 || resp.Peers[0].Port != 1003 {
		t.Fatalf("http announce got %+v", resp.Peers)
	}
	announce(t, udpURL, "127.0.0.3", 1003, tracker.Stopped)
	if n := srv.Store.Count([20]byte{7}); n != 1 {
		t.Fatalf("%d peers after a stop, want 1", n)
	}
	m := promtest.Scrape(t, "http://"+srv.Addr().String()+"/metrics")
	if a, p, s := promtest.Value(m, "aceswarm_tracker_announces_total"), promtest.Value(m, "aceswarm_tracker_peers"),
		promtest.Value(m, "aceswarm_tracker_swarms"); a != 4 || p != 1 || s != 1 {
		t.Fatalf("metrics: %v announces, %v peers, %v swarms; want 4, 1, 1", a, p, s)
	}
}

func TestBadListenAddress(t *testing.T) {
	if _, err := New(Config{Listen: "nonsense"}); err == nil {
		t.Fatal("accepted a listen address without a port")
	}
}

// 5,000 announces from one address keep PerAddress of its ports; expired peers of a swarm nobody
// asks about are swept; the store's count stays true.
func TestStoreBounds(t *testing.T) {
	s := NewStore(time.Hour)
	ctx := context.Background()
	junk := netip.MustParseAddr("127.0.9.9")
	for port := range 5000 {
		s.TrackAnnounce(ctx, udp.AnnounceRequest{InfoHash: [20]byte{1}, Left: 1}, trackerServer.AnnounceAddr(netip.AddrPortFrom(junk, uint16(1000+port))))
	}
	honest := netip.MustParseAddrPort("127.0.9.10:7764")
	s.TrackAnnounce(ctx, udp.AnnounceRequest{InfoHash: [20]byte{1}}, trackerServer.AnnounceAddr(honest))
	if n := s.Count([20]byte{1}); n != PerAddress+1 {
		t.Fatalf("%d peers kept, want %d of the flooding address and the honest one", n, PerAddress+1)
	}
	short := NewStore(10 * time.Millisecond)
	for i := range 100 {
		short.TrackAnnounce(ctx, udp.AnnounceRequest{InfoHash: [20]byte{byte(i)}, Left: 1}, trackerServer.AnnounceAddr(honest))
	}
	time.Sleep(20 * time.Millisecond)
	short.swept = time.Time{} // a sweep is due
	short.TrackAnnounce(ctx, udp.AnnounceRequest{InfoHash: [20]byte{200}, Left: 1}, trackerServer.AnnounceAddr(honest))
	if len(short.swarms) != 1 || short.total != 1 {
		t.Fatalf("after the sweep: %d swarms, %d peers", len(short.swarms), short.total)
	}
}
