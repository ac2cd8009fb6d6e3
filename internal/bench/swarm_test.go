package bench

import (
	"context"
	"math"
	"testing"
	"time"
)

// The bench's byte counts agree with the nodes' own counters: every byte one node sent was
// received by another, and what the players read is what the viewer engines served them.
func TestSwarmBenchCountsAgreeWithNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	res, err := RunSwarm(context.Background(), SwarmConfig{
		Viewers: 3, Support: 1, Startup: 1, Bitrate: 500_000, Duration: 6 * time.Second, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sent := res.ServersUploaded + res.ViewersUploaded
	received := res.ServersDownloaded + res.ViewersDownloaded
	if sent == 0 || math.Abs(float64(sent-received)) > 0.02*float64(sent)+64<<10 {
		t.Fatalf("nodes sent %d bytes but received %d", sent, received)
	}
	if res.ViewersDuplicate < 0 || res.ViewersDuplicate >= res.ViewersDownloaded/2 {
		t.Fatalf("viewers got %d duplicate media bytes of %d received", res.ViewersDuplicate, res.ViewersDownloaded)
	}
	if res.PlayerBytes == 0 || res.PlayerBytes > res.ServedToPlayers || float64(res.PlayerBytes) < 0.98*float64(res.ServedToPlayers)-64<<10 {
		t.Fatalf("players read %d bytes, engines served %d", res.PlayerBytes, res.ServedToPlayers)
	}
	// The stream went through: each player read about the stream since it joined.
	if perPlayer := float64(res.PlayerBytes) / 3; perPlayer < 0.5*float64(res.StreamBytes) {
		t.Fatalf("players read %.0f bytes each of a %d-byte stream", perPlayer, res.StreamBytes)
	}
	if res.Players != 3 || res.PlayersWithoutData != 0 || res.SourceUploadFactor == 0 || res.Continuity.Mean == 0 {
		t.Fatalf("result %+v", res)
	}
}

// --rtt delays the links between nodes: a viewer's start needs at least a dial (one RTT) and a
// handshake (another), so no player starts sooner than two RTTs; the stream still plays.
func TestSwarmBenchRTT(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	const rtt = time.Second
	res, err := RunSwarm(context.Background(), SwarmConfig{
		Viewers: 2, Support: 1, Bitrate: 300_000, Duration: 10 * time.Second, Network: Network{RTT: rtt}, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first byte p50 %.2f s, continuity mean %.4f", res.StartupFirstByte.P50, res.Continuity.Mean)
	if res.StartupFirstByte.P50 < 2*rtt.Seconds() {
		t.Fatalf("first byte after %.2f s (p50) with a %v RTT; want at least %v", res.StartupFirstByte.P50, rtt, 2*rtt)
	}
	if res.RTT != rtt.Seconds() || res.PlayersWithoutData != 0 || res.Continuity.Mean == 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestSwarmConfigRejects(t *testing.T) {
	for _, c := range []SwarmConfig{
		{Viewers: 0, Bitrate: 2e6, Duration: time.Minute},
		{Viewers: 1, Bitrate: 10, Duration: time.Minute},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Second},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Minute, Churn: 2},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Minute, Network: Network{RTT: -time.Second}},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Minute, Network: Network{RTT: time.Second, Jitter: 2 * time.Second}},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Minute, Network: Network{NAT: 1.5}},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Minute, Network: Network{StallLinks: -1}},
		{Viewers: MaxViewers + 1, Bitrate: 2e6, Duration: time.Minute},
		{Viewers: 1, Bitrate: 2e6, Duration: time.Minute, LiveCacheType: "ram"},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestPlaybackModel(t *testing.T) {
	base := time.Unix(1000, 0)
	var frames []frame
	for i := range 100 { // 4 s of frames, all arriving at once, but frame 60 arrives 1 s late
		f := frame{seq: uint32(i), src: base.Add(time.Duration(i) * 40 * time.Millisecond), arrived: base.Add(2 * time.Second)}
		if i >= 60 {
			f.arrived = base.Add(2*time.Second + 60*40*time.Millisecond + time.Second)
		}
		frames = append(frames, f)
	}
	frames = append(frames[:80], frames[81:]...) // frame 80 never comes
	pb := simulate(frames, base.Add(10*time.Second), 0)
	if pb.expected != 100 || pb.onTime != 98 || pb.skipped != 1 || pb.stalls != 1 || pb.stallTime < 900*time.Millisecond || pb.stallTime > 1100*time.Millisecond {
		t.Fatalf("playback %+v", pb)
	}
	if len(pb.lags) == 0 || pb.lags[0] < 1.9 || pb.lags[0] > 2.1 {
		t.Fatalf("lags %v", pb.lags)
	}
	// Playing starts at 2 s; frame 60 is due 2.4 s later and is the first stall.
	if got := pb.firstStall.Sub(base); got < 4350*time.Millisecond || got > 4450*time.Millisecond {
		t.Fatalf("first stall at %v, want 4.4s", got)
	}
}

// Viewers behind a NAT still play (they reach others by dialing out), on links with a round
// trip, jitter and capped uploads (netem's own tests check the cap's rate).
func TestSwarmBenchNATViewersPlay(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	res, err := RunSwarm(context.Background(), SwarmConfig{
		Viewers: 4, Support: 1, Bitrate: 500_000, Duration: 10 * time.Second, Dir: t.TempDir(),
		Network: Network{RTT: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, ViewerUpload: Rate{Times: 1.5}, NAT: 0.5},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("continuity mean %.4f, first byte p95 %.2f s", res.Continuity.Mean, res.StartupFirstByte.P95)
	if res.NATViewers != 2 || res.PlayersWithoutData != 0 || res.Continuity.Mean < 0.5 || res.ViewerUpload != "1.5x" || res.Jitter != 0.01 {
		t.Fatalf("result %+v", res)
	}
}
