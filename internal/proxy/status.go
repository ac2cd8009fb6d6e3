package proxy

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// channelStatus is one channel in /ace/status.
type channelStatus struct {
	ID        string  `json:"id"`
	Clients   int     `json:"clients"`
	BytesOut  int64   `json:"bytes_out"`
	BytesIn   int64   `json:"bytes_in"`
	Engine    string  `json:"engine"`
	Uptime    float64 `json:"uptime_s"`
	Reopens   int     `json:"reopens"`
	Failovers int     `json:"failovers"`
	StatURL   string  `json:"stat_url"`
	HLS       bool    `json:"hls"`
}

func (c *channel) status(now time.Time) channelStatus {
	in := c.ring.Total()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := channelStatus{ID: c.key, Clients: c.clients, BytesOut: c.bytesOut.Load(), BytesIn: in,
		Uptime: now.Sub(c.created).Round(time.Millisecond).Seconds(), Reopens: c.reopens, Failovers: c.failovers, HLS: c.hlsSeg != nil}
	if c.up != nil {
		s.Engine, s.StatURL = c.up.eng.base.String(), c.up.statURL
	}
	return s
}

// statusHandler is /ace/status: acexy's {"streams": N}, with the channels and engines; with
// ?id= (or another selector), acexy's answer for that channel, or 404 "Stream not found".
func (p *Proxy) statusHandler(w http.ResponseWriter, r *http.Request) {
	if !allowGetHead(w, r) {
		return
	}
	now := time.Now()
	var list []channelStatus
	for _, c := range p.list() {
		list = append(list, c.status(now))
	}
	slices.SortFunc(list, func(a, b channelStatus) int { return strings.Compare(a.ID, b.ID) })
	if hasSelector(r) {
		key, _, err := channelOf(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		i := slices.IndexFunc(list, func(s channelStatus) bool { return s.ID == key })
		if i < 0 {
			http.Error(w, "Stream not found", http.StatusNotFound)
			return
		}
		kind, id, _ := strings.Cut(key, ":")
		writeJSON(w, map[string]any{"clients": list[i].Clients, "stream_id": map[string]string{kind: id}, "stat_url": list[i].StatURL, "channel": list[i]})
		return
	}
	if list == nil {
		list = []channelStatus{}
	}
	writeJSON(w, map[string]any{"streams": len(list), "channels": list, "engines": p.pool.status()})
}

func hasSelector(r *http.Request) bool {
	q := r.URL.Query()
	return slices.ContainsFunc(selectors, func(s string) bool { return q.Get(s) != "" })
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
