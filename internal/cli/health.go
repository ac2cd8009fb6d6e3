package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultHealthURL is the viewer engine's own service API, as the Docker images' health checks
// call it.
const DefaultHealthURL = "http://127.0.0.1:6878/webui/api/service?method=get_version"

// runHealth is `aceswarm health [URL]`: exit 0 when URL answers 200 within --timeout, else 1 with
// one line; for container health checks in images that carry no curl.
func runHealth(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("aceswarm health")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parse(fs, args); err != nil {
		return err
	}
	target := DefaultHealthURL
	switch fs.NArg() {
	case 0:
	case 1:
		target = fs.Arg(0)
	default:
		return usagef("usage: aceswarm health [URL]")
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("health: %q is not an http(s) URL", target)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", target, resp.Status)
	}
	fmt.Fprintln(env.Stdout, "ok")
	return nil
}
