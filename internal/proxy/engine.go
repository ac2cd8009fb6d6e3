package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The AceStream HTTP API as the proxy uses it (docs/proxy.md): a session is started with
// format=json and a fresh pid, played from its playback_url, watched through its stat_url and
// stopped through its command_url.
const (
	stopTimeout = 3 * time.Second // acexy's: an engine may hang on stop
	statTimeout = 2 * time.Second
	maxAPIBody  = 64 << 10
)

// upstream is one engine session of a channel.
type upstream struct {
	eng         *engine
	playbackURL string
	statURL     string
	commandURL  string
	sessionID   string
	orchID      chan string // the orchestrator's id of the stream, once stream_started was answered
}

// apiError is a failure the engine reported: the channel cannot be played (502).
type apiError struct{ msg string }

func (e apiError) Error() string { return "engine: " + e.msg }

// startSession asks eng for a session of the content in q (format=json, a fresh pid).
func startSession(ctx context.Context, client *http.Client, eng *engine, q url.Values, timeout time.Duration) (*upstream, error) {
	q = maps.Clone(q) // Set below replaces values; the slices themselves are not written
	q.Set("format", "json")
	q.Set("pid", newPID())
	u := eng.base.JoinPath("/ace/getstream")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body struct {
		Response *struct {
			PlaybackURL string `json:"playback_url"`
			StatURL     string `json:"stat_url"`
			CommandURL  string `json:"command_url"`
			SessionID   string `json:"playback_session_id"`
		} `json:"response"`
		Error json.RawMessage `json:"error"`
	}
	if err := getJSON(ctx, client, u.String(), &body); err != nil {
		return nil, err
	}
	if msg := errorText(body.Error); msg != "" {
		return nil, apiError{msg}
	}
	if body.Response == nil || body.Response.PlaybackURL == "" {
		return nil, apiError{"no playback_url in the answer"}
	}
	r := body.Response
	return &upstream{eng: eng, playbackURL: onEngine(r.PlaybackURL, eng.base), statURL: onEngine(r.StatURL, eng.base),
		commandURL: onEngine(r.CommandURL, eng.base), sessionID: r.SessionID}, nil
}

// onEngine makes a URL the engine answered reachable from here: a relative one is taken from
// the engine's base, and one on a loopback address (an engine in another container or host that
// answers 127.0.0.1 URLs) is moved to the engine's address. Empty stays empty.
func onEngine(s string, base *url.URL) string {
	if s == "" {
		return ""
	}
	u, err := base.Parse(s)
	if err != nil {
		return s
	}
	if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
		if bip := net.ParseIP(base.Hostname()); base.Hostname() != "localhost" && (bip == nil || !bip.IsLoopback()) {
			u.Host = base.Host
		}
	}
	return u.String()
}

// stop asks the engine to stop the session (3 s at most); the answer does not matter.
func (u *upstream) stop(client *http.Client) error {
	if u.commandURL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if err := getJSON(ctx, client, withParam(u.commandURL, "method", "stop"), &body); err != nil {
		return err
	}
	if msg := errorText(body.Error); msg != "" {
		return apiError{msg}
	}
	return nil
}

// status reads the session's stat_url: the status, and the engine's error message when it
// reports one.
func (u *upstream) status(ctx context.Context, client *http.Client) (status, errMsg string, err error) {
	if u.statURL == "" {
		return "", "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, statTimeout)
	defer cancel()
	var body struct {
		Response *struct {
			Status       string `json:"status"`
			ErrorMessage string `json:"error_message"`
		} `json:"response"`
		Error json.RawMessage `json:"error"`
	}
	if err := getJSON(ctx, client, withParam(u.statURL, "skip_player_activity", "1"), &body); err != nil {
		return "", "", err
	}
	if msg := errorText(body.Error); msg != "" {
		return "err", msg, nil
	}
	if body.Response == nil {
		return "", "", nil
	}
	return body.Response.Status, body.Response.ErrorMessage, nil
}

// getJSON GETs u and decodes a JSON body of at most maxAPIBody bytes.
func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, firstLine(string(b)))
		}
		return fmt.Errorf("bad JSON answer: %w", err)
	}
	return nil
}

// errorText reads AceStream's "error" member: null or "" is no error, a string is the message,
// an object its "message".
func errorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return string(raw)
}

func withParam(u, key, value string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set(key, value)
	p.RawQuery = q.Encode()
	return p.String()
}

// newPID returns a random UUID (version 4), as acexy sends.
func newPID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}
