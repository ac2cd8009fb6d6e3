package e2e

import (
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// kill -9 of the source while a viewer plays, and the same command line again 3 s later: the
// infohash stays, the player gets data again soon after the source's return, and ffmpeg -xerror
// decodes across the outage.
func TestSourceKilledAndRestarted(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	srcIP := "127.0.0.230"
	args, acelive := clipSource(t, dir, srcIP, freePort(t, srcIP))
	src := node(t, "source", args...)
	waitFile(t, acelive, 10*time.Second)
	ih := infohash(t, acelive)
	httpPort := freePort(t, "")
	node(t, "viewer", "--bind", "127.0.0.231", "--port", "0", "--http-port", strconv.Itoa(httpPort), "--api-port", "0",
		"--cache-dir", filepath.Join(dir, "viewer"))
	url := "http://127.0.0.1:" + strconv.Itoa(httpPort) + "/ace/getstream?url=" + acelive
	time.Sleep(time.Second)
	player := play(t, "player", url, 25)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lastRead atomic.Int64
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				return
			}
			lastRead.Store(time.Now().UnixNano())
		}
	}()
	time.Sleep(5 * time.Second)
	src.cmd.Process.Kill() // kill -9
	<-src.done
	time.Sleep(3 * time.Second)
	back := time.Now()
	node(t, "source again", args...)
	for time.Unix(0, lastRead.Load()).Before(back) {
		if time.Since(back) > 20*time.Second {
			t.Fatal("no data 20 s after the source came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resumed := time.Unix(0, lastRead.Load()).Sub(back)
	t.Logf("players got data again %v after the source's return", resumed)
	if again := infohash(t, acelive); again != ih {
		t.Fatalf("infohash changed: %s, then %s", ih, again)
	}
	player.mustSucceed(t, 60*time.Second)
	if resumed > 3*time.Second {
		t.Errorf("players resumed %v after the source's return, want within 3 s", resumed)
	}
}
