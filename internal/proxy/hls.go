package proxy

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// cut reads the ring from its newest access point and cuts segments at access points until the
// channel ends.
func (c *channel) cut(ctx context.Context, seg *hls.Segmenter) {
	start, err := c.waitStart(ctx)
	if err != nil || ctx.Err() != nil {
		return
	}
	off := start.off
	var clock ptsClock
	var bufs [][]byte
	var raps []rap
	var scratch []byte
	for {
		b, end, changed, err := c.ring.read(off, bufs[:0])
		if err == errBehind { // cannot happen while the segmenter keeps up; start again
			r, _ := c.ring.newest()
			off = r.off
			seg.Break(nil)
			continue
		}
		bufs = b
		if end > off {
			scratch = scratch[:0]
			for _, s := range bufs {
				scratch = append(scratch, s...)
			}
			raps = c.ring.rapsIn(off, end, raps[:0])
			feed(seg, &clock, off, scratch, raps)
			off = end
		}
		if err != nil {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// feed gives seg the bytes data (at offset off), split at the access points raps in it, each
// with its PAT and PMT in front when the stream does not have them there.
func feed(seg *hls.Segmenter, clock *ptsClock, off int64, data []byte, raps []rap) {
	from := 0
	for i, r := range raps {
		at, end := int(r.off-off), len(data)
		if i+1 < len(raps) {
			end = int(raps[i+1].off - off)
		}
		if at > from {
			seg.Write(data[from:at], false, clock.now)
		}
		seg.Write(append(append([]byte(nil), r.psi...), data[at:end]...), true, clock.at(r))
		from = end
	}
	if from < len(data) {
		seg.Write(data[from:], false, clock.now)
	}
}

// ptsClock turns the access points' 33-bit PTS into a growing stream time; a jump of more than
// a minute (a new session with other timestamps) counts as no time.
type ptsClock struct {
	now  time.Duration
	prev int64
	ok   bool
}

func (k *ptsClock) at(r rap) time.Duration {
	if !r.hasPTS {
		return k.now
	}
	if k.ok {
		d := (r.pts - k.prev) & (1<<33 - 1)
		if d < 60*90000 {
			k.now += time.Duration(d) * time.Second / 90000
		}
	}
	k.prev, k.ok = r.pts, true
	return k.now
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
