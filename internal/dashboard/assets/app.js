// The dashboard: polls dashboard.json every second, keeps five minutes of samples, and draws
// rates from the differences of the byte counters. No library.
"use strict";
const keep = 300;
const samples = [];
const $ = id => document.getElementById(id);

function human(bytesPerSecond) {
  const bits = bytesPerSecond * 8;
  if (bits >= 1e6) return (bits / 1e6).toFixed(2) + " Mbit/s";
  if (bits >= 1e3) return (bits / 1e3).toFixed(1) + " kbit/s";
  return bits.toFixed(0) + " bit/s";
}

function rates(key) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].time - samples[i - 1].time) / 1000;
    out.push(dt > 0 ? Math.max(0, samples[i][key] - samples[i - 1][key]) / dt : 0);
  }
  return out;
}

function draw(canvas, values, color) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...values);
  ctx.strokeStyle = "#dde2e8";
  ctx.beginPath(); ctx.moveTo(0, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
  ctx.strokeStyle = color; ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = w - (values.length - 1 - i) * (w / (keep - 1));
    const y = h - 4 - (v / max) * (h - 20);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = "#6b7785";
  ctx.fillText("max " + human(max), 4, 12);
  canvas.dataset.samples = values.length;
  canvas.dataset.last = values.length ? values[values.length - 1].toFixed(0) : "0";
}

function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text;
  tr.appendChild(td);
}

// peerRate is a peer's rate of key (downloaded, uploaded) since the previous sample.
function peerRate(stream, peer, key) {
  if (samples.length < 2) return 0;
  const prev = samples[samples.length - 2], cur = samples[samples.length - 1];
  const ps = prev.streams.find(s => s.infohash === stream.infohash);
  const pp = ps && ps.peers.find(q => q.address === peer.address);
  const dt = (cur.time - prev.time) / 1000;
  return pp && dt > 0 ? Math.max(0, peer[key] - pp[key]) / dt : 0;
}

function streams(list) {
  const root = $("stream-list");
  root.replaceChildren();
  for (const s of list) {
    const h = document.createElement("h2");
    h.textContent = (s.name || "stream") + " · " + s.infohash;
    const p = document.createElement("p");
    p.textContent = s.pieces ? `live window: pieces ${s.first}–${s.last} (${s.pieces} held)` : "live window: empty";
    const table = document.createElement("table");
    table.innerHTML = "<tr><th>peer</th><th>role</th><th>download</th><th>upload</th><th>downloaded</th><th>uploaded</th><th>upload slot</th></tr>";
    for (const peer of s.peers) {
      const tr = document.createElement("tr");
      cell(tr, peer.address); cell(tr, peer.role);
      cell(tr, human(peerRate(s, peer, "downloaded")));
      cell(tr, human(peerRate(s, peer, "uploaded")));
      cell(tr, (peer.downloaded / 1048576).toFixed(2) + " MiB");
      cell(tr, (peer.uploaded / 1048576).toFixed(2) + " MiB");
      cell(tr, peer.upload_slot ? "yes" : "");
      table.appendChild(tr);
    }
    root.append(h, p, table);
  }
}

async function poll() {
  try {
    const r = await fetch("dashboard.json", {cache: "no-store"});
    if (!r.ok) throw new Error(r.status + " " + r.statusText);
    const s = await r.json();
    samples.push(s);
    if (samples.length > keep) samples.shift();
    $("role").textContent = s.role;
    $("version").textContent = "version " + s.version;
    $("player-link").hidden = !s.player_page;
    $("peers").textContent = s.streams.reduce((n, st) => n + st.peers.length, 0);
    $("streams").textContent = s.streams.length;
    $("players").textContent = s.players;
    $("startup").textContent = s.startups ? (s.startup_sum / s.startups).toFixed(2) + " s" : "–";
    $("lag").textContent = s.players ? s.lag.toFixed(1) + " s" : "–";
    $("stalls").textContent = s.stalls;
    const down = rates("bytes_down"), up = rates("bytes_up");
    $("down").textContent = human(down.length ? down[down.length - 1] : 0);
    $("up").textContent = human(up.length ? up[up.length - 1] : 0);
    draw($("chart-down"), down, "#2a6fdb");
    draw($("chart-up"), up, "#1e8e3e");
    streams(s.streams);
    $("error").hidden = true;
  } catch (e) {
    $("error").hidden = false;
    $("error").textContent = "no answer from the node: " + e.message;
  }
}

poll();
setInterval(poll, 1000);
