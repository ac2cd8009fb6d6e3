package fakeengine

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are what the engine does wrong; change them with Engine.SetFaults.
type Faults struct {
	Prebuffer  time.Duration // playback headers and data come only after this
	Dead       bool          // playback never answers (a channel without peers)
	StallAfter time.Duration // each playback connection goes silent after this (0: never)
	StatError  string        // stat_url reports status "err" with this message
	StartError string        // format=json answers this error
	StopError  bool          // command stop stops the session but answers an error
	StartDelay time.Duration // format=json answers only after this (an engine that hangs)
	Unhealthy  bool          // the health probes answer 500 (playback goes on)
}

// Engine is one fake engine.
type Engine struct {
	bc  *Broadcast
	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex // guards everything below
	faults   Faults
	sessions map[string]*session // by key
	conns    map[net.Conn]struct{}

	started atomic.Int64 // sessions started
	stops   atomic.Int64 // stop commands
	playing atomic.Int64 // open playback connections
}

type session struct {
	infohash string
	stopped  chan struct{}
}

// New returns an engine serving bc on ln; Serve starts it.
func New(ln net.Listener, bc *Broadcast) *Engine {
	e := &Engine{bc: bc, ln: ln, sessions: map[string]*session{}, conns: map[net.Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ace/getstream", e.start)
	mux.HandleFunc("/ace/manifest.m3u8", e.start)
	mux.HandleFunc("/ace/r/{ih}/{key}", e.playback)
	mux.HandleFunc("/ace/stat/{ih}/{key}", e.stat)
	mux.HandleFunc("/ace/cmd/{ih}/{key}", e.command)
	mux.HandleFunc("/webui/api/service", e.version)
	mux.HandleFunc("/server/api", e.serverAPI)
	e.srv = &http.Server{Handler: mux, ConnState: e.track}
	return e
}

// Serve serves until Close; it returns nil then.
func (e *Engine) Serve() error {
	if err := e.srv.Serve(e.ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// Close kills the engine: the listener and every connection close at once, as when it crashes.
func (e *Engine) Close() { e.srv.Close() }

// URL is the engine's base URL.
func (e *Engine) URL() string { return "http://" + e.ln.Addr().String() }

// SetFaults changes what the engine does wrong from now on.
func (e *Engine) SetFaults(f Faults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = f
}

func (e *Engine) getFaults() Faults {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults
}

// Sessions is the number of sessions started and not stopped.
func (e *Engine) Sessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sessions)
}

// Started is the number of sessions ever started; Stops the stop commands received; Playing
// the open playback connections.
func (e *Engine) Started() int { return int(e.started.Load()) }
func (e *Engine) Stops() int   { return int(e.stops.Load()) }
func (e *Engine) Playing() int { return int(e.playing.Load()) }

func (e *Engine) track(c net.Conn, s http.ConnState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch s {
	case http.StateNew:
		e.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(e.conns, c)
	}
}

// start is /ace/getstream?format=json: a new session for the pid (the vendor engine's key is
// md5 of the pid, or of the client address without one).
func (e *Engine) start(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sel := ""
	for _, k := range []string{"content_id", "id", "infohash", "url", "magnet"} {
		if sel = q.Get(k); sel != "" {
			break
		}
	}
	if sel == "" {
		writePy(w, `{"response": null, "error": "missing content id"}`)
		return
	}
	f := e.getFaults()
	if f.StartDelay > 0 {
		select {
		case <-time.After(f.StartDelay):
		case <-r.Context().Done():
			return
		}
	}
	if f.StartError != "" {
		writePy(w, fmt.Sprintf(`{"response": null, "error": %q}`, f.StartError))
		return
	}
	ih := sel
	if len(ih) != 40 {
		h := sha1.Sum([]byte(sel))
		ih = hex.EncodeToString(h[:])
	}
	who := q.Get("pid")
	if who == "" {
		who, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	k := md5.Sum([]byte(who))
	key := hex.EncodeToString(k[:])
	e.mu.Lock()
	if old := e.sessions[key]; old != nil { // the vendor engine: a new request ends the old player
		close(old.stopped)
	}
	e.sessions[key] = &session{infohash: ih, stopped: make(chan struct{})}
	e.mu.Unlock()
	e.started.Add(1)
	base := "http://" + r.Host
	writePy(w, fmt.Sprintf(`{"response": {"playback_url": "%s/ace/r/%s/%s", "stat_url": "%s/ace/stat/%s/%s", "command_url": "%s/ace/cmd/%s/%s", `+
		`"infohash": "%s", "playback_session_id": "%s", "is_live": 1, "is_encrypted": 0, "client_session_id": -1}, "error": null}`,
		base, ih, key, base, ih, key, base, ih, key, ih, strings.Repeat("0", 40)))
}

func (e *Engine) session(r *http.Request) *session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[r.PathValue("key")]
}

// playback is /ace/r/<infohash>/<key>: the broadcast, from its current group of pictures, after
// the prebuffer delay; nothing at all on a dead channel. The connection ends when the session
// is stopped (unless the stop failed) or the client leaves.
func (e *Engine) playback(w http.ResponseWriter, r *http.Request) {
	s := e.session(r)
	if s == nil {
		http.Error(w, "unknown playback session id", http.StatusNotFound)
		return
	}
	e.playing.Add(1)
	defer e.playing.Add(-1)
	f := e.getFaults()
	opened := time.Now()
	if f.Dead {
		<-r.Context().Done()
		return
	}
	select {
	case <-time.After(f.Prebuffer):
	case <-r.Context().Done():
		return
	}
	ch, unsubscribe := e.bc.subscribe()
	defer unsubscribe()
	w.Header().Set("Content-Type", "video/mp2t")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	stopped := s.stopped
	for {
		select {
		case b := <-ch:
			if f.StallAfter > 0 && time.Since(opened) > f.StallAfter {
				<-r.Context().Done()
				return
			}
			rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := w.Write(b); err != nil || rc.Flush() != nil {
				return
			}
		case <-stopped:
			if !e.getFaults().StopError {
				return
			}
			stopped = nil // keeps streaming to nobody, as a faulty engine does
		case <-r.Context().Done():
			return
		}
	}
}

// stat is /ace/stat/<infohash>/<key>.
func (e *Engine) stat(w http.ResponseWriter, r *http.Request) {
	s := e.session(r)
	if s == nil {
		writePy(w, `{"response": null, "error": "unknown playback session id"}`)
		return
	}
	f := e.getFaults()
	status := "dl"
	if f.Dead || f.Prebuffer > 0 {
		status = "prebuf"
	}
	if f.StatError != "" {
		writePy(w, fmt.Sprintf(`{"response": {"status": "err", "error_message": %q, "peers": 0, "infohash": "%s", "is_live": 1}, "error": null}`, f.StatError, s.infohash))
		return
	}
	writePy(w, fmt.Sprintf(`{"response": {"status": "%s", "peers": 4, "speed_down": 500, "speed_up": 0, "downloaded": 0, "uploaded": 0, "infohash": "%s", "is_live": 1}, "error": null}`, status, s.infohash))
}

// command is /ace/cmd/<infohash>/<key>?method=stop.
func (e *Engine) command(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("method") != "stop" {
		writePy(w, `{"response": null, "error": "unknown method"}`)
		return
	}
	e.stops.Add(1)
	key := r.PathValue("key")
	e.mu.Lock()
	s := e.sessions[key]
	if s != nil {
		delete(e.sessions, key)
		close(s.stopped)
	}
	stopErr := e.faults.StopError
	e.mu.Unlock()
	switch {
	case s == nil:
		writePy(w, `{"response": null, "error": "unknown playback session id"}`)
	case stopErr:
		writePy(w, `{"response": null, "error": "failed to stop"}`)
	default:
		writePy(w, `{"response": "ok", "error": null}`)
	}
}

func (e *Engine) version(w http.ResponseWriter, r *http.Request) {
	if e.getFaults().Unhealthy {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writePy(w, `{"result": {"code": 3017000, "platform": "linux", "version": "3.1.70"}, "error": null}`)
}

func (e *Engine) serverAPI(w http.ResponseWriter, r *http.Request) {
	if e.getFaults().Unhealthy {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writePy(w, `{"result": {"playlist_loaded": true, "version": {"code": 3017000, "platform": "linux", "version": "3.1.70"}}}`)
}

// writePy writes a JSON body as the vendor engine does (Python's json.dumps spacing).
func writePy(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write([]byte(body))
}
