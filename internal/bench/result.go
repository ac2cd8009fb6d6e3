package bench

import (
	"cmp"
	"math"
	"slices"
	"syscall"
	"time"
)

// Dist is a distribution summary, in seconds.
type Dist struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// SwarmResult is what `aceswarm bench swarm` reports (and writes with --json).
type SwarmResult struct {
	Viewers  int     `json:"viewers"`
	Support  int     `json:"support"`
	Startup  int     `json:"startup"`
	Bitrate  int     `json:"bitrate"`
	Duration float64 `json:"duration_s"`
	Churn    float64 `json:"churn"`
	RTT      float64 `json:"rtt_s"`
	Jitter   float64 `json:"jitter_s"`
	// ViewerUpload and ServerUpload are as --viewer-upload and --server-upload read them.
	ViewerUpload string  `json:"viewer_upload"`
	ServerUpload string  `json:"server_upload"`
	NAT          float64 `json:"nat"`
	StallLinks   float64 `json:"stall_links"`
	// LiveCacheType is every node's --live-cache-type.
	LiveCacheType string `json:"live_cache_type"`
	// NATViewers is how many of the viewers that ran were behind a NAT.
	NATViewers int `json:"nat_viewers"`

	SourceUploadFactor float64 `json:"source_upload_factor"`
	ServerStress       float64 `json:"server_stress"`
	StartupFirstByte   Dist    `json:"startup_first_byte_s"`
	StartupKeyframe    Dist    `json:"startup_keyframe_s"`
	Continuity         struct {
		Min  float64 `json:"min"`
		Mean float64 `json:"mean"`
	} `json:"continuity"`
	Stalls struct {
		Count   int     `json:"count"`
		Seconds float64 `json:"seconds"`
	} `json:"stalls"`
	Lag struct {
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
	} `json:"lag_s"`
	ControlOverhead float64 `json:"control_overhead"`
	CPUSeconds      float64 `json:"cpu_seconds"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	// ViewerRSSBytes is a viewer engine's share of the peak: (peak − RSS before the viewers
	// started) ÷ --viewers.
	ViewerRSSBytes int64 `json:"rss_per_viewer_bytes"`

	Players            int   `json:"players"`
	PlayersWithoutData int   `json:"players_without_data"`
	StreamBytes        int64 `json:"stream_bytes"`
	SourceUploaded     int64 `json:"source_uploaded_bytes"`
	ServersUploaded    int64 `json:"servers_uploaded_bytes"`
	ServersDownloaded  int64 `json:"servers_downloaded_bytes"`
	ViewersDownloaded  int64 `json:"viewers_downloaded_bytes"`
	ViewersUploaded    int64 `json:"viewers_uploaded_bytes"`
	ViewersDuplicate   int64 `json:"viewers_duplicate_bytes"` // media the viewers got that they held already
	PlayerBytes        int64 `json:"player_bytes"`
	ServedToPlayers    int64 `json:"served_to_players_bytes"`

	// StalledPlayers details every player that stalled or missed frames, to tell joiners from
	// stayers.
	StalledPlayers []StalledPlayer `json:"stalled_players"`

	Timeline []TimePoint `json:"-"`
}

// StalledPlayer is one player that stalled; times are seconds since the bench's first player.
type StalledPlayer struct {
	Joined     float64 `json:"joined_s"`
	Left       float64 `json:"left_s,omitempty"` // churned out; absent when it played to the end
	FirstStall float64 `json:"first_stall_s"`
	Stalls     int     `json:"stalls"`
	Seconds    float64 `json:"stall_seconds"`
	Continuity float64 `json:"continuity"`
	Skipped    int     `json:"skipped_frames"` // frames it never got: the stream jumped past them
}

// TimePoint is one second of the run, for the plot.
type TimePoint struct {
	T        float64            // seconds since the viewers started
	Upload   map[string]float64 // bytes per second, by role
	LagP50   float64            // seconds
	BufferAv float64            // seconds of media the players hold, mean
}

type timePoint struct {
	at     time.Time
	upload map[string]int64 // cumulative bytes by role
}

// traffic sums the counters of a role's running and stopped nodes.
func (r *run) traffic(role string) roleTraffic {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.gone[role]
	for _, rn := range r.nodes[role] {
		t.add(rn.n.Traffic())
	}
	return t
}

// sample records the upload of each role every second.
func (r *run) sample() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			p := timePoint{at: now, upload: map[string]int64{}}
			for _, role := range roles {
				p.upload[role] = r.traffic(role).uploaded
			}
			r.mu.Lock()
			r.timeline = append(r.timeline, p)
			r.mu.Unlock()
		}
	}
}

var roles = []string{"source", "support", "startup", "viewer"}

func (r *run) result(end time.Time, streamBytes int64) *SwarmResult {
	res := &SwarmResult{
		Viewers: r.cfg.Viewers, Support: r.cfg.Support, Startup: r.cfg.Startup, Bitrate: r.cfg.Bitrate,
		Duration: r.cfg.Duration.Seconds(), Churn: r.cfg.Churn, RTT: r.cfg.RTT.Seconds(),
		Jitter: r.cfg.Jitter.Seconds(), ViewerUpload: r.cfg.ViewerUpload.String(), ServerUpload: r.cfg.ServerUpload.String(),
		NAT: r.cfg.NAT, StallLinks: r.cfg.StallLinks, LiveCacheType: cmp.Or(r.cfg.LiveCacheType, "disk"), NATViewers: r.links.natCount(),
		StreamBytes: streamBytes, StalledPlayers: []StalledPlayer{},
	}
	byRole := map[string]roleTraffic{}
	var all roleTraffic
	for _, role := range roles {
		t := r.traffic(role)
		byRole[role] = t
		all.uploaded += t.uploaded
		all.media += t.media
	}
	res.SourceUploaded = byRole["source"].uploaded
	res.ServersUploaded = byRole["source"].uploaded + byRole["support"].uploaded + byRole["startup"].uploaded
	res.ServersDownloaded = byRole["source"].downloaded + byRole["support"].downloaded + byRole["startup"].downloaded
	res.ViewersDownloaded = byRole["viewer"].downloaded
	res.ViewersUploaded = byRole["viewer"].uploaded
	res.ViewersDuplicate = byRole["viewer"].duplicate
	res.SourceUploadFactor = ratio(res.SourceUploaded, streamBytes)
	res.ServerStress = ratio(res.ServersUploaded, res.ViewersDownloaded)
	res.ControlOverhead = ratio(all.uploaded-all.media, all.media)
	r.mu.Lock()
	players := slices.Clone(r.players)
	for _, rn := range r.nodes["viewer"] {
		res.ServedToPlayers += rn.n.PlayerBytes()
	}
	r.mu.Unlock()
	r.playerFigures(res, players, end)
	res.Timeline = r.plotTimeline(players, end)
	return res
}

// playerFigures fills startup, continuity, stalls and lag from what the players received.
func (r *run) playerFigures(res *SwarmResult, players []*player, end time.Time) {
	var fb, kf, lags []float64
	res.Continuity.Min = 1
	sum, n := 0.0, 0
	for _, p := range players {
		p.mu.Lock()
		frames, first, key, stopped, asked := slices.Clone(p.frames), p.firstByte, p.firstKey, p.stopped, p.requested
		res.PlayerBytes += p.bytes
		p.mu.Unlock()
		res.Players++
		pEnd := end
		if !stopped.IsZero() {
			pEnd = stopped
		}
		if first.IsZero() || key.IsZero() {
			res.PlayersWithoutData++
			if !asked.IsZero() { // waited to the end: its wait counts as its startup
				fb, kf = append(fb, pEnd.Sub(asked).Seconds()), append(kf, pEnd.Sub(asked).Seconds())
			}
			continue
		}
		fb = append(fb, first.Sub(asked).Seconds())
		kf = append(kf, key.Sub(asked).Seconds())
		pb := simulate(frames, pEnd, 3*time.Second)
		if pb.expected == 0 {
			continue
		}
		c := float64(pb.onTime) / float64(pb.expected)
		res.Continuity.Min = min(res.Continuity.Min, c)
		sum += c
		n++
		res.Stalls.Count += pb.stalls
		res.Stalls.Seconds += pb.stallTime.Seconds()
		if pb.stalls > 0 || pb.skipped > 0 {
			res.StalledPlayers = append(res.StalledPlayers, r.stalled(p, stopped, pb, c))
		}
		lags = append(lags, pb.lags...)
	}
	if n > 0 {
		res.Continuity.Mean = sum / float64(n)
	} else {
		res.Continuity.Min = 0
	}
	res.StartupFirstByte, res.StartupKeyframe = dist(fb), dist(kf)
	ld := dist(lags)
	res.Lag.P50, res.Lag.P95 = ld.P50, ld.P95
}

func (r *run) stalled(p *player, stopped time.Time, pb playback, continuity float64) StalledPlayer {
	since := func(t time.Time) float64 { return round3(t.Sub(r.start).Seconds()) }
	sp := StalledPlayer{
		Joined: since(p.requested), Stalls: pb.stalls,
		Seconds: round3(pb.stallTime.Seconds()), Continuity: round3(continuity), Skipped: pb.skipped,
	}
	if !stopped.IsZero() {
		sp.Left = since(stopped)
	}
	if pb.stalls > 0 {
		sp.FirstStall = since(pb.firstStall)
	}
	return sp
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// dist summarises values by nearest-rank percentiles.
func dist(v []float64) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	pct := func(p float64) float64 { return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)] }
	return Dist{P50: round3(pct(0.50)), P95: round3(pct(0.95)), Max: round3(s[len(s)-1])}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// cpuSeconds is the CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSS is the largest resident set size this process had, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return int64(ru.Maxrss) * 1024
}
