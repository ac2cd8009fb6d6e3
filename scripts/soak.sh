#!/usr/bin/env bash
# make soak (docs/robustness.md): a small swarm with churn, a hostile peer and slow players for
# DURATION (default 30m) in one process (aceswarm bench swarm); the bench samples its goroutines,
# live heap, resident memory and open files every 30 s into soak.csv. Fails when a figure at the
# end is more than 25% above its figure at a sixth of the run (after the warm-up), i.e. when
# something grows without bound. Not part of CI.
set -euo pipefail
duration=${1:-30m}
viewers=${VIEWERS:-20}
dir=$(mktemp -d)
go build -o "$dir/aceswarm" ./cmd/aceswarm
"$dir/aceswarm" bench swarm --viewers "$viewers" --support 2 --startup 1 --bitrate 2000000 --churn 0.3 \
  --hostile 5s --slow-players 2 --duration "$duration" --sample soak.csv --json "$dir/soak.json"
n=$(( $(wc -l < soak.csv) - 1 ))
warm=$(sed -n "$(( n / 6 + 2 ))p" soak.csv)
last=$(tail -n 1 soak.csv)
echo "after warm-up: $warm"
echo "at the end:    $last"
echo "               ($(head -n 1 soak.csv))"
rm -rf "$dir"
awk -F, -v w="$warm" -v l="$last" 'BEGIN { split(w, a, ","); split(l, b, ",");
  grew = 0
  for (i = 2; i <= 5; i++) if (b[i] > 1.25 * a[i] + 10) { print "soak: column " i " grew from " a[i] " to " b[i]; grew = 1 }
  if (grew) exit 1; print "soak: flat" }'
