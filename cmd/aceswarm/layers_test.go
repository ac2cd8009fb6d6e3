package main

import (
	"os/exec"
	"strings"
	"testing"
)

// layers ranks the packages as docs/architecture.md draws them: a package may import only
// packages of a lower rank; its tests, packages of its own rank too (test helpers such as the
// clip and the synthetic stream). A new package gets a rank here and a row there.
var layers = map[string]int{
	// test support any test may use
	"promtest": -1,
	// leaves: formats, codecs and small tools with no aceswarm imports
	"version": 0, "testclip": 0, "configfile": 0, "listen": 0, "memnet": 0, "progress": 0, "fifo": 0,
	"dashboard": 0, "transport": 0, "wire": 0, "mpegts": 0, "tracker": 0, "ipfilter/geotest": 0,
	// on the codecs and containers
	"livebuf": 1, "ipfilter": 1, "metatracker": 1, "fanout": 1, "hls": 1, "ingest": 1, "synth": 1, "netem": 1,
	// one stream's peers; the fake AceStream engine (for the proxy's tests and bench engine)
	"swarm": 2, "fakeengine": 2,
	// the edges
	"nodeweb": 3, "playback": 3, "proxy": 3,
	"playerapi": 4, "engineapi": 4,
	// composition
	"engine": 5, "bench": 6, "cli": 7, "cmd/aceswarm": 8, "e2e": 9,
}

func TestPackagesImportOnlyDownward(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}:{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}",
		"github.com/aceswarm/aceswarm/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	short := func(p string) string {
		p = strings.TrimPrefix(p, "github.com/aceswarm/aceswarm/")
		return strings.TrimPrefix(p, "internal/")
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		pkg := short(fields[0])
		rank, ok := layers[pkg]
		if !ok {
			t.Errorf("package %s has no layer: give it one here and in docs/architecture.md", pkg)
			continue
		}
		for i, imports := range fields[1:] {
			for _, imp := range strings.Fields(imports) {
				if !strings.HasPrefix(imp, "github.com/aceswarm/aceswarm/") || short(imp) == pkg {
					continue
				}
				r, known := layers[short(imp)]
				if known && (r > rank || r == rank && i == 0) {
					t.Errorf("%s (layer %d) imports %s (layer %d): packages import only downward", pkg, rank, short(imp), r)
				}
			}
		}
	}
}
