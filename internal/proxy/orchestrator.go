package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// acestream-orchestrator's API as acexy's orchestrator integration uses it (docs/proxy.md): the
// engine list, provisioning when every engine is full, and stream started/ended events, each
// with the Bearer key.
const (
	orchTimeout       = 5 * time.Second
	provisionTimeout  = 60 * time.Second
	provisionReady    = 10 * time.Second // a provisioned engine has this long to appear and answer
	defaultRetryAfter = 30 * time.Second
)

type orchestrator struct {
	base    *url.URL
	key     string
	proxyID string // ACEXY_CONTAINER_ID: this proxy, in the events' labels
	client  *http.Client
}

// orchEngine is one engine of GET /engines.
type orchEngine struct {
	ContainerID string            `json:"container_id"`
	Host        string            `json:"host"`
	Port        int               `json:"port"`
	Health      string            `json:"health_status"`
	Streams     []json.RawMessage `json:"streams"`
}

// errNoCapacity is the orchestrator refusing to provision: clients get 503 with Retry-After.
type errNoCapacity struct {
	msg        string
	retryAfter time.Duration
}

func (e errNoCapacity) Error() string { return "orchestrator cannot provision an engine: " + e.msg }

func (o *orchestrator) do(ctx context.Context, method, path string, body any, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base.JoinPath(path).String(), rd)
	if err != nil {
		return nil, err
	}
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("orchestrator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if resp.StatusCode/100 != 2 {
		return resp, fmt.Errorf("orchestrator %s %s: HTTP %d: %s", method, path, resp.StatusCode, firstLine(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp, fmt.Errorf("orchestrator %s %s: %w", method, path, err)
		}
	}
	return resp, nil
}

// engines is GET /engines.
func (o *orchestrator) engines(ctx context.Context) ([]orchEngine, error) {
	ctx, cancel := context.WithTimeout(ctx, orchTimeout)
	defer cancel()
	var list []orchEngine
	_, err := o.do(ctx, http.MethodGet, "/engines", nil, &list)
	return list, err
}

// provision is POST /provision/acestream.
func (o *orchestrator) provision(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, provisionTimeout)
	defer cancel()
	var out struct {
		ContainerID string `json:"container_id"`
	}
	resp, err := o.do(ctx, http.MethodPost, "/provision/acestream", map[string]any{"labels": o.labels(nil), "env": map[string]string{}}, &out)
	if err != nil {
		wait := defaultRetryAfter
		if resp != nil {
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
		}
		return "", errNoCapacity{msg: err.Error(), retryAfter: wait}
	}
	return out.ContainerID, nil
}

func (o *orchestrator) labels(extra map[string]string) map[string]string {
	l := map[string]string{"source": "aceswarm-proxy"}
	if o.proxyID != "" {
		l["proxy_container_id"] = o.proxyID
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

// started is POST /events/stream_started; it returns the orchestrator's id of the stream.
func (o *orchestrator) started(ctx context.Context, e *engine, container, key string, up *upstream) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, orchTimeout)
	defer cancel()
	kind, id, _ := cutKey(key)
	port, _ := strconv.Atoi(e.base.Port())
	body := map[string]any{
		"container_id": container,
		"engine":       map[string]any{"host": e.base.Hostname(), "port": port},
		"stream":       map[string]any{"key_type": kind, "key": id},
		"session": map[string]any{"playback_session_id": up.sessionID, "stat_url": up.statURL,
			"command_url": up.commandURL, "is_live": 1},
		"labels": o.labels(map[string]string{"stream_id": key}),
	}
	var out struct {
		ID string `json:"id"`
	}
	_, err := o.do(ctx, http.MethodPost, "/events/stream_started", body, &out)
	return out.ID, err
}

// ended is POST /events/stream_ended.
func (o *orchestrator) ended(ctx context.Context, container, streamID, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, orchTimeout)
	defer cancel()
	_, err := o.do(ctx, http.MethodPost, "/events/stream_ended",
		map[string]any{"container_id": container, "stream_id": streamID, "reason": reason}, nil)
	return err
}

// engineURL is the base URL of an engine the orchestrator lists.
func (oe orchEngine) engineURL() *url.URL {
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(oe.Host, strconv.Itoa(oe.Port))}
}

func cutKey(key string) (kind, id string, ok bool) {
	for i := range key {
		if key[i] == ':' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}
