package e2e

import (
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
	url := viewerEngine(t, dir, "127.0.0.231", 0, acelive)
	player := play(t, "player", url, 25)
	meter := meterGaps(t, url)
	time.Sleep(5 * time.Second)
	src.cmd.Process.Kill() // kill -9
	<-src.done
	time.Sleep(3 * time.Second)
	back := time.Now()
	node(t, "source again", args...)
	for time.Unix(0, meter.last.Load()).Before(back) {
		if time.Since(back) > 20*time.Second {
			t.Fatal("no data 20 s after the source came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resumed := time.Unix(0, meter.last.Load()).Sub(back)
	t.Logf("players got data again %v after the source's return", resumed)
	if again := infohash(t, acelive); again != ih {
		t.Fatalf("infohash changed: %s, then %s", ih, again)
	}
	player.mustSucceed(t, 60*time.Second)
	if resumed > 3*time.Second {
		t.Errorf("players resumed %v after the source's return, want within 3 s", resumed)
	}
}
