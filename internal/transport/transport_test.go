package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample(t testing.TB) *File {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(nil)
	f := &File{Info: Info{
		Name: "test", Title: "Test", Quality: "SD", Category: "sport", Bitrate: 350000,
		PieceLength: 256 << 10, BlockLength: BlockLength, SignatureAlgorithm: "ed25519",
		PublicKey: string(pub), Live: 1,
	}}
	f.SetTrackers([]string{"http://127.0.0.2:7764/announce", "udp://127.0.0.1:6969"})
	f.Metatrackers = []string{"http://127.0.0.1:9000/"}
	return f
}

func TestRoundTripKeepsInfoHash(t *testing.T) {
	f := sample(t)
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if g.InfoHash() != f.InfoHash() {
		t.Fatalf("infohash changed: %s != %s", g.InfoHash(), f.InfoHash())
	}
	if got := g.Trackers(); len(got) != 2 || got[0] != "http://127.0.0.2:7764/announce" {
		t.Fatalf("trackers = %v", got)
	}
	// The infohash covers info only.
	g.Metatrackers = nil
	if g.InfoHash() != f.InfoHash() {
		t.Fatal("metatrackers changed the infohash")
	}
	g.Info.Title = "other"
	if g.InfoHash() == f.InfoHash() {
		t.Fatal("title did not change the infohash")
	}
}

func TestDecodeRejects(t *testing.T) {
	good := sample(t)
	cases := map[string]func(*File){
		"signature algorithm": func(f *File) { f.Info.SignatureAlgorithm = "rsa" },
		"public key":          func(f *File) { f.Info.PublicKey = "short" },
		"name is empty":       func(f *File) { f.Info.Name = "" },
		"piece length":        func(f *File) { f.Info.PieceLength = 0 },
	}
	for want, mutate := range cases {
		f := *good
		mutate(&f)
		b, _ := f.Encode()
		if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
	if _, err := Decode([]byte("d4:infoi1ee")); err == nil {
		t.Error("accepted info that is not a dictionary")
	}
	if _, err := Decode([]byte("garbage")); err == nil || !strings.Contains(err.Error(), "bad bencoded data") {
		t.Errorf("garbage: %v", err)
	}
}

func TestLoadFromPathFileAndHTTP(t *testing.T) {
	dir := t.TempDir()
	f := sample(t)
	path, err := WriteFile(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/test.acelive" {
			http.NotFound(w, r)
			return
		}
		w.Write(raw)
	}))
	defer srv.Close()
	for _, src := range []string{path, "file://" + path, srv.URL + "/test.acelive"} {
		g, b, err := Load(context.Background(), srv.Client(), src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if g.InfoHash() != f.InfoHash() || !bytes.Equal(b, raw) {
			t.Fatalf("%s: different file", src)
		}
	}
	if _, _, err := Load(context.Background(), srv.Client(), srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing: %v", err)
	}
	if _, _, err := Load(context.Background(), srv.Client(), filepath.Join(dir, "nope")); err == nil {
		t.Fatal("missing path loaded")
	}
}

func TestKeyAndRestartPersist(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir, "s")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(dir, "s")
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("key changed across loads")
	}
	if _, ok, _ := ReadRestart(dir, "s"); ok {
		t.Fatal("restart present before write")
	}
	if err := WriteRestart(dir, "s", 1234); err != nil {
		t.Fatal(err)
	}
	n, ok, err := ReadRestart(dir, "s")
	if err != nil || !ok || n != 1234 {
		t.Fatalf("restart = %d %v %v", n, ok, err)
	}
	os.WriteFile(filepath.Join(dir, "bad.sauth"), []byte("zz"), 0o600)
	if _, err := LoadOrCreateKey(dir, "bad"); err == nil {
		t.Fatal("bad key accepted")
	}
}

func TestParseInfoHash(t *testing.T) {
	h := sample(t).InfoHash()
	got, err := ParseInfoHash(h.String())
	if err != nil || got != h {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 40)} {
		if _, err := ParseInfoHash(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := sample(f).Encode()
	f.Add(b)
	f.Add([]byte("d4:infod4:name1:xee"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := Decode(data)
		if err != nil {
			return
		}
		enc, err := tf.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.InfoHash() != tf.InfoHash() {
			t.Fatal("infohash changed on re-encode")
		}
	})
}
