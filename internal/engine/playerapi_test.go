package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// localKey is md5("player-7"): AceStream's session key of the player id player-7.
const localKey = "cbf7e79929bd0ba76c86c3825d39efce"

// golden matches body against a documented example in which IH, KEY, HOST, HEX40, INT, STR, TOKEN
// stand for values that vary.
func golden(t *testing.T, name, body, want, ih, host string) {
	t.Helper()
	pat := regexp.QuoteMeta(want)
	for k, v := range map[string]string{"IH": ih, "KEY": localKey, "HOST": regexp.QuoteMeta(host), "HEX40": "[0-9a-f]{40}",
		"TOKEN": "[0-9a-f]{64}", "INT": "-?[0-9]+", "STR": `"[^"]*"`, "STATUS": `"(prebuf|dl)"`} {
		pat = strings.ReplaceAll(pat, k, v)
	}
	if !regexp.MustCompile("^" + pat + "$").MatchString(body) {
		t.Errorf("%s:\n got  %s\n want %s", name, body, want)
	}
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Every JSON answer of the player API against the documented examples: shape, key order, types.
func TestPlayerAPIGolden(t *testing.T) {
	ctx := t.Context()
	src, f, path := runSource(t, ctx, "127.0.0.110", nil)
	v := runNode(t, ctx, Config{Mode: Viewer, Bind: "127.0.0.111", HTTPPort: freePort(t), DownloadFrom: []netip.AddrPort{src.Addr()}})
	host := fmt.Sprintf("127.0.0.1:%d", v.APIAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port())
	base := "http://" + host
	ih := f.InfoHash().String()

	_, hdr, body := get(t, base+"/ace/getstream?format=json&infohash="+ih+"&client_session_id=7&pid=player-7")
	golden(t, "getstream json", body, `{"response": {"playback_url": "http://HOST/ace/r/IH/KEY", "stat_url": "http://HOST/ace/stat/IH/KEY", "command_url": "http://HOST/ace/cmd/IH/KEY", "infohash": "IH", "playback_session_id": "HEX40", "is_live": 1, "is_encrypted": 0, "client_session_id": 7}, "error": null}`, ih, host)
	if hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no CORS header")
	}
	_, _, body = get(t, base+"/ace/manifest.m3u8?format=json&id="+ih+"&use_api_events=1&pid=p1")
	if !strings.HasPrefix(body, `{"response": {"event_url": "`) || !strings.Contains(body, `.m3u8", "stat_url"`) || !strings.Contains(body, `"client_session_id": -1}`) {
		t.Errorf("manifest json with events: %s", body)
	}
	_, _, body = get(t, base+"/ace/getstream?format=json&infohash=nothex")
	golden(t, "json error", body, `{"response": null, "error": "failed to load content"}`, ih, host)

	code, hdr, _ := get(t, base+"/ace/getstream?infohash="+ih+"&pid=player-7")
	if code != http.StatusFound || hdr.Get("Location") != base+"/ace/r/"+ih+"/"+localKey {
		t.Errorf("redirect: %d %s", code, hdr.Get("Location"))
	}
	code, hdr, _ = get(t, base+"/ace/getstream?infohash="+ih)
	if loc := hdr.Get("Location"); code != http.StatusFound || !regexp.MustCompile("^"+base+"/ace/r/"+ih+"/[0-9a-f]{32}$").MatchString(loc) || strings.HasSuffix(loc, localKey) {
		t.Errorf("redirect without pid: %d %s", code, loc)
	}
	if code, _, body = get(t, base+"/ace/getstream?url=/no/such.acelive"); code != 400 || !strings.Contains(body, "failed to load content") {
		t.Errorf("redirect error: %d %s", code, body)
	}

	// POST of the transport file itself.
	raw, _ := os.ReadFile(path)
	payload, _ := json.Marshal(map[string]string{"transport_file_data": base64.StdEncoding.EncodeToString(raw)})
	resp, err := http.Post(base+"/ace/getstream?format=json&pid=post", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(pb), `"infohash": "`+ih+`"`) {
		t.Errorf("POST: %s", pb)
	}

	// stat: prebuf until the start point is buffered, then dl, with no player reading; livepos
	// values are strings.
	statURL := base + "/ace/stat/" + ih + "/" + localKey
	_, _, body = get(t, statURL)
	golden(t, "stat", body, `{"response": {"uploaded": INT, "network_monitor_status": 0, "debug_level": 0, "disk_cache_stats": {"avail": INT, "disk_cache_limit": 209715200, "inactive_inuse": 0, "active_inuse": INT}, "speed_down": INT, "speed_up": INT, "network_monitor_started": false, "selected_stream_index": 0, "total_progress": 0, "stream_status": 0, "client_session_id": 7, "status": STATUS, "downloaded": INT, "manifest_access_mode": -1, "peers": INT, "playback_session_id": "HEX40", "is_encrypted": 0, "is_live": 1, "infohash": "IH", "selected_file_index": -1, "livepos": {"last": STR, "live_first": STR, "pos": STR, "first_ts": STR, "last_ts": STR, "is_live": "1", "live_last": STR, "buffer_pieces": STR}, "error_message": ""}, "error": null}`, ih, host)
	waitFor(t, 5*time.Second, "stat says dl with no player reading", func() bool {
		_, _, b := get(t, statURL)
		return strings.Contains(b, `"status": "dl"`) && !strings.Contains(b, `"last": "0"`)
	})
	playResp, err := http.Get(base + "/ace/r/" + ih + "/" + localKey)
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, playResp.Body, 188*50)

	// command: unknown method, v2 envelope, stop; then the session is gone and the reader ends.
	cmdURL := base + "/ace/cmd/" + ih + "/" + localKey
	_, _, body = get(t, cmdURL+"?method=frobnicate")
	golden(t, "cmd unknown", body, `{"response": null, "error": "unknown method"}`, ih, host)
	_, _, body = get(t, cmdURL+"?method=set_player_activity_timeout&timeout=60&api_version=2")
	golden(t, "cmd v2", body, `{"result": "ok", "error": null}`, ih, host)
	_, _, body = get(t, cmdURL+"?method=stop")
	golden(t, "cmd stop", body, `{"response": "ok", "error": null}`, ih, host)
	_, _, body = get(t, statURL)
	golden(t, "stat after stop", body, `{"response": null, "error": "unknown playback session id"}`, ih, host)
	_, _, body = get(t, cmdURL+"?method=stop")
	golden(t, "cmd after stop", body, `{"response": null, "error": "unknown playback session id"}`, ih, host)
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, playResp.Body); done <- err }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the player kept reading after stop")
	}
	playResp.Body.Close()

	// Service and server API.
	_, _, body = get(t, base+"/webui/api/service?method=get_version")
	golden(t, "get_version", body, `{"result": {"code": 3000000, "platform": "linux", "version": "3.0.0"}, "error": null}`, ih, host)
	_, _, body = get(t, base+"/webui/api/service?method=get_version&format=jsonp&callback=mycallback")
	golden(t, "get_version jsonp", body, `mycallback({"result": {"code": 3000000, "platform": "linux", "version": "3.0.0"}, "error": null});`, ih, host)
	api := base + "/server/api?api_version=3&method="
	for name, want := range map[string]string{
		"get_status":                                            `{"result": {"playlist_loaded": true, "version": {"code": 3000000, "platform": "linux", "version": "3.0.0"}}, "error": null}`,
		"get_network_connection_status":                         `{"result": {"connected": true}, "error": null}`,
		"get_api_access_token":                                  `{"result": {"token": "TOKEN"}, "error": null}`,
		"get_content_id&infohash=" + ih:                         `{"result": {"content_id": "IH"}, "error": null}`,
		"analyze_content&query=acestream%3A%3Finfohash%3D" + ih: `{"result": {"is_live": 1, "item_url": "acestream:?infohash=IH", "transport_type": "bt", "content_type": "transport_file", "title": "", "content_id": "IH", "infohash": "IH", "categories": []}, "error": null}`,
		"analyze_content&query=http%3A%2F%2Fx":                  `{"error": {"message": "unknown protocol", "code": 0}}`,
		"get_media_files&infohash=" + ih:                        `{"result": {"files": [{"index": 0, "filename": "S"}], "name": "s", "infohash": "IH", "transport_type": "bt", "type": "live", "transport_file_cache_key": "HEX40"}, "error": null}`,
		"no_such_method":                                        `{"error": {"message": "unknown method", "code": 0}}`,
	} {
		_, _, body = get(t, api+name)
		golden(t, name, body, want, ih, host)
	}
}
