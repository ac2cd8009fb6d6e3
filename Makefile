# One front door for the tests: make test.
GO ?= go

.PHONY: test build fuzz vet clip

test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt needed" && exit 1)
	$(GO) test -race -timeout 12m ./...

build:
	$(GO) build -o bin/aceswarm ./cmd/aceswarm

# Short runs of every fuzz target.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=20s ./internal/wire/
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=20s ./internal/transport/

# Re-make the embedded test clip (needs ffmpeg).
clip:
	scripts/make-testclip.sh internal/testclip/clip.ts
