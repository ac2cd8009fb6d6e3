package playback

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/aceswarm/aceswarm/internal/mpegts"
)

// A session's status reaches dl once the stream's start point is buffered, with no player
// reading; an HLS session once the first segment is cut.
func TestStatusReachesDlWithoutAPlayer(t *testing.T) {
	r := newRig(t, Config{})
	ts, err := r.core.Open(Content{InfoHash: ihOf(1)}, "ts", Options{ClientSessionID: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := r.core.Open(Content{InfoHash: ihOf(1)}, "hls", Options{ClientSessionID: -1, HLS: true})
	if st, _ := ts.State(); st != "prebuf" {
		t.Fatalf("before any data: %s", st)
	}
	r.live(t, ihOf(1))
	waitFor(t, 5*time.Second, "TS session dl", func() bool { st, _ := ts.State(); return st == "dl" })
	if st, _ := hs.State(); st == "dl" && !r.core.Segments(ihOf(1)).Ready() {
		t.Fatal("HLS session dl before its first segment")
	}
	waitFor(t, 10*time.Second, "HLS session dl", func() bool { st, _ := hs.State(); return st == "dl" })
	if r.runs.Load() != 1 {
		t.Fatalf("%d swarm sessions for one stream", r.runs.Load())
	}
}

// A stream that never brings data turns err within the start timeout; one that stops bringing
// data turns buf, then err.
func TestDeadAndStalledStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, Config{StartTimeout: 500 * time.Millisecond})
	dead, _ := r.core.Open(Content{InfoHash: ihOf(2)}, "k", Options{ClientSessionID: -1})
	waitFor(t, 2*time.Second, "dead stream err", func() bool {
		st, msg := dead.State()
		return st == "err" && msg == "start timeout"
	})
	if age := time.Since(dead.created); age < 500*time.Millisecond {
		t.Fatalf("err after %v, before the start timeout", age)
	}

	r2 := newRig(t, Config{StartTimeout: BufAfter + time.Second})
	s, _ := r2.core.Open(Content{InfoHash: ihOf(3)}, "k", Options{ClientSessionID: -1})
	feedCtx, stop := context.WithCancel(t.Context())
	src := s.st.src.(*testSource)
	src.start()
	go src.feed(feedCtx, t)
	waitFor(t, 5*time.Second, "dl", func() bool { st, _ := s.State(); return st == "dl" })
	stop()
	waitFor(t, BufAfter+2*time.Second, "buf once the stream stalls", func() bool { st, _ := s.State(); return st == "buf" })
	waitFor(t, 3*time.Second, "err once it stalled for the start timeout", func() bool { st, _ := s.State(); return st == "err" })
}

// A stream that goes BufAfter without a piece and then resumes counts one stall, as long as it
// lasted.
func TestStallsAreCounted(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, Config{})
	s, _ := r.core.Open(Content{InfoHash: ihOf(4)}, "k", Options{ClientSessionID: -1})
	src := s.st.src.(*testSource)
	src.start()
	feedCtx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { src.feedFrom(feedCtx, t, 0); close(done) }()
	waitFor(t, 5*time.Second, "dl", func() bool { st, _ := s.State(); return st == "dl" })
	stop()
	<-done
	src.mu.Lock()
	next := uint32(src.pieces)
	src.mu.Unlock()
	time.Sleep(BufAfter + 500*time.Millisecond)
	if n, _ := r.core.Stalls(); n != 0 {
		t.Fatalf("%d stalls counted before the stream resumed", n)
	}
	go src.feedFrom(t.Context(), t, next)
	waitFor(t, 5*time.Second, "the stall counted once the stream resumes", func() bool { n, _ := r.core.Stalls(); return n == 1 })
	if _, d := r.core.Stalls(); d < BufAfter || d > BufAfter+3*time.Second {
		t.Fatalf("stall of %v; the stream stopped for about %v", d, BufAfter+500*time.Millisecond)
	}
}

