package playerapi

import (
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/aceswarm/aceswarm/internal/playback"
)

// stat is /ace/stat/<infohash>/<key>: the documented fields, in the documented order, from the
// core's one status.
func (h *Handler) stat(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.session(r, r.PathValue("key"))
	if !ok {
		writeResponse(w, nil, "unknown playback session id")
		return
	}
	if r.URL.Query().Get("skip_player_activity") != "1" {
		p.Touch()
	}
	st := p.Status()
	writeResponse(w, obj{
		{"uploaded", st.Uploaded},
		{"network_monitor_status", 0},
		{"debug_level", 0},
		{"disk_cache_stats", obj{{"avail", freeSpace(h.cfg.CacheDir)}, {"disk_cache_limit", h.cfg.CacheLimit}, {"inactive_inuse", 0}, {"active_inuse", st.CacheBytes}}},
		{"speed_down", st.SpeedDown},
		{"speed_up", st.SpeedUp},
		{"network_monitor_started", false},
		{"selected_stream_index", 0},
		{"total_progress", 0},
		{"stream_status", 0},
		{"client_session_id", st.ClientSessionID},
		{"status", st.State},
		{"downloaded", st.Downloaded},
		{"manifest_access_mode", -1},
		{"peers", st.Peers},
		{"playback_session_id", p.ID()},
		{"is_encrypted", 0},
		{"is_live", 1},
		{"infohash", p.InfoHash().String()},
		{"selected_file_index", -1},
		{"livepos", livepos(st)},
		{"error_message", st.ErrMsg},
	}, nil)
}

// livepos describes the live window in unix seconds, as strings (as the engine does).
func livepos(st playback.Status) obj {
	s := func(sec int64) string { return strconv.FormatInt(sec, 10) }
	return obj{
		{"last", s(st.Last)}, {"live_first", s(st.First)}, {"pos", s(st.Pos)}, {"first_ts", s(st.First)},
		{"last_ts", s(st.Last)}, {"is_live", "1"}, {"live_last", s(st.Last)}, {"buffer_pieces", strconv.Itoa(st.Pieces)},
	}
}

// freeSpace is the free space of the file system holding dir, in bytes.
func freeSpace(dir string) int64 {
	var fs syscall.Statfs_t
	if dir == "" || syscall.Statfs(dir, &fs) != nil {
		return 0
	}
	return int64(fs.Bavail) * int64(fs.Bsize)
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
	p.Touch()
	switch q.Get("method") {
	case "stop":
		p.Stop()
		reply("ok", "")
	case "liveseek":
		pos, err := strconv.ParseInt(q.Get("pos"), 10, 64)
		if err != nil {
			reply(nil, "liveseek: pos must be a unix time")
			return
		}
		p.LiveSeek(pos)
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
		p.SetActivityTimeout(time.Duration(secs) * time.Second)
		reply("ok", "")
	default:
		reply(nil, "unknown method")
	}
}
