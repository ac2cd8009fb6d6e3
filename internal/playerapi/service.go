package playerapi

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// VersionCode is AceStream's code for a version: MAJ*1000000 + MIN*10000 + PATCH*100.
func VersionCode(v string) int {
	parts := strings.SplitN(v, ".", 3)
	code := 0
	for i, mul := range []int{1_000_000, 10_000, 100} {
		if i < len(parts) {
			n, _ := strconv.Atoi(parts[i])
			code += n * mul
		}
	}
	return code
}

func (h *Handler) versionObj() obj {
	return obj{{"code", VersionCode(h.cfg.Version)}, {"platform", "linux"}, {"version", h.cfg.Version}}
}

var jsonpName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$.]*$`)

// writeResult writes the {"result": …, "error": …} envelope, as JSONP when asked.
func writeResult(w http.ResponseWriter, r *http.Request, res any, errText any) {
	body := pyJSON(obj{{"result", res}, {"error", errText}})
	q := r.URL.Query()
	if cb := q.Get("callback"); cb != "" && (q.Get("format") == "jsonp" || q.Get("format") == "json") && jsonpName.MatchString(cb) {
		w.Header().Set("Content-Type", "application/javascript")
		w.Write([]byte(cb + "(" + body + ");"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

// writeAPIError writes an api_version 3 error: {"error": {"message": …, "code": 0}}.
func writeAPIError(w http.ResponseWriter, r *http.Request, msg string) {
	if intParam(r.URL.Query(), "api_version", 3) >= 3 {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(pyJSON(obj{{"error", obj{{"message", msg}, {"code", 0}}}})))
		return
	}
	writeResult(w, r, nil, msg)
}

// service is /webui/api/service.
func (h *Handler) service(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("method") {
	case "get_version":
		writeResult(w, r, h.versionObj(), nil)
	default:
		writeResult(w, r, nil, "unknown method")
	}
}

// serverAPI is /server/api.
func (h *Handler) serverAPI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch q.Get("method") {
	case "get_status":
		writeResult(w, r, obj{{"playlist_loaded", true}, {"version", h.versionObj()}}, nil)
	case "get_network_connection_status":
		writeResult(w, r, obj{{"connected", true}}, nil)
	case "get_api_access_token":
		if !isLoopback(r) {
			writeAPIError(w, r, "access denied: local requests only")
			return
		}
		writeResult(w, r, obj{{"token", h.token()}}, nil)
	case "set_allow_remote_access", "set_allow_intranet_access":
		h.setAccess(w, r, q.Get("method") == "set_allow_remote_access", q.Get("value"))
	case "analyze_content":
		h.analyzeContent(w, r)
	case "get_content_id":
		h.getContentID(w, r)
	case "get_media_files":
		h.getMediaFiles(w, r)
	default:
		writeAPIError(w, r, "unknown method")
	}
}

func isLoopback(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// token is the engine's API access token, made once.
func (h *Handler) token() string {
	h.tokenOnce.Do(func() {
		b := make([]byte, 32)
		rand.Read(b)
		h.apiToken = hex.EncodeToString(b)
	})
	return h.apiToken
}

func (h *Handler) analyzeContent(w http.ResponseWriter, r *http.Request) {
	c, err := h.queryContent(r, r.URL.Query().Get("query"))
	if err != nil {
		writeAPIError(w, r, "unknown protocol")
		return
	}
	title := r.URL.Query().Get("title")
	if c.File != nil && title == "" {
		title = c.File.Info.Title
	}
	ih := c.InfoHash.String()
	writeResult(w, r, obj{
		{"is_live", 1}, {"item_url", "acestream:?infohash=" + ih}, {"transport_type", "bt"},
		{"content_type", "transport_file"}, {"title", title}, {"content_id", ih}, {"infohash", ih},
		{"categories", categories(c)},
	}, nil)
}

func categories(c Content) []string {
	if c.File != nil && c.File.Info.Category != "" {
		return []string{c.File.Info.Category}
	}
	return []string{}
}

// queryContent reads analyze_content's query: acestream:?selector=…, acestream://<id>, a bare
// content id, or a magnet link.
func (h *Handler) queryContent(r *http.Request, query string) (Content, error) {
	switch {
	case strings.HasPrefix(query, "acestream://"):
		query = "acestream:?content_id=" + strings.TrimPrefix(query, "acestream://")
	case strings.HasPrefix(query, "magnet:"):
		return parseMagnet(query)
	case len(query) == 40:
		query = "acestream:?content_id=" + query
	}
	rest, ok := strings.CutPrefix(query, "acestream:?")
	if !ok {
		return Content{}, errNoContent
	}
	vals, err := url.ParseQuery(rest)
	if err != nil {
		return Content{}, errNoContent
	}
	return h.resolve(r.Context(), vals)
}

// getContentID maps a selector to its content id, which in aceswarm is the infohash.
func (h *Handler) getContentID(w http.ResponseWriter, r *http.Request) {
	c, err := h.resolve(r.Context(), r.URL.Query())
	if err != nil {
		writeAPIError(w, r, errNoContent.Error())
		return
	}
	writeResult(w, r, obj{{"content_id", c.InfoHash.String()}}, nil)
}

// getMediaFiles describes the content: one live stream. With an infohash only, the transport
// file comes from the swarm (see Describe).
func (h *Handler) getMediaFiles(w http.ResponseWriter, r *http.Request) {
	c, err := h.resolve(r.Context(), r.URL.Query())
	if err == nil {
		c, err = h.Describe(r.Context(), c)
	}
	if err != nil {
		writeAPIError(w, r, errNoContent.Error())
		return
	}
	res := obj{
		{"files", []obj{{{"index", 0}, {"filename", c.File.Info.Title}}}},
		{"name", c.File.Info.Name}, {"infohash", c.InfoHash.String()}, {"transport_type", "bt"}, {"type", "live"},
		{"transport_file_cache_key", fmt.Sprintf("%x", sha1.Sum(c.Raw))},
	}
	if r.URL.Query().Get("dump_transport_file") == "1" {
		res = append(res, kv{"transport_file_data", base64.StdEncoding.EncodeToString(c.Raw)})
	}
	writeResult(w, r, res, nil)
}
