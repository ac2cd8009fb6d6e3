#!/usr/bin/env bash
# The proxy's fan-out bench in front of an aceswarm viewer engine (docs/benchmarks.md): a 4 Mbit/s
# clip made with ffmpeg, looped by a source node on 127.0.0.2, one viewer engine, and
# scripts/bench-proxy.sh's proxy and clients in front of it. Needs ffmpeg and Linux loopback.
# usage: scripts/bench-proxy-swarm.sh CLIENTS [DURATION]
# With TARGET=engine the clients read the viewer engine itself (no proxy), which measures the
# engine's own fan-out; CACHE=memory gives the engine a memory cache.
set -euo pipefail
clients=${1:-200}
duration=${2:-30s}
dir=$(mktemp -d)
bin=$dir/aceswarm
go build -o "$bin" ./cmd/aceswarm
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$dir"' EXIT
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440 -t 10 \
  -c:v libx264 -preset veryfast -b:v 3800k -minrate 3800k -maxrate 3800k -bufsize 3800k -g 50 -keyint_min 50 -sc_threshold 0 \
  -c:a aac -b:a 128k -mpegts_flags +resend_headers -f mpegts "$dir/clip.ts"
"$bin" --stream-source-node --port 17764 --bind 127.0.0.2 --source "$dir/clip.ts" --source-loop --name bench \
  --title Bench --quality HD --category sport --publish-dir "$dir/publish" --cache-dir "$dir/cache" \
  --tracker http://127.0.0.2:17764/announce --log-level error & pids+=($!)
for _ in $(seq 100); do [ -f "$dir/publish/bench.acelive" ] && break; sleep 0.1; done
ih=$("$bin" info "$dir/publish/bench.acelive" | sed -n 's/.*"infohash": *"\([0-9a-f]*\)".*/\1/p')
"$bin" --http-port 16879 --port 17765 --bind 127.0.0.1 --tracker http://127.0.0.2:17764/announce \
  --cache-dir "$dir/vcache" --live-cache-type "${CACHE:-disk}" --log-level error & engine=$!; pids+=($engine)
sleep 1
if [ "${TARGET:-proxy}" = engine ]; then
  url="http://127.0.0.1:16879/ace/getstream?infohash=$ih"; measured=$engine
else
  "$bin" proxy -addr 127.0.0.1:18081 -engine http://127.0.0.1:16879 -log-level warn & measured=$!; pids+=($measured)
  url="http://127.0.0.1:18081/ace/getstream?id=$ih"
fi
sleep 1
"$bin" bench fanout --url "$url" --clients "$clients" --duration "$duration" --pid "$measured" --json "${JSON:-/dev/null}"
