# syntax=docker/dockerfile:1
# aceswarm: one static binary for every role (docs/deploy.md). Multi-arch:
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 -t aceswarm .
# The default command runs a viewer engine (player API on 6878, peers on 8621, TCP API on 62062).
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
ARG TARGETOS=linux TARGETARCH=amd64 TARGETVARIANT=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -ldflags="-s -w" -o /out/aceswarm ./cmd/aceswarm \
 && mkdir -p /out/data /out/shared

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/aceswarm /aceswarm
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/shared /shared
USER 65532:65532
EXPOSE 6878 8621 62062
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/aceswarm", "health"]
ENTRYPOINT ["/aceswarm"]
CMD ["--http-port", "6878", "--port", "8621", "--bind-all", "--cache-dir", "/data"]
