package playerapi

import (
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// stat is /ace/stat/<infohash>/<key>: the documented fields, in the documented order.
func (h *Handler) stat(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.session(r, r.PathValue("key"))
	if !ok {
		writeResponse(w, nil, "unknown playback session id")
		return
	}
	if r.URL.Query().Get("skip_player_activity") != "1" {
		p.touch()
	}
	st := p.stream.Stats()
	now := time.Now()
	p.mu.Lock()
	down, up := p.rate.update(now, st.Downloaded, st.Uploaded)
	pos, csid := p.pos, p.clientSessionID
	p.mu.Unlock()
	status, errMsg := h.state(p, now)
	_, buf := p.stream.File()
	var active int64
	if buf != nil {
		active = buf.Bytes()
	}
	writeResponse(w, obj{
		{"uploaded", st.Uploaded},
		{"network_monitor_status", 0},
		{"debug_level", 0},
		{"disk_cache_stats", obj{{"avail", freeSpace(h.cfg.CacheDir)}, {"disk_cache_limit", h.cfg.CacheLimit}, {"inactive_inuse", 0}, {"active_inuse", active}}},
		{"speed_down", down},
		{"speed_up", up},
		{"network_monitor_started", false},
		{"selected_stream_index", 0},
		{"total_progress", 0},
		{"stream_status", 0},
		{"client_session_id", csid},
		{"status", status},
		{"downloaded", st.Downloaded},
		{"manifest_access_mode", -1},
		{"peers", st.Peers},
		{"playback_session_id", p.id},
		{"is_encrypted", 0},
		{"is_live", 1},
		{"infohash", p.ih.String()},
		{"selected_file_index", -1},
		{"livepos", h.livepos(p, pos)},
		{"error_message", errMsg},
	}, nil)
}

// state is the session's status (see playback.state); an HLS session is "prebuf" until its
// stream's first segment is cut.
func (h *Handler) state(p *playback, now time.Time) (status, errMsg string) {
	status, errMsg = p.state(now, h.cfg.StartTimeout)
	p.mu.Lock()
	isHLS := p.hls
	p.mu.Unlock()
	if status == "dl" && isHLS {
		if sg := h.runningSegmenter(p.ih); sg == nil || !sg.seg.Ready() {
			status = "prebuf"
		}
	}
	return status, errMsg
}

// livepos describes the live window in unix seconds, as strings (as the engine does).
func (h *Handler) livepos(p *playback, pos int64) obj {
	first, last, pieces := int64(0), int64(0), 0
	if _, buf := p.stream.File(); buf != nil {
		first, last, pieces = buf.TimeRange()
	}
	if pos == 0 {
		pos = last
	}
	s := func(ms int64) string { return strconv.FormatInt(ms/1000, 10) }
	return obj{
		{"last", s(last)}, {"live_first", s(first)}, {"pos", s(pos)}, {"first_ts", s(first)},
		{"last_ts", s(last)}, {"is_live", "1"}, {"live_last", s(last)}, {"buffer_pieces", strconv.Itoa(pieces)},
	}
}

// freeSpace is the free space of the file system holding dir, in bytes.
func freeSpace(dir string) int64 {
	var fs syscall.Statfs_t
	if dir == "" || syscall.Statfs(dir, &fs) != nil {
		return 0
	}
	return int64(fs.Bavail) * fs.Bsize
}

// command is /ace/cmd/<infohash>/<key>?method=…
func (h *Handler) command(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v2 := intParam(q, "api_version", 1) >= 2
	reply := func(res any, errText string) {
		switch {
		case !v2 && errText == "":
			writeResponse(w, res, nil)
		case !v2:
			writeResponse(w, nil, errText)
		case errText == "":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(pyJSON(obj{{"result", res}, {"error", nil}})))
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(pyJSON(obj{{"result", nil}, {"error", obj{{"message", errText}, {"code", 0}}}})))
		}
	}
	p, _, ok := h.session(r, r.PathValue("key"))
	if !ok {
		reply(nil, "unknown playback session id")
		return
	}
	p.touch()
	switch q.Get("method") {
	case "stop":
		h.stop(p)
		reply("ok", "")
	case "liveseek":
		pos, err := strconv.ParseInt(q.Get("pos"), 10, 64)
		if err != nil {
			reply(nil, "liveseek: pos must be a unix time")
			return
		}
		p.mu.Lock()
		p.seekTo, p.seekGen = pos, p.seekGen+1
		p.mu.Unlock()
		reply("ok", "")
	case "set_stream":
		if q.Get("stream_index") != "0" {
			reply(nil, "unknown stream index")
			return
		}
		reply("ok", "")
	case "set_player_activity_timeout":
		secs, err := strconv.Atoi(q.Get("timeout"))
		if err != nil || secs < 1 {
			reply(nil, "set_player_activity_timeout: timeout must be a positive number of seconds")
			return
		}
		p.mu.Lock()
		p.timeout = time.Duration(secs) * time.Second
		p.mu.Unlock()
		reply("ok", "")
	default:
		reply(nil, "unknown method")
	}
}
