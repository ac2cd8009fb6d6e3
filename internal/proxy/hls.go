package proxy

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aceswarm/aceswarm/internal/fanout"
	"github.com/aceswarm/aceswarm/internal/hls"
)

// HLS is cut by the proxy from the channel's own MPEG-TS (package hls, shared with the viewer
// engine), so it works in front of any engine and its segments are served here:
// /ace/hls/<channel>/<n>.ts. An HLS channel lives while its playlist or segments are asked for
// within -m3u8-stream-timeout.

// segmenter feeds a channel's ring into an hls.Segmenter.
type segmenter struct {
	id  string
	seg *hls.Segmenter
}

// hlsID names a channel in segment URLs.
func hlsID(key string) string {
	h := sha1.Sum([]byte(key))
	return hex.EncodeToString(h[:8])
}

// segmenterOf returns the channel's segmenter, starting it on the first call.
func (c *channel) segmenterOf() *segmenter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hlsSeg == nil {
		c.hlsSeg = &segmenter{id: hlsID(c.key), seg: hls.New()}
		c.p.wg.Go(func() { c.cut(c.p.ctx, c.hlsSeg.seg) })
	}
	return c.hlsSeg
}

// cut feeds the channel's ring from its newest access point to the segmenter until the channel
// ends.
func (c *channel) cut(ctx context.Context, seg *hls.Segmenter) {
	start, err := c.waitStart(ctx)
	if err != nil || ctx.Err() != nil {
		return
	}
	fanout.Cut(ctx, c.ring, start, seg)
}

// manifest is /ace/manifest.m3u8 (and /ace/getstream with -m3u8): the channel's playlist.
func (p *Proxy) manifest(w http.ResponseWriter, r *http.Request) {
	c, ok := p.admit(w, r, "application/vnd.apple.mpegurl")
	if !ok {
		return
	}
	c.lease(p.cfg.M3U8StreamTimeout)
	c.addClient(-1) // the lease keeps it, not this request
	if _, cerr := c.waitStart(r.Context()); cerr != nil {
		cerr.write(w)
		return
	}
	sg := c.segmenterOf()
	sg.seg.ServePlaylist(w, r, "http://"+r.Host+"/ace/hls/"+sg.id+"/", p.cfg.StartTimeout)
}

// hlsFile is /ace/hls/<channel>/<n>.ts.
func (p *Proxy) hlsFile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("channel")
	name, ok := strings.CutSuffix(r.PathValue("file"), ".ts")
	seq, err := strconv.Atoi(name)
	var sg *segmenter
	for _, c := range p.list() {
		c.mu.Lock()
		if c.hlsSeg != nil && c.hlsSeg.id == id && !c.ended {
			sg = c.hlsSeg
			c.leased = time.Now().Add(p.cfg.M3U8StreamTimeout)
		}
		c.mu.Unlock()
	}
	if !ok || err != nil || sg == nil {
		http.Error(w, "unknown segment", http.StatusNotFound)
		return
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(3 * p.cfg.ClientTimeout)) // a stalled player lets go
	n := sg.seg.ServeSegment(w, r, seq)
	p.metrics.bytesOut.Add(float64(n))
}
