package nodeweb

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// parseUpdate reads max_peers, max_upload_slots and download_from (IP:PORT, comma-separated or
// repeated; empty clears the list). Nothing is applied when any value is bad.
func parseUpdate(q url.Values) (Update, error) {
	var u Update
	for key, dst := range map[string]*int{"max_peers": &u.MaxPeers, "max_upload_slots": &u.MaxUploadSlots} {
		if v := q.Get(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 100000 {
				return Update{}, fmt.Errorf("%s %q: want a whole number from 1 to 100000", key, v)
			}
			*dst = n
		}
	}
	if vals, ok := q["download_from"]; ok {
		u.SetDownload = true
		for _, v := range vals {
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a == "" {
					continue
				}
				ap, err := netip.ParseAddrPort(a)
				if err != nil {
					return Update{}, fmt.Errorf("download_from %q: want IP:PORT", a)
				}
				u.DownloadFrom = append(u.DownloadFrom, ap)
			}
		}
	}
	if u.MaxPeers == 0 && u.MaxUploadSlots == 0 && !u.SetDownload {
		return Update{}, fmt.Errorf("nothing to update: give max_peers, max_upload_slots or download_from")
	}
	return u, nil
}

func (w *Web) update(rw http.ResponseWriter, r *http.Request) {
	u, err := parseUpdate(r.URL.Query())
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	w.node.Apply(r.Context(), u)
	w.cfg.Logger.Info("limits updated", "max_peers", u.MaxPeers, "max_upload_slots", u.MaxUploadSlots, "download_from", u.DownloadFrom)
	f := w.node.Figures(r.Context())
	writeJSON(rw, http.StatusOK, map[string]any{
		"result": "ok", "max_peers": f.MaxPeers, "max_upload_slots": f.MaxUploadSlots,
	})
}

func (w *Web) transportFile(rw http.ResponseWriter, r *http.Request) {
	raw := w.node.TransportFile()
	if raw == nil {
		writeJSON(rw, http.StatusNotFound, map[string]string{"error": "this node has no transport file"})
		return
	}
	if f := r.URL.Query().Get("format"); f != "" && f != "raw" {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"error": "format: only raw is supported"})
		return
	}
	rw.Header().Set("Content-Type", "application/x-bittorrent")
	rw.Write(raw)
}
