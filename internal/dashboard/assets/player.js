// The player page: plays /ace/manifest.m3u8 of a stream with hls.js (embedded, see
// docs/dashboard.md), or natively where the browser plays HLS itself.
"use strict";
const params = new URLSearchParams(location.search);
const id = params.get("id") || params.get("infohash") || params.get("url") || "";
const video = document.getElementById("video");
const status = document.getElementById("status");
document.getElementById("id").value = id;

function manifest(id) {
  const key = /^[0-9a-fA-F]{40}$/.test(id) ? "infohash" : "url";
  return "/ace/manifest.m3u8?" + key + "=" + encodeURIComponent(id);
}

if (id) {
  const src = manifest(id);
  status.textContent = "playing " + src;
  if (window.Hls && Hls.isSupported()) {
    const hls = new Hls({liveSyncDurationCount: 3});
    hls.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) status.textContent = "error: " + d.type + " " + d.details; });
    hls.loadSource(src);
    hls.attachMedia(video);
  } else {
    video.src = src;
  }
  video.play().catch(() => {});
}
