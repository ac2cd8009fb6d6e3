#!/usr/bin/env bash
# The viewer engine's own fan-out (docs/benchmarks.md): scripts/bench-proxy-swarm.sh with
# TARGET=engine for 50, 200 and 500 players, disk and memory cache, RUNS runs each (default 3);
# prints one line per run: cache players cpu_s_per_gb peak_rss_mib ttfb_p95_s fell_behind.
# usage: scripts/bench-engine-fanout.sh [DURATION]
set -uo pipefail
duration=${1:-30s}
for cache in disk memory; do
  for players in 50 200 500; do
    for _ in $(seq "${RUNS:-3}"); do
      out=$(CACHE=$cache TARGET=engine scripts/bench-proxy-swarm.sh "$players" "$duration" 2>&1) || { echo "$cache $players failed"; continue; }
      cpu=$(sed -n 's/^server cpu .*, \([0-9.]*\) s\/GB/\1/p' <<<"$out")
      rss=$(sed -n 's/^server peak rss *\([0-9.]*\) MiB/\1/p' <<<"$out")
      p95=$(sed -n 's/^ttfb .*p95 \([0-9.]*\)s/\1/p' <<<"$out")
      behind=$(sed -n 's/^fell behind *\([0-9]*\)/\1/p' <<<"$out")
      echo "$cache $players $cpu $rss $p95 $behind"
    done
  done
done
