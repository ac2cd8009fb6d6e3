package playerapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aceswarm/aceswarm/internal/playback"
	"github.com/aceswarm/aceswarm/internal/transport"
)

// refusingStreams is a playback core whose streams record what was asked and start nothing.
type refusingStreams struct{ asked []transport.InfoHash }

func (r *refusingStreams) start(_ context.Context, c playback.Content) (playback.Source, error) {
	r.asked = append(r.asked, c.InfoHash)
	return nil, errors.New("not in this test")
}

func newHandler(cfg Config, r *refusingStreams) *Handler {
	return New(cfg, playback.New(playback.Config{}, r.start))
}

const ih = "0a4848271c91ce2d8965ce416267c25047dc8141"

func get(h http.Handler, remote, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = remote
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAccessFromOutsideTheSubnetIsRefusedWithoutBindAll(t *testing.T) {
	s := &refusingStreams{}
	h := newHandler(Config{}, s)
	if w := get(h, "203.0.113.7:5000", "/ace/getstream?infohash="+ih); w.Code != http.StatusForbidden {
		t.Fatalf("remote address got %d", w.Code)
	}
	if len(s.asked) != 0 {
		t.Fatal("a refused request started a stream")
	}
	if w := get(h, "127.0.0.1:5000", "/ace/getstream?infohash="+ih); w.Code == http.StatusForbidden {
		t.Fatal("this machine was refused")
	}
	open := newHandler(Config{BindAll: true}, s)
	if w := get(open, "203.0.113.7:5000", "/ace/getstream?infohash="+ih); w.Code == http.StatusForbidden {
		t.Fatal("--bind-all still refused")
	}
	if w := get(h, "127.0.0.1:1", "/ace/getstream?infohash="+ih); w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("no CORS header")
	}
}

func TestSelectors(t *testing.T) {
	s := &refusingStreams{}
	h := newHandler(Config{}, s)
	for _, q := range []string{"content_id=" + ih, "id=" + strings.ToUpper(ih), "infohash=" + ih,
		"magnet=" + "magnet:?xt=urn:btih:" + ih + "%26tr=udp://t:1"} {
		s.asked = nil
		get(h, "127.0.0.1:1", "/ace/getstream?"+q)
		if len(s.asked) != 1 || s.asked[0].String() != ih {
			t.Errorf("%s: asked %v", q, s.asked)
		}
	}
	for q, want := range map[string]string{
		"infohash=xyz":         "failed to load content",
		"url=/no/such.acelive": "failed to load content",
		"magnet=http://x":      "failed to load content",
		"":                     "missing content selector",
	} {
		w := get(h, "127.0.0.1:1", "/ace/getstream?"+q)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%q: %d %q", q, w.Code, w.Body.String())
		}
	}
}

// With pid (or sid) the session key is AceStream's md5 of it; without one, each request gets a
// key of its own (AceStream's md5 of the address would make players behind it share a session).
func TestSessionKey(t *testing.T) {
	key := func(target string) string {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		return sessionKey(req)
	}
	if k := key("/ace/getstream?pid=127.0.0.1"); k != "f528764d624db129b32c21fbca0cb8d6" {
		t.Fatalf("pid key %s, want md5 of the pid", k)
	}
	if key("/ace/getstream?sid=abc") != key("/ace/getstream?pid=abc") {
		t.Fatal("sid is not pid's old name")
	}
	a, b := key("/ace/getstream"), key("/ace/getstream")
	if a == b || len(a) != 32 || a == "f528764d624db129b32c21fbca0cb8d6" {
		t.Fatalf("keys without pid: %s and %s", a, b)
	}
}

// set_allow_remote_access and set_allow_intranet_access (from this machine, with the API token)
// let other addresses in, for the engine's lifetime, as Docker images set it at boot.
func TestAllowRemoteAndIntranetAccess(t *testing.T) {
	h := newHandler(Config{}, &refusingStreams{})
	h.nets = nil // every address but loopback counts as remote here
	remote, intranet := "203.0.113.7:5000", "192.168.7.9:5000"
	if get(h, remote, "/webui/api/service?method=get_version").Code != http.StatusForbidden ||
		get(h, intranet, "/webui/api/service?method=get_version").Code != http.StatusForbidden {
		t.Fatal("not refused before the setting")
	}
	var tok struct {
		Result struct{ Token string } `json:"result"`
	}
	json.Unmarshal(get(h, "127.0.0.1:1", "/server/api?method=get_api_access_token").Body.Bytes(), &tok)
	if w := get(h, "127.0.0.1:1", "/server/api?method=set_allow_intranet_access&value=1&token=wrong"); !strings.Contains(w.Body.String(), "auth_error") {
		t.Fatalf("wrong token: %s", w.Body.String())
	}
	if w := get(h, "127.0.0.1:1", "/server/api?method=set_allow_intranet_access&value=1&token="+tok.Result.Token); !strings.Contains(w.Body.String(), `"result": "ok"`) {
		t.Fatalf("set_allow_intranet_access: %s", w.Body.String())
	}
	if get(h, intranet, "/webui/api/service?method=get_version").Code != http.StatusOK || get(h, remote, "/webui/api/service?method=get_version").Code != http.StatusForbidden {
		t.Fatal("intranet access: a private address is not in, or a public one is")
	}
	get(h, "127.0.0.1:1", "/server/api?method=set_allow_remote_access&value=1&token="+tok.Result.Token)
	if get(h, remote, "/webui/api/service?method=get_version").Code != http.StatusOK {
		t.Fatal("remote access: still refused")
	}
}

// FuzzRequest sends arbitrary query strings to every path of the player API (no stream can start
// here): no panic, and every answer is a status with at most one line of text or JSON.
func FuzzRequest(f *testing.F) {
	for _, q := range []string{"/ace/getstream?infohash=" + ih + "&format=json", "/ace/manifest.m3u8?url=http%3A%2F%2F127.0.0.1%3A6878%2F",
		"/server/api?method=analyze_content&query=acestream%3A%3Fcontent_id%3D" + ih, "/ace/cmd/" + ih + "/k?method=liveseek&pos=x",
		"/ace/getstream?direct_url=file:///etc/passwd", "/webui/api/service?method=get_version&format=jsonp&callback=a.b"} {
		f.Add(q)
	}
	noNetwork := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no network in this test")
	}}}
	h := newHandler(Config{Client: noNetwork}, &refusingStreams{})
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:6878"+target, nil)
		if err != nil || req.URL.Host != "127.0.0.1:6878" {
			return
		}
		req.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == 0 || strings.Count(strings.TrimSpace(w.Body.String()), "\n") > 0 {
			t.Fatalf("%s: %d %q", target, w.Code, w.Body.String())
		}
	})
}
