package cli

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/aceswarm/aceswarm/internal/engine"
)

// The command lines of the AceStream 3.0 page, with its empty addresses filled in. Its source
// examples predate the --quality and --category flags that the same page makes required, so they
// carry them here (docs/cli.md says so).
var seedExamples = map[string]string{
	"support": `--stream-support-node --url http://192.0.2.10/transport/test.acelive --port 8631 --download-from 192.0.2.10:7764`,
	"private source": `--stream-source-node --port 7764 --source http://192.0.2.20:8000/live.ts --name test --title test
		--bitrate 350000 --publish-dir /var/www/transport --cache-dir /var/cache/acestream --private-node 1
		--upload-to 192.0.2.11:8631 --quality SD --category sport`,
	"startup": `--stream-startup-node --url http://192.0.2.10/transport/test.acelive --port 8632 --download-from 192.0.2.10:7764`,
	"source with metatracker": `--stream-source-node --port 7764 --source http://192.0.2.20:8000/live.ts
		--metatracker http://192.0.2.30/meta --name test --title test --bitrate 350000 --publish-dir /var/www/transport
		--cache-dir /var/cache/acestream --private-node 1 --upload-to 192.0.2.11:8631 --quality SD --category sport`,
	"lib-path": `--lib-path /opt/acestream/engine_new`,
}

func TestSeedExamplesParse(t *testing.T) {
	for name, line := range seedExamples {
		f, _, err := parseEngine(strings.Fields(line))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := f.cfg
		c.Defaults()
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	f, _, _ := parseEngine(strings.Fields(seedExamples["private source"]))
	if c := f.cfg; c.Mode != engine.Source || !c.Private || c.Port != 7764 || c.Bitrate != 350000 ||
		len(c.UploadTo) != 1 || c.UploadTo[0] != netip.MustParseAddrPort("192.0.2.11:8631") {
		t.Fatalf("private source parsed as %+v", c)
	}
	f, _, _ = parseEngine(strings.Fields(seedExamples["startup"]))
	if c := f.cfg; c.Mode != engine.Startup || c.Port != 8632 || len(c.DownloadFrom) != 1 {
		t.Fatalf("startup parsed as %+v", c)
	}
}
