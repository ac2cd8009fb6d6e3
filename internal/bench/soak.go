package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"time"
)

// slowPlayer reads the stream of viewer k (whichever holds that place, churn or not) at half the
// bitrate, as a player on a link too slow for it: the engine must drop it or let it fall behind
// without holding anything back for the others. Its figures are not counted with the real-time
// players'.
func (r *run) slowPlayer(ctx context.Context, k int) {
	bps := r.cfg.Bitrate / 8 / 2
	for ctx.Err() == nil {
		r.mu.Lock()
		url := r.nodes["viewer"][k%len(r.nodes["viewer"])].player.url
		r.mu.Unlock()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			buf := make([]byte, bps/10)
			for ctx.Err() == nil {
				if _, err := io.ReadFull(resp.Body, buf); err != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			resp.Body.Close()
		}
		select { // dropped by the engine: come back, as a player would
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// sampleTo writes, every interval, the bench process's goroutines, live heap, resident memory
// and open files to path as CSV, for make soak.
func (r *run) sampleTo(path string, every time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--sample: %w", err)
	}
	r.wg.Go(func() {
		defer f.Close()
		fmt.Fprintln(f, "seconds,goroutines,heap_live_kib,rss_kib,open_files,attacks")
		t := time.NewTicker(every)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-r.ctx.Done():
				return
			case now := <-t.C:
				s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
				metrics.Read(s)
				fds, _ := os.ReadDir("/proc/self/fd")
				rss, _ := procRSS(os.Getpid())
				fmt.Fprintf(f, "%.0f,%d,%d,%d,%d,%d\n", now.Sub(start).Seconds(), runtime.NumGoroutine(),
					s[0].Value.Uint64()>>10, rss>>10, len(fds), r.attacks.Load())
			}
		}
	})
	return nil
}
