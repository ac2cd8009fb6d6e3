package engineapi

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aceswarm/aceswarm/internal/playback"
)

// handle runs one command line; it returns false when the connection should end.
func (c *client) handle(ctx context.Context, wg *sync.WaitGroup, line string) bool {
	words := strings.Fields(line)
	if len(words) == 0 { // a line of blanks: nothing to do (it used to crash the engine)
		return true
	}
	cmd, args := words[0], words[1:]
	switch cmd {
	case "HELLOBG":
		c.hello(args)
		return true
	case "READY": // any well-formed key is accepted: the product keys' secret half is not public
		c.authed = true
		c.send("AUTH 1")
		return true
	case "SHUTDOWN":
		c.stopSession()
		c.send("SHUTDOWN")
		return false
	}
	if !c.authed {
		c.send("NOTREADY")
		return true
	}
	switch cmd {
	case "LOADASYNC":
		if len(args) >= 3 {
			wg.Go(func() { c.loadAsync(ctx, args[0], args[1], args[2]) })
		}
	case "START":
		if len(args) >= 2 {
			c.start(ctx, wg, args[0], args[1], slices.Contains(args, "output_format=hls"))
		}
	case "STOP", "STOPDL":
		c.stopSession()
		c.send("STATE 0")
	case "LIVESEEK":
		if t, err := strconv.ParseInt(firstArg(args), 10, 64); err == nil {
			c.withSession(func(s *playback.Session) { s.LiveSeek(t) })
		}
	case "GETPID":
		c.send("##" + firstArg(args))
	case "GETCID":
		c.send("##" + params(args)["infohash"])
	case "STATUS", "SETOPTIONS", "USERDATA", "EVENT", "GETADURL", "SAVE", "DUR", "PLAYBACK":
		// accepted; nothing to answer
	}
	return true
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// loadResp is LOADRESP's JSON.
type loadResp struct {
	Status   int     `json:"status"`
	InfoHash string  `json:"infohash,omitempty"`
	Checksum string  `json:"checksum,omitempty"`
	Files    [][]any `json:"files,omitempty"`
	Message  string  `json:"message,omitempty"`
}

// loadAsync answers LOADASYNC with the content's one file (a live stream).
func (c *client) loadAsync(ctx context.Context, reqID, kind, value string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := loadResp{Status: 100, Message: "failed to load content"}
	content, err := c.s.player.Resolve(ctx, kind, value)
	if err == nil {
		content, err = c.s.player.Describe(ctx, content)
	}
	if err == nil {
		sum := sha1.Sum(content.Raw)
		r = loadResp{Status: 1, InfoHash: content.InfoHash.String(), Checksum: hex.EncodeToString(sum[:]),
			Files: [][]any{{url.QueryEscape(content.File.Info.Title), 0}}}
	}
	b, _ := json.Marshal(r)
	c.send("LOADRESP " + reqID + " " + string(b))
}

// start opens a playback session and reports it until it is stopped; with output_format=hls its
// playback URL is the session's HLS playlist.
func (c *client) start(ctx context.Context, wg *sync.WaitGroup, kind, value string, hls bool) {
	c.stopSession()
	content, err := c.s.player.Resolve(ctx, kind, value)
	var s *playback.Session
	key := strconv.FormatFloat(rand.Float64(), 'f', 16, 64)
	if err == nil {
		s, err = c.s.player.Open(content, key, hls)
	}
	if err != nil {
		c.send("STATUS main:err;0;failed to load content")
		c.send("STATE 6")
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.session, c.cancel = s, cancel
	c.mu.Unlock()
	c.send("STATE 1")
	c.send("STATUS main:starting")
	playURL := fmt.Sprintf("http://127.0.0.1:%d/content/%s/%s", c.s.cfg.HTTPPort, content.InfoHash, key)
	if hls {
		playURL = fmt.Sprintf("http://127.0.0.1:%d/ace/m/%s/%s.m3u8", c.s.cfg.HTTPPort, content.InfoHash, key)
	}
	wg.Go(func() { c.report(sctx, s, playURL) })
}

// report sends START once the stream can play, then STATUS and EVENT livepos every second.
func (c *client) report(ctx context.Context, s *playback.Session, playURL string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	started, state := false, 1
	setState := func(n int) {
		if n != state {
			state = n
			c.send("STATE " + strconv.Itoa(n))
		}
	}
	for {
		st := s.Status()
		common := fmt.Sprintf("%d;%d;%d;0;%d;%d;0;%d;0;%d", 0, 0, st.SpeedDown, st.SpeedUp, st.Peers, st.Downloaded, st.Uploaded)
		switch {
		case st.State == "err":
			c.send("STATUS main:err;0;" + st.ErrMsg)
		case !started && (st.State == "dl" || st.State == "buf"):
			started = true
			if c.apiVer >= 4 {
				c.send("START url=" + url.QueryEscape(playURL) + " stream=1")
			} else {
				c.send("START " + playURL + " stream=1")
			}
			setState(2)
		case !started:
			c.send("STATUS main:prebuf;0;0;" + common)
		case st.State == "buf":
			setState(3)
			c.send("STATUS main:buf;0;0;" + common)
		default:
			setState(2)
			c.send("STATUS main:dl;" + common)
			c.send(fmt.Sprintf("EVENT livepos last=%d live_first=%d pos=%d first_ts=%d last_ts=%d is_live=1 live_last=%d buffer_pieces=%d",
				st.Last, st.First, st.Pos, st.First, st.Last, st.Last, st.Pieces))
		}
		s.Touch() // the TCP client holding the session counts as activity
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *client) withSession(f func(*playback.Session)) {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil {
		f(s)
	}
}

func (c *client) stopSession() {
	c.mu.Lock()
	s, cancel := c.session, c.cancel
	c.session, c.cancel = nil, nil
	c.mu.Unlock()
	if s != nil {
		cancel()
		s.Stop()
	}
}
