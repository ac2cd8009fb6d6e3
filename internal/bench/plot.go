package bench

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// plotTimeline turns the per-second samples into rates, and adds the players' lag and buffer.
func (r *run) plotTimeline(players []*player, end time.Time) []TimePoint {
	r.mu.Lock()
	tl := slices.Clone(r.timeline)
	r.mu.Unlock()
	lagAt := map[int][]float64{}
	bufAt := map[int][]float64{}
	for _, p := range players {
		p.mu.Lock()
		frames, stopped := slices.Clone(p.frames), p.stopped
		p.mu.Unlock()
		pEnd := end
		if !stopped.IsZero() {
			pEnd = stopped
		}
		for _, s := range simulate(frames, pEnd, 3*time.Second).samples {
			sec := int(s.at.Sub(r.start).Seconds())
			lagAt[sec] = append(lagAt[sec], s.lag)
			bufAt[sec] = append(bufAt[sec], s.buffer)
		}
	}
	var out []TimePoint
	for i := 1; i < len(tl); i++ {
		dt := tl[i].at.Sub(tl[i-1].at).Seconds()
		tp := TimePoint{T: tl[i].at.Sub(r.start).Seconds(), Upload: map[string]float64{}}
		for _, role := range roles {
			tp.Upload[role] = float64(tl[i].upload[role]-tl[i-1].upload[role]) / dt
		}
		sec := int(tp.T)
		tp.LagP50, tp.BufferAv = math.NaN(), math.NaN() // no player sample in this second
		if l := lagAt[sec]; len(l) > 0 {
			tp.LagP50 = dist(l).P50
		}
		if b := bufAt[sec]; len(b) > 0 {
			sum := 0.0
			for _, x := range b {
				sum += x
			}
			tp.BufferAv = sum / float64(len(b))
		}
		out = append(out, tp)
	}
	return out
}

// WriteSVG draws three charts over time: upload by role, lag and the players' buffer.
func WriteSVG(path string, tl []TimePoint) error {
	const w, h, pad = 900, 220, 50
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, w, 3*h+20)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>`)
	colors := map[string]string{"source": "#d62728", "support": "#1f77b4", "startup": "#2ca02c", "viewer": "#ff7f0e"}
	var series []chartSeries
	for _, role := range roles {
		series = append(series, chartSeries{role + " upload (kB/s)", colors[role], func(p TimePoint) float64 { return p.Upload[role] / 1000 }})
	}
	chart(&b, 0, w, h, pad, "Upload by role (kB/s)", tl, series)
	chart(&b, h, w, h, pad, "Lag, median of players (s)", tl, []chartSeries{{"lag p50", "#9467bd", func(p TimePoint) float64 { return p.LagP50 }}})
	chart(&b, 2*h, w, h, pad, "Players' buffer, mean (s of media)", tl, []chartSeries{{"buffer", "#8c564b", func(p TimePoint) float64 { return p.BufferAv }}})
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

type chartSeries struct {
	name, color string
	value       func(TimePoint) float64
}

func chart(b *strings.Builder, top, w, h, pad int, title string, tl []TimePoint, series []chartSeries) {
	maxT, maxV := 1.0, 0.0
	for _, p := range tl {
		maxT = math.Max(maxT, p.T)
		for _, s := range series {
			if v := s.value(p); !math.IsNaN(v) {
				maxV = math.Max(maxV, v)
			}
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	x := func(t float64) float64 { return float64(pad) + t/maxT*float64(w-2*pad) }
	y := func(v float64) float64 { return float64(top+h-pad/2) - v/maxV*float64(h-pad) }
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`, pad, top+16, title)
	fmt.Fprintf(b, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="black"/>`, pad, y(0), w-pad, y(0))
	fmt.Fprintf(b, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="black"/>`, pad, y(0), pad, y(maxV))
	fmt.Fprintf(b, `<text x="4" y="%.0f">%.3g</text><text x="4" y="%.0f">0</text>`, y(maxV)+4, maxV, y(0))
	fmt.Fprintf(b, `<text x="%d" y="%.0f">%.0f s</text>`, w-pad-20, y(0)+16, maxT)
	for i, s := range series {
		var pts []string
		for _, p := range tl {
			if v := s.value(p); !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(v)))
			}
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, s.color, strings.Join(pts, " "))
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s">%s</text>`, w-pad-180, top+16+14*i, s.color, s.name)
	}
}
