# One front door for the tests: make test.
GO ?= go

.PHONY: test unit e2e lint tools build fuzz clip soak
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Everything: lint, the arm64 and armv7 builds, every test with the race detector.
test: tools lint
	GOOS=linux GOARCH=arm64 $(GO) build -o /dev/null ./cmd/aceswarm
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -o /dev/null ./cmd/aceswarm
	$(GO) test -race -timeout 14m ./...

# Fast tests, no external tools needed: -short skips the end-to-end tests and the long ones;
# tests that need ffmpeg skip without it.
unit:
	$(GO) test -short ./...

# The end-to-end tests: real processes and real clients (ffmpeg, VLC, Chromium, opentracker).
e2e: tools
	$(GO) test -race -count=1 -timeout 14m ./internal/e2e/

# vet, gofmt, staticcheck (staticcheck.conf) and the import layers of docs/architecture.md.
lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt needed" && exit 1)
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 -run TestPackagesImportOnlyDownward ./cmd/aceswarm/

# The tests use real clients: ffmpeg/ffprobe, VLC, hls.js in Chromium, and opentracker; ip
# (iproute2) sets up the network namespace of the multicast test. Install what is missing
# (Debian/Ubuntu packages, and hls.js from npm into .cache/js).
HLSJS_VERSION = 1.7.4
tools:
	@missing=""; \
	command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v opentracker >/dev/null || missing="$$missing opentracker"; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing$$missing with apt-get"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v cvlc >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing vlc-bin with apt-get"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends vlc-bin vlc-plugin-base >/dev/null; }
	@test -f .cache/js/node_modules/hls.js/dist/hls.min.js || \
	  { command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix .cache/js hls.js@$(HLSJS_VERSION); } || \
	  echo "npm not found: the hls.js browser test will be skipped"

build:
	$(GO) build -o bin/aceswarm ./cmd/aceswarm

# Short runs of every fuzz target.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=20s ./internal/wire/
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=20s ./internal/transport/
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=20s ./internal/ipfilter/
	$(GO) test -run='^$$' -fuzz=FuzzParseConfig -fuzztime=20s ./internal/metatracker/
	$(GO) test -run='^$$' -fuzz=FuzzStream -fuzztime=20s ./internal/mpegts/
	$(GO) test -run='^$$' -fuzz=FuzzSegmenter -fuzztime=20s ./internal/hls/
	$(GO) test -run='^$$' -fuzz=FuzzIngest -fuzztime=20s ./internal/fanout/
	$(GO) test -run='^$$' -fuzz=FuzzRequest -fuzztime=20s ./internal/playerapi/
	$(GO) test -run='^$$' -fuzz=FuzzLine -fuzztime=20s ./internal/engineapi/

# 30 minutes of a small swarm with churn; memory and open files must stay flat (not in CI).
soak:
	scripts/soak.sh 30m

# Re-make the embedded test clip (needs ffmpeg).
clip:
	scripts/make-testclip.sh internal/testclip/clip.ts
