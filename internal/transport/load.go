package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Load reads a transport file from a path, a file:// URL or an http(s):// URL.
func Load(ctx context.Context, client *http.Client, src string) (*File, []byte, error) {
	b, err := fetch(ctx, client, src)
	if err != nil {
		return nil, nil, err
	}
	f, err := Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", src, err)
	}
	return f, b, nil
}

func fetch(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	u, err := url.Parse(src)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // a path, or a Windows drive letter
		return readLimited(src)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		return readLimited(u.Path)
	case "http", "https":
		return get(ctx, client, src)
	}
	return nil, fmt.Errorf("transport file %s: unsupported scheme %q", src, u.Scheme)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("transport file: %w", err)
	}
	defer f.Close()
	return readAll(f, path)
}

func get(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("transport file %s: %w", src, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("transport file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("transport file %s: HTTP %s", src, resp.Status)
	}
	return readAll(resp.Body, src)
}

func readAll(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("transport file %s: %w", name, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("transport file %s: larger than %d bytes", name, MaxFileSize)
	}
	return b, nil
}
