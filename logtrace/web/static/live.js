// The Live page: spans and log lines as they are written (server-sent events, GET /api/live),
// and the spans in flight: started (a start line was written) and not ended yet.
"use strict";

const MAX_LINES = 500;
const live = { inflight: new Map(), lines: 0, paused: false, source: null, drawing: 0 };

function ageOf(span) {
  return Date.now() - Date.parse(span.start_ts || span.ts);
}

function drawInflight() {
  const box = LT.clear(document.getElementById("inflight"));
  const spans = [...live.inflight.values()].sort((a, b) => Date.parse(a.start_ts) - Date.parse(b.start_ts));
  document.getElementById("inflight-count").textContent = `(${spans.length})`;
  if (!spans.length) {
    box.appendChild(LT.el("p", "muted", "Nothing running."));
    return;
  }
  const rows = spans.map((s) => [
    LT.el("span", `chip ${LT.serviceClass(s.service)}`, s.service),
    LT.el("span", "name", s.name),
    LT.el("span", "num", LT.duration(ageOf(s))),
    LT.traceLink(s.trace_id, String(s.trace_id).slice(0, 12) + "…"),
  ]);
  box.appendChild(LT.table(["service", "span", "running for", "trace"], rows, "inflight"));
}

function lineRow(line) {
  const row = LT.el("div", "live-line");
  row.appendChild(LT.el("span", "muted", LT.time(line.ts).slice(11)));
  row.appendChild(LT.el("span", `chip ${LT.serviceClass(line.service)}`, line.service));
  let mark = line.level;
  let text = line.event;
  if (line.span === "start") { mark = "▶"; text = line.name; }
  if (line.span === "end") { mark = "■"; text = `${line.name}  ${LT.duration(line.duration_ms)}`; }
  if (line.span === "event") mark = "◆";
  const failed = line.status === "error" || line.level === "error" || line.level === "critical";
  if (failed) row.classList.add("error");
  row.appendChild(LT.el("span", "level", mark));
  row.appendChild(LT.el("span", "message", text));
  if (line.error_message) row.appendChild(LT.el("span", "err-msg", `${line.error_type || ""}: ${line.error_message}`));
  if (line.trace_id) row.appendChild(LT.traceLink(line.trace_id, String(line.trace_id).slice(0, 12) + "…"));
  return row;
}

function onLine(line) {
  if (line.span === "start") {
    live.inflight.set(`${line.trace_id}/${line.span_id}`, { ...line, start_ts: line.ts });
  } else if (line.span === "end") {
    live.inflight.delete(`${line.trace_id}/${line.span_id}`);
  }
  if (live.paused) return;
  const box = document.getElementById("lines");
  box.insertBefore(lineRow(line), box.firstChild);
  while (box.childNodes.length > MAX_LINES) box.removeChild(box.lastChild);
  live.lines += 1;
  document.getElementById("line-count").textContent = `(${live.lines} since opened)`;
}

function connect() {
  const params = LT.given(LT.fillForm(document.getElementById("filters")), ["service", "trace"]);
  const state = document.getElementById("state");
  const query = new URLSearchParams(params).toString();
  const source = new EventSource("/api/live" + (query ? "?" + query : ""));
  live.source = source;
  source.addEventListener("open", () => { state.textContent = "following"; state.className = "badge status-ok"; });
  source.addEventListener("error", () => { state.textContent = "reconnecting…"; state.className = "badge status-unfinished"; });
  source.addEventListener("inflight", (event) => {
    for (const span of JSON.parse(event.data)) live.inflight.set(`${span.trace_id}/${span.span_id}`, span);
    drawInflight();
  });
  source.addEventListener("line", (event) => {
    onLine(JSON.parse(event.data));
    if (!live.drawing) live.drawing = setTimeout(() => { live.drawing = 0; drawInflight(); }, 200);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  LT.markNav("live");
  document.getElementById("pause").addEventListener("click", (event) => {
    live.paused = !live.paused;
    event.target.textContent = live.paused ? "resume" : "pause";
  });
  connect();
  drawInflight();
  setInterval(drawInflight, 1000);
});
