package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"net/http"
	"time"
)

//go:embed assets
var assets embed.FS

// Snapshot is what the page shows, read when it asks (every second).
type Snapshot struct {
	Role       string   `json:"role"`
	Version    string   `json:"version"`
	Time       int64    `json:"time"` // unix milliseconds
	BytesUp    int64    `json:"bytes_up"`
	BytesDown  int64    `json:"bytes_down"`
	Players    int64    `json:"players"`
	Startups   int64    `json:"startups"`    // players started so far
	StartupSum float64  `json:"startup_sum"` // their startup times, seconds
	Lag        float64  `json:"lag"`         // the median player's lag behind the newest piece, seconds
	Stalls     int64    `json:"stalls"`      // times a played stream went 3 s without a piece
	Streams    []Stream `json:"streams"`
	PlayerPage bool     `json:"player_page"` // this port serves /player
}

// Stream is one stream the node runs.
type Stream struct {
	InfoHash string `json:"infohash"`
	Name     string `json:"name"`
	First    uint32 `json:"first"` // live window, piece numbers
	Last     uint32 `json:"last"`
	Pieces   int    `json:"pieces"`
	Peers    []Peer `json:"peers"`
}

// Peer is one connection.
type Peer struct {
	Addr       string `json:"address"`
	Role       string `json:"role"`
	Downloaded int64  `json:"downloaded"`
	Uploaded   int64  `json:"uploaded"`
	UploadSlot bool   `json:"upload_slot"`
}

// Config of the handler.
type Config struct {
	Snapshot   func(ctx context.Context) Snapshot
	PlayerPage bool // serve /player (a viewer engine's player port)
}

// Handler serves the dashboard at "" (the prefix it is mounted at), its data at dashboard.json,
// the player page at player, and the assets. Access rules are the caller's.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := assets.ReadFile("assets/" + name)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.Write(b)
		}
	}
	mux.HandleFunc("GET /{$}", page("index.html"))
	mux.HandleFunc("GET /dashboard", page("index.html"))
	mux.HandleFunc("GET /dashboard.json", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		s := cfg.Snapshot(ctx)
		s.Time, s.PlayerPage = time.Now().UnixMilli(), cfg.PlayerPage
		if s.Streams == nil {
			s.Streams = []Stream{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(s)
	})
	if cfg.PlayerPage {
		mux.HandleFunc("GET /player", page("player.html"))
	}
	mux.Handle("GET /assets/", http.FileServerFS(assets))
	return mux
}
