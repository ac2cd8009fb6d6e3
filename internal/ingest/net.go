package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

func (in *Input) runHTTP(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	in.cfg.Logger.Info("source connected", "source", in.cfg.Source)
	// A source that sends nothing for 10 s is reconnected.
	stall := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer stall.Stop()
	r := readerFunc(func(b []byte) (int, error) {
		n, err := resp.Body.Read(b)
		stall.Reset(10 * time.Second)
		return n, err
	})
	if err := in.copy(ctx, r); err != nil {
		return err
	}
	return errors.New("source closed the stream")
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

func (in *Input) runUDP(ctx context.Context) error {
	addr, err := net.ResolveUDPAddr("udp", in.u.Host)
	if err != nil {
		return err
	}
	var pc *net.UDPConn
	if addr.IP != nil && addr.IP.IsMulticast() {
		var ifi *net.Interface // nil: the interface of the route to the group
		if ifi, err = interfaceOf(in.u.Query().Get("localaddr")); err != nil {
			return err
		}
		pc, err = net.ListenMulticastUDP("udp", ifi, addr)
	} else {
		pc, err = net.ListenUDP("udp", addr)
	}
	if err != nil {
		return err
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	pc.SetReadBuffer(4 << 20)
	in.cfg.Logger.Info("source listening", "source", in.cfg.Source)
	r := readerFunc(func(b []byte) (int, error) {
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFromUDP(b)
		return n, err
	})
	return in.copy(ctx, r)
}

// interfaceOf finds the interface that holds the address ip (ffmpeg's localaddr= option: the
// interface on which to join a multicast group); "" means the kernel chooses.
func interfaceOf(ip string) (*net.Interface, error) {
	if ip == "" {
		return nil, nil
	}
	want := net.ParseIP(ip)
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range ifs {
		addrs, _ := ifs[i].Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(want) {
				return &ifs[i], nil
			}
		}
	}
	return nil, fmt.Errorf("localaddr %s: no interface has this address", ip)
}
