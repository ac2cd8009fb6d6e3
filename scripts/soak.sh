#!/usr/bin/env bash
# make soak (docs/robustness.md): a small swarm with churn for DURATION (default 30m) in one
# process (aceswarm bench swarm), its resident memory and open files sampled every 30 s into
# soak.csv; fails when the last sample is more than 25% above the sample at a sixth of the run
# (after the warm-up), i.e. when something grows without bound. Not part of CI.
set -euo pipefail
duration=${1:-30m}
viewers=${VIEWERS:-20}
dir=$(mktemp -d)
go build -o "$dir/aceswarm" ./cmd/aceswarm
"$dir/aceswarm" bench swarm --viewers "$viewers" --support 2 --startup 1 --bitrate 2000000 --churn 0.3 \
  --duration "$duration" --json "$dir/soak.json" > "$dir/bench.txt" 2>&1 & pid=$!
echo "seconds,rss_kib,open_files" > soak.csv
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
  fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
  echo "$(( $(date +%s) - start )),$rss,$fds" >> soak.csv
  sleep 30
done
wait "$pid"
cat "$dir/bench.txt"
n=$(( $(wc -l < soak.csv) - 1 ))
warm=$(sed -n "$(( n / 6 + 2 ))p" soak.csv)
last=$(tail -n 2 soak.csv | head -n 1)
echo "after warm-up: $warm   at the end: $last   (seconds,rss_kib,open_files)"
awk -F, -v w="$warm" -v l="$last" 'BEGIN { split(w, a, ","); split(l, b, ",");
  if (b[2] > 1.25 * a[2] || b[3] > 1.25 * a[3] + 10) { print "soak: grew"; exit 1 } print "soak: flat" }'
rm -rf "$dir"
