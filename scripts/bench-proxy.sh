#!/usr/bin/env bash
# The proxy's fan-out bench (docs/benchmarks.md): a fake engine serving a 4 Mbit/s synthetic
# channel (or --engine URL: an engine of your own), aceswarm proxy in front of it, and
# `aceswarm bench fanout` with N clients measuring the proxy process.
# usage: scripts/bench-proxy.sh CLIENTS [DURATION] [ENGINE_URL]
set -euo pipefail
clients=${1:-200}
duration=${2:-30s}
engine=${3:-}
bin=$(mktemp -d)/aceswarm
go build -o "$bin" ./cmd/aceswarm
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
if [ -z "$engine" ]; then
  "$bin" bench engine --listen 127.0.0.1:16878 --bitrate 4000000 2>/dev/null & pids+=($!)
  engine=http://127.0.0.1:16878
fi
"$bin" proxy -addr 127.0.0.1:18080 -engine "$engine" -log-level warn & proxy=$!; pids+=($proxy)
sleep 1
id=$(printf '%040x' $RANDOM)
"$bin" bench fanout --url "http://127.0.0.1:18080/ace/getstream?id=$id" --clients "$clients" --duration "$duration" --pid "$proxy" --json "${JSON:-/dev/null}"