// Fifty players of one stream share the ring: each piece is read from the cache once whatever
// the number of players, every player starts at PAT, PMT and a keyframe, and they all get the
// same bytes.
func TestPlayersShareOnePipeline(t *testing.T) {
	r := newRig(t, Config{})
	src := r.live(t, ihOf(4))
	s, _ := r.core.Open(Content{InfoHash: ihOf(4)}, "k", Options{ClientSessionID: -1})
	start, err := s.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const players = 50
	got := make([][]byte, players)
	var wg sync.WaitGroup
	for i := range players {
		server, client := tcpPair(t)
		wg.Go(func() { s.Play(t.Context(), server, start, []byte("HEAD")); server.Close() })
		wg.Go(func() {
			client.SetReadDeadline(time.Now().Add(3 * time.Second))
			got[i], _ = io.ReadAll(client)
		})
	}
	time.Sleep(3500 * time.Millisecond)
	s.Stop()
	wg.Wait()
	for i, b := range got {
		if !bytes.HasPrefix(b, []byte("HEAD")) || len(b) < 200_000 {
			t.Fatalf("player %d got %d bytes", i, len(b))
		}
		b = b[4:]
		var a mpegts.Analyzer
		for j := 0; j+mpegts.PacketSize <= len(b); j += mpegts.PacketSize {
			p := mpegts.Packet(b[j : j+mpegts.PacketSize])
			if j == 0 && p.PID() != 0 {
				t.Fatalf("player %d starts at PID %#x, not PAT", i, p.PID())
			}
			if a.Feed(p) {
				break
			}
			if j > 4*mpegts.PacketSize {
				t.Fatalf("player %d: no keyframe right after PAT and PMT", i)
			}
		}
		if n := min(len(b), len(got[0])-4); !bytes.Equal(b[:n], got[0][4:4+n]) {
			t.Fatalf("player %d got other bytes than player 0", i)
		}
	}
	if reads, pieces := src.store.reads.Load(), int64(src.added()); reads > pieces+1 {
		t.Fatalf("%d cache reads for %d pieces and %d players", reads, pieces, players)
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

// One idle policy: a session with no player and no request ends after its activity timeout, one
// with a player does not; a stream stops IdleStop after its last session.
func TestIdlePolicy(t *testing.T) {
	r := newRig(t, Config{Activity: 500 * time.Millisecond, IdleStop: 300 * time.Millisecond})
	r.live(t, ihOf(5))
	idle, _ := r.core.Open(Content{InfoHash: ihOf(5)}, "idle", Options{ClientSessionID: -1})
	played, _ := r.core.Open(Content{InfoHash: ihOf(5)}, "played", Options{ClientSessionID: -1})
	start, err := played.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	server, client := tcpPair(t)
	go io.Copy(io.Discard, client)
	done := make(chan struct{})
	go func() { played.Play(t.Context(), server, start, nil); close(done) }()
	waitFor(t, 3*time.Second, "the idle session ends", func() bool { return r.core.Lookup(ihOf(5), "idle") == nil })
	select {
	case <-idle.Done():
	default:
		t.Fatal("an expired session is not done")
	}
	time.Sleep(1500 * time.Millisecond)
	if r.core.Lookup(ihOf(5), "played") == nil || len(r.core.Active()) != 1 {
		t.Fatal("a session with a player expired, or its stream stopped")
	}
	played.Stop()
	<-done // stopping a session ends its players
	waitFor(t, 3*time.Second, "the stream stops after its last session", func() bool { return len(r.core.Active()) == 0 })
}

// Opening a key again gives the same session with the new client_session_id; force_session_restart
// gives a new one and ends the old.
func TestOpenRestartAndClientSessionID(t *testing.T) {
	r := newRig(t, Config{})
	a, _ := r.core.Open(Content{InfoHash: ihOf(6)}, "k", Options{ClientSessionID: 7})
	b, _ := r.core.Open(Content{InfoHash: ihOf(6)}, "k", Options{ClientSessionID: 9})
	if a != b || b.Status().ClientSessionID != 9 {
		t.Fatalf("same key: %p %p, client_session_id %d", a, b, b.Status().ClientSessionID)
	}
	c, _ := r.core.Open(Content{InfoHash: ihOf(6)}, "k", Options{ClientSessionID: -1, Restart: true})
	select {
	case <-a.Done():
	default:
		t.Fatal("restart left the old session running")
	}
	if c == a || c.ID() == a.ID() || c.Status().ClientSessionID != -1 {
		t.Fatal("restart did not make a new session")
	}
	if r.runs.Load() != 1 {
		t.Fatalf("restart started the stream again (%d starts)", r.runs.Load())
	}
}

// A liveseek sends the session's player back in time (reading the live buffer itself): it gets
// the buffer again from the seek target.
func TestLiveSeek(t *testing.T) {
	if testing.Short() {
		t.Skip("long: make unit skips it")
	}
	r := newRig(t, Config{})
	r.live(t, ihOf(7))
	s, _ := r.core.Open(Content{InfoHash: ihOf(7)}, "k", Options{ClientSessionID: -1})
	time.Sleep(3 * time.Second) // a few pieces to seek back into
	start, err := s.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	server, client := tcpPair(t)
	go io.Copy(io.Discard, client)
	go s.Play(t.Context(), server, start, nil)
	waitFor(t, 3*time.Second, "playing", func() bool { return s.sentOff.Load() > 0 })
	_, buf := s.st.src.File()
	held := buf.Bytes()
	before := r.core.Served()
	s.LiveSeek(s.Status().First)
	waitFor(t, 1500*time.Millisecond, "the buffer sent again from the seek target", func() bool { return r.core.Served()-before >= held*3/4 })
}
