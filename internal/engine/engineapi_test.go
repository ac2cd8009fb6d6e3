package engine

import (
	"bufio"
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

// aceClient speaks the TCP engine API the way HTTPAceProxy does.
type aceClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (c *aceClient) send(line string) {
	c.conn.Write([]byte(line + "\r\n"))
}

// expect reads lines until one starts with prefix.
func (c *aceClient) expect(prefix string) string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}

// A client speaking the TCP API as HTTPAceProxy does starts a stream and reads it.
func TestLegacyTCPEngineAPI(t *testing.T) {
	ctx := t.Context()
	src, f, _ := runSource(t, ctx, "127.0.0.130", nil)
	apiPort := freePort(t)
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.131", HTTPPort: freePort(t), APIPort: apiPort, DownloadFrom: []netip.AddrPort{src.Addr()}})
	ih := f.InfoHash().String()
	var conn net.Conn
	waitFor(t, 5*time.Second, "the TCP API listens", func() bool {
		var err error
		conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", apiPort))
		return err == nil
	})
	defer conn.Close()
	c := &aceClient{t: t, conn: conn, r: bufio.NewReader(conn)}

	c.send("LOADASYNC 1 INFOHASH " + ih + " 0 0 0")
	c.expect("NOTREADY")
	c.send("HELLOBG version=3")
	hello := c.expect("HELLOTS ")
	p := map[string]string{}
	for _, w := range strings.Fields(hello)[1:] {
		k, val, _ := strings.Cut(w, "=")
		p[k] = val
	}
	httpPort := fmt.Sprint(v.APIAddr().(*net.TCPAddr).Port)
	if p["version"] != "3.0.0" || p["version_code"] != "3000000" || len(p["key"]) != 10 || p["http_port"] != httpPort {
		t.Fatalf("HELLOTS: %s", hello)
	}
	c.send("READY key=n51LvQoTlJzNGaFxseRK-0123456789abcdef0123456789abcdef01234567")
	c.expect("AUTH ")
	c.send("LOADASYNC 42 INFOHASH " + ih + " 0 0 0")
	if resp := c.expect("LOADRESP 42 "); !strings.Contains(resp, `"status":1`) || !strings.Contains(resp, ih) {
		t.Fatalf("LOADRESP: %s", resp)
	}
	c.send("START INFOHASH " + ih + " 0 0 0 0 output_format=http")
	c.expect("STATE 1")
	start := c.expect("START ")
	playURL := strings.Fields(start)[1]
	if !strings.HasPrefix(playURL, "http://127.0.0.1:"+httpPort+"/content/"+ih+"/") {
		t.Fatalf("START: %s", start)
	}
	c.expect("STATE 2")
	resp, err := http.Get(playURL)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 188*200)
	if _, err := io.ReadFull(resp.Body, b); err != nil || b[0] != 0x47 || b[188] != 0x47 {
		t.Fatalf("playback: %v", err)
	}
	if st := c.expect("STATUS main:dl;"); len(strings.Split(st, ";")) != 11 {
		t.Fatalf("STATUS: %s", st)
	}
	if ev := c.expect("EVENT livepos "); !strings.Contains(ev, "is_live=1") || strings.Contains(ev, "last=0 ") {
		t.Fatalf("EVENT: %s", ev)
	}
	c.send("STOP")
	c.expect("STATE 0")
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("playback went on after STOP")
	}
	resp.Body.Close()
	c.send("START INFOHASH " + ih + " 0 0 0 0 output_format=hls transcode_audio=0")
	if start := c.expect("START "); !regexp.MustCompile(`^START http://127\.0\.0\.1:` + httpPort + `/ace/m/` + ih + `/[0-9.]+\.m3u8 stream=1$`).MatchString(start) {
		t.Fatalf("START with output_format=hls: %s", start)
	} else if code, _, body := get(t, strings.Fields(start)[1]); code != 200 || !strings.HasPrefix(body, "#EXTM3U") {
		t.Fatalf("its playlist: %d %s", code, body)
	}
	c.send("STOP")
	c.expect("STATE 0")
	// START URL plays a direct MPEG-TS URL (tested over HTTP in TestDirectURL); one that points
	// at this engine itself, or a file, is refused.
	c.send("START URL " + url.QueryEscape("http://127.0.0.1:"+httpPort+"/ace/getstream?infohash="+ih) + " 0 0 0 0 output_format=http")
	c.expect("STATUS main:err;")
	c.send("START URL " + url.QueryEscape("file:///etc/passwd") + " 0 0 0 0 output_format=http")
	c.expect("STATUS main:err;")
	c.send("SHUTDOWN")
	c.expect("SHUTDOWN")
}
