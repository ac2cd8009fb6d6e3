#!/usr/bin/env bash
# Makes the small test clip embedded in the binary: 16 s (a whole number of video and AAC frames,
# so that ffmpeg -stream_loop loops it cleanly) of testsrc2 + sine, H.264 + AAC in
# MPEG-TS, a keyframe every 2 s, PAT/PMT resent. Usage: scripts/make-testclip.sh OUT.ts
set -euo pipefail
out=${1:?usage: make-testclip.sh OUT.ts}
ffmpeg -v error -y \
  -f lavfi -i "testsrc2=size=320x240:rate=25" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -t 16 -map 0:v -map 1:a \
  -c:v libx264 -preset veryfast -profile:v baseline -pix_fmt yuv420p -b:v 110k -maxrate 110k -bufsize 110k \
  -g 50 -keyint_min 50 -sc_threshold 0 \
  -c:a aac -b:a 48k -ar 48000 -ac 1 \
  -mpegts_flags +resend_headers -muxrate 0 \
  -f mpegts "$out"
