package tracker

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/anacrolix/torrent/tracker"
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
}

func TestBadListenAddress(t *testing.T) {
	if _, err := New(Config{Listen: "nonsense"}); err == nil {
		t.Fatal("accepted a listen address without a port")
	}
}
