package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// FanoutConfig describes a fan-out bench: many clients reading one stream.
type FanoutConfig struct {
	URL      string
	Clients  int
	Duration time.Duration
	PID      int // the server's process, whose CPU and peak memory are reported; 0: none
}

// Validate checks the parameters; messages name the flag.
func (c *FanoutConfig) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return fmt.Errorf("--url is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--url %q: want an http(s):// URL", c.URL)
	case c.Clients < 1 || c.Clients > 10000:
		return fmt.Errorf("--clients %d: want 1 to 10000", c.Clients)
	case c.Duration < time.Second:
		return fmt.Errorf("--duration %v: want at least 1s", c.Duration)
	case c.PID < 0:
		return fmt.Errorf("--pid %d: want a process id", c.PID)
	}
	return nil
}

// FanoutResult is what `aceswarm bench fanout` reports.
type FanoutResult struct {
	URL        string  `json:"url"`
	Clients    int     `json:"clients"`
	Duration   float64 `json:"duration_s"`
	Throughput float64 `json:"throughput_bytes_per_s"`
	TTFB       struct {
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
	} `json:"ttfb_s"`
	FellBehind     int `json:"fell_behind"`
	Dropped        int `json:"dropped"`
	BytesPerClient struct {
		Min  float64 `json:"min"`
		Mean float64 `json:"mean"`
	} `json:"bytes_per_client"`
	// With --pid: the server's CPU seconds during the run, per GB delivered, and its peak RSS.
	ServerCPU      float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPerGB float64 `json:"server_cpu_s_per_gb,omitempty"`
	ServerPeakRSS  int64   `json:"server_peak_rss_bytes,omitempty"`
}

type fanClient struct {
	ttfb    time.Duration
	bytes   int64
	dropped bool
}

// RunFanout runs the clients for the duration and summarises them. A client is dropped when
// its request fails or the server ends the stream early; it fell behind when it received less
// than 90% of the median client.
func RunFanout(ctx context.Context, cfg FanoutConfig) (*FanoutResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	clients := make([]fanClient, cfg.Clients)
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	cpu0, err := serverCPU(cfg.PID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for i := range clients {
		wg.Go(func() { clients[i] = fetch(ctx, &http.Client{Transport: tr}, cfg.URL) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := summarise(cfg, clients, elapsed)
	if cfg.PID != 0 {
		cpu1, err := serverCPU(cfg.PID)
		if err != nil {
			return nil, err
		}
		if res.ServerPeakRSS, err = procPeakRSS(cfg.PID); err != nil {
			return nil, err
		}
		res.ServerCPU = round3(cpu1 - cpu0)
		if gb := res.Throughput * elapsed.Seconds() / 1e9; gb > 0 {
			res.ServerCPUPerGB = round3(res.ServerCPU / gb)
		}
	}
	return res, nil
}

func serverCPU(pid int) (float64, error) {
	if pid == 0 {
		return 0, nil
	}
	return procCPU(pid)
}

func fetch(ctx context.Context, client *http.Client, u string) fanClient {
	var c fanClient
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		if err == nil {
			resp.Body.Close()
		}
		c.dropped = ctx.Err() == nil
		return c
	}
	defer resp.Body.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && c.bytes == 0 {
			c.ttfb = time.Since(start)
		}
		c.bytes += int64(n)
		if err != nil {
			c.dropped = ctx.Err() == nil // the server ended the stream before the duration
			return c
		}
	}
}

func summarise(cfg FanoutConfig, clients []fanClient, elapsed time.Duration) *FanoutResult {
	res := &FanoutResult{URL: cfg.URL, Clients: cfg.Clients, Duration: round3(elapsed.Seconds())}
	var ttfb []float64
	var got []int64
	var total int64
	for _, c := range clients {
		total += c.bytes
		if c.dropped {
			res.Dropped++
			continue
		}
		got = append(got, c.bytes)
		if c.bytes > 0 {
			ttfb = append(ttfb, c.ttfb.Seconds())
		}
	}
	res.Throughput = round3(float64(total) / elapsed.Seconds())
	d := dist(ttfb)
	res.TTFB.P50, res.TTFB.P95 = d.P50, d.P95
	if len(got) > 0 {
		sorted := slices.Clone(got)
		slices.Sort(sorted)
		median := sorted[len(sorted)/2]
		for _, b := range got {
			if float64(b) < 0.9*float64(median) {
				res.FellBehind++
			}
		}
		res.BytesPerClient.Min = float64(sorted[0])
		res.BytesPerClient.Mean = round3(float64(total) / float64(len(clients)))
	}
	return res
}
