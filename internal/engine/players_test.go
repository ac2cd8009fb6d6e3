package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var playbackRE = regexp.MustCompile(`"playback_url": "([^"]+)", "stat_url": "([^"]+)", "command_url": "([^"]+)".*"playback_session_id": "([0-9a-f]+)".*"client_session_id": (-?\d+)`)

type started struct{ playback, stat, command, id, csid string }

func startJSON(t *testing.T, u string) started {
	t.Helper()
	_, _, body := get(t, u)
	m := playbackRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("format=json: %s", body)
	}
	return started{m[1], m[2], m[3], m[4], m[5]}
}

// Players behind one address without a pid get sessions of their own: stopping one leaves the
// other playing. client_session_id is each request's own; force_session_restart starts anew.
func TestEachPlayerHasItsOwnSession(t *testing.T) {
	ctx := t.Context()
	src, f, _ := runSource(t, ctx, "127.0.0.140", nil)
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.141", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()}})
	base := fmt.Sprintf("http://127.0.0.1:%d", v.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port())
	ih := f.InfoHash().String()

	a := startJSON(t, base+"/ace/getstream?format=json&infohash="+ih)
	b := startJSON(t, base+"/ace/getstream?format=json&infohash="+ih)
	if a.playback == b.playback || a.id == b.id {
		t.Fatalf("two players without pid share a session: %s", a.playback)
	}
	resp, err := http.Get(b.playback)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.CopyN(io.Discard, resp.Body, 188*20); err != nil {
		t.Fatalf("player b: %v", err)
	}
	if _, _, body := get(t, a.command+"?method=stop"); !strings.Contains(body, `"ok"`) {
		t.Fatalf("stop a: %s", body)
	}
	if _, _, body := get(t, a.stat); !strings.Contains(body, "unknown playback session id") {
		t.Fatalf("a after its stop: %s", body)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 188*200); err != nil {
		t.Fatalf("player b stopped with a: %v", err)
	}
	if _, _, body := get(t, b.stat); !strings.Contains(body, `"status": "dl"`) {
		t.Fatalf("b's stat after a's stop: %s", body)
	}

	p1 := startJSON(t, base+"/ace/getstream?format=json&infohash="+ih+"&pid=tv&client_session_id=1")
	p2 := startJSON(t, base+"/ace/getstream?format=json&infohash="+ih+"&pid=tv&client_session_id=2")
	p3 := startJSON(t, base+"/ace/getstream?format=json&infohash="+ih+"&pid=tv")
	if p1.csid != "1" || p2.csid != "2" || p3.csid != "-1" || p1.id != p2.id {
		t.Fatalf("client_session_id %s, %s, %s (want 1, 2, -1); sessions %s, %s", p1.csid, p2.csid, p3.csid, p1.id, p2.id)
	}
	p4 := startJSON(t, base+"/ace/getstream?format=json&infohash="+ih+"&pid=tv&force_session_restart=1")
	if p4.id == p1.id || p4.playback != p1.playback {
		t.Fatalf("force_session_restart: session %s after %s, URL %s after %s", p4.id, p1.id, p4.playback, p1.playback)
	}

	// event_url: the status at once, then a long poll that answers the stop.
	_, _, body := get(t, base+"/ace/getstream?format=json&infohash="+ih+"&pid=ev&use_api_events=1")
	ev := regexp.MustCompile(`"event_url": "([^"]+)"`).FindStringSubmatch(body)
	if ev == nil {
		t.Fatalf("no event_url: %s", body)
	}
	waitFor(t, 5*time.Second, "event_url says dl", func() bool {
		_, _, b := get(t, ev[1])
		return strings.Contains(b, `{"response": {"event": "status", "status": "dl", "error_message": ""}, "error": null}`)
	})
	polled := make(chan string, 1)
	go func() {
		resp, err := http.Get(ev[1] + "?status=dl")
		if err != nil {
			polled <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		polled <- string(b)
	}()
	time.Sleep(500 * time.Millisecond)
	get(t, strings.Replace(ev[1], "/ace/event/", "/ace/cmd/", 1)+"?method=stop")
	select {
	case b := <-polled:
		if !strings.Contains(b, `"event": "stopped"`) {
			t.Fatalf("long poll after stop: %s", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll did not answer the stop")
	}
}

// A stream nobody serves turns stat's status to err within --start-timeout.
func TestDeadStreamStatTurnsErr(t *testing.T) {
	ctx := t.Context()
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.142", HTTPPort: freePort(t), StartTimeout: 2 * time.Second})
	base := fmt.Sprintf("http://127.0.0.1:%d", v.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port())
	s := startJSON(t, base+"/ace/getstream?format=json&infohash="+strings.Repeat("ab", 20))
	if _, _, body := get(t, s.stat); !strings.Contains(body, `"status": "prebuf"`) {
		t.Fatalf("stat at once: %s", body)
	}
	waitFor(t, 5*time.Second, "stat says err", func() bool {
		_, _, body := get(t, s.stat)
		return strings.Contains(body, `"status": "err"`) && strings.Contains(body, `"error_message": "start timeout"`)
	})
}

// An HTTP/1.0 client that sends no Host gets URLs on the address it connected to.
func TestURLsWithoutHost(t *testing.T) {
	ctx := t.Context()
	src, f, _ := runSource(t, ctx, "127.0.0.143", nil)
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.144", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()}})
	addr := fmt.Sprintf("127.0.0.1:%d", v.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /ace/getstream?format=json&infohash=%s HTTP/1.0\r\n\r\n", f.InfoHash())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	body, _ := io.ReadAll(bufio.NewReader(c))
	if !strings.Contains(string(body), `"playback_url": "http://`+addr+`/ace/r/`) {
		t.Fatalf("answer to HTTP/1.0 without Host:\n%s", body)
	}
}

// direct_url plays an HTTP MPEG-TS URL as a live stream (here another engine's playback URL):
// stat reaches dl, and the player gets MPEG-TS from PAT on. A file path is refused.
func TestDirectURL(t *testing.T) {
	ctx := t.Context()
	src, f, _ := runSource(t, ctx, "127.0.0.145", nil)
	up := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.146", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()}})
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.147", HTTPPort: freePort(t)})
	port := func(n *Node) int { return int(n.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()) }
	live := fmt.Sprintf("http://127.0.0.1:%d/ace/getstream?infohash=%s", port(up), f.InfoHash())
	base := fmt.Sprintf("http://127.0.0.1:%d", port(v))
	s := startJSON(t, base+"/ace/getstream?format=json&direct_url="+url.QueryEscape(live))
	waitFor(t, 10*time.Second, "stat dl", func() bool {
		_, _, body := get(t, s.stat)
		return strings.Contains(body, `"status": "dl"`)
	})
	resp, err := http.Get(s.playback)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, 188*20)
	if _, err := io.ReadFull(resp.Body, head); err != nil || head[0] != 0x47 || head[1]&0x1f != 0 || head[2] != 0 {
		t.Fatalf("not MPEG-TS from PAT on: %v % x", err, head[:4])
	}
	if _, _, body := get(t, base+"/ace/getstream?format=json&direct_url=/etc/passwd"); !strings.Contains(body, "failed to load content") {
		t.Fatalf("a file path as direct_url: %s", body)
	}
}

// A url= or direct_url= that points back at the engine itself is refused at once, by address or
// by name, so that no request makes the engine request itself.
func TestURLToItselfIsRefused(t *testing.T) {
	v := runNode(t, t.Context(), Config{Mode: Viewer, Bind: "127.0.0.148", HTTPPort: freePort(t)})
	port := v.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, self := range []string{
		fmt.Sprintf("url=http://127.0.0.1:%d/ace/getstream?url=x", port),
		fmt.Sprintf("url=http://localhost:%d/x.acelive", port),
		fmt.Sprintf("url=http://127.0.0.148:%d/app/get_transport_file", v.Addr().Port()),
		fmt.Sprintf("direct_url=http://[::1]:%d/ace/getstream?infohash=%s", port, strings.Repeat("ab", 20)),
	} {
		began := time.Now()
		code, _, body := get(t, base+"/ace/getstream?"+url.PathEscape(self))
		if code != http.StatusBadRequest || !strings.Contains(body, "points at this engine") || time.Since(began) > time.Second {
			t.Errorf("%s: %d %q after %v", self, code, body, time.Since(began))
		}
	}
}

// A player that hangs up while its stream brings no data (the source is gone) lets its session
// and the stream end: its reader notices the hang-up without a write.
func TestPlayerHangingUpOnAStalledStream(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	srcCtx, stopSource := context.WithCancel(t.Context())
	src, f, _ := runSource(t, srcCtx, "127.0.0.152", nil)
	v := runNode(t, t.Context(), Config{Mode: Viewer, Bind: "127.0.0.149", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()},
		StartTimeout: time.Minute, Activity: time.Second, IdleStop: time.Second})
	port := v.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	p, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(p, "GET /ace/r/%s/%s HTTP/1.1\r\nHost: x\r\n\r\n", f.InfoHash(), strings.Repeat("0", 32))
	p.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(p, make([]byte, 188*20)); err != nil {
		t.Fatalf("playing: %v", err)
	}
	stopSource()
	time.Sleep(time.Second) // what was buffered is sent; then nothing comes
	p.Close()
	waitFor(t, 10*time.Second, "the stream stops after its player hung up", func() bool { return len(v.ActiveStreams()) == 0 })
}
