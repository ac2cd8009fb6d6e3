# One front door for the tests: make test.
GO ?= go

.PHONY: test tools build fuzz clip

test: tools
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt needed" && exit 1)
	$(GO) test -race -timeout 12m ./...

# The tests use ffmpeg and ffprobe as real players; install them when missing (Debian/Ubuntu).
tools:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing ffmpeg with apt-get"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq ffmpeg >/dev/null; }

build:
	$(GO) build -o bin/aceswarm ./cmd/aceswarm

# Short runs of every fuzz target.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=20s ./internal/wire/
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=20s ./internal/transport/
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=20s ./internal/ipfilter/
	$(GO) test -run='^$$' -fuzz=FuzzParseConfig -fuzztime=20s ./internal/metatracker/

# Re-make the embedded test clip (needs ffmpeg).
clip:
	scripts/make-testclip.sh internal/testclip/clip.ts
