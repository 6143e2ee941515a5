// The Trace page: one trace as a waterfall (GET /api/trace/{id}). Rows are drawn only where
// they are on screen, so a trace of 10,000 spans scrolls like one of ten.
"use strict";

const ROW = 24; // px per row: the waterfall's rows all have this height
const OVERSCAN = 12; // rows drawn above and below the visible ones
const GROUP_MIN = 20; // this many consecutive siblings of one name fold into one row
const LINE_FIELDS = new Set(["ts", "level", "event", "logger", "service", "pid", "trace_id", "span_id", "trace_flags", "span"]);

const state = {
  data: null, nodes: [], tops: [], orphanLogs: [], total: 1, rows: [], selected: -1,
  collapsed: new Set(), expandedGroups: new Set(), showLogs: true, groupRepeats: true,
  cp: null, cpOn: false, frame: 0,
};
const $ = (id) => document.getElementById(id);

function build(data) {
  const nodes = data.spans.map((span, i) => ({ i, span, depth: span.depth, children: [], logs: [], parent: null }));
  const stack = [];
  const tops = [];
  let total = data.trace.duration_ms || 0;
  for (const node of nodes) {
    while (stack.length && stack[stack.length - 1].depth >= node.depth) stack.pop();
    if (node.depth > 0 && stack.length) {
      node.parent = stack[stack.length - 1];
      node.parent.children.push(node);
    } else tops.push(node);
    stack.push(node);
    total = Math.max(total, (node.span.offset_ms || 0) + (node.span.duration_ms || 0));
  }
  const bySpan = new Map(nodes.map((n) => [n.span.span_id, n]));
  const orphanLogs = [];
  for (const log of data.logs) {
    const owner = log.span_id ? bySpan.get(log.span_id) : undefined;
    (owner ? owner.logs : orphanLogs).push(log);
    total = Math.max(total, log.offset_ms || 0);
  }
  Object.assign(state, { data, nodes, tops, orphanLogs, bySpan, total: Math.max(total, 0.001) });
}

function spanEnd(span) {
  if (span.status === "unfinished" || span.duration_ms == null) return state.total; // null values are left out
  return (span.offset_ms || 0) + span.duration_ms;
}

// Children of a node as rows: runs of GROUP_MIN+ siblings of one name and service fold.
function childItems(children, depth) {
  const items = [];
  for (let i = 0; i < children.length; ) {
    let j = i + 1;
    const key = children[i].span.name + "\u0000" + children[i].span.service;
    while (j < children.length && children[j].span.name + "\u0000" + children[j].span.service === key) j++;
    const groupKey = `${children[i].i}:${j - i}`;
    if (state.groupRepeats && j - i >= GROUP_MIN && !state.expandedGroups.has(groupKey)) {
      const members = children.slice(i, j);
      items.push({ kind: "group", at: members[0].span.offset_ms || 0, members, depth, key: groupKey });
    } else {
      for (let k = i; k < j; k++) items.push({ kind: "node", node: children[k], at: children[k].span.offset_ms || 0 });
    }
    i = j;
  }
  return items;
}

function flatten() {
  const rows = [];
  const place = (items, logs, depth) => {
    if (state.showLogs) {
      for (const log of logs) items.push({ kind: "log", log, depth, at: log.offset_ms || 0 });
    }
    items.sort((a, b) => a.at - b.at); // stable: tree order among equal times
    for (const item of items) {
      if (item.kind === "node") visit(item.node);
      else rows.push(item);
    }
  };
  const visit = (node) => {
    rows.push({ kind: "span", node, depth: node.depth });
    if (state.collapsed.has(node.i)) return;
    place(childItems(node.children, node.depth + 1), node.logs, node.depth + 1);
  };
  place(childItems(state.tops, 0), state.orphanLogs, 0);
  state.rows = rows;
}

function pct(ms) {
  return `${Math.max(0, Math.min(100, (ms / state.total) * 100))}%`;
}

function bar(lane, from, to, className) {
  const b = LT.el("div", className);
  b.style.left = pct(from);
  b.style.width = `calc(${pct(Math.max(0, to - from))} + 1px)`;
  lane.appendChild(b);
  return b;
}

function label(row) {
  const box = LT.el("div", "label");
  box.style.paddingLeft = `${row.depth * 14 + 4}px`;
  if (row.kind === "span") {
    const span = row.node.span;
    const open = !state.collapsed.has(row.node.i);
    const hasKids = row.node.children.length || row.node.logs.length;
    box.appendChild(LT.el("span", "toggle", hasKids ? (open ? "▾" : "▸") : " "));
    box.appendChild(LT.el("span", `chip ${LT.serviceClass(span.service)}`, span.service));
    box.appendChild(LT.el("span", "name", span.name));
    if (span.status === "error") {
      box.appendChild(LT.el("span", "err-msg", `${span.error_type || "error"}: ${span.error_message || ""}`));
    }
    if (span.status === "unfinished") box.appendChild(LT.el("span", "badge status-unfinished", "unfinished"));
    box.appendChild(LT.el("span", "dur", span.status === "unfinished" ? "…" : LT.duration(span.duration_ms)));
  } else if (row.kind === "group") {
    const members = row.members;
    const failed = members.filter((m) => m.span.status === "error").length;
    const durations = members.map((m) => m.span.duration_ms || 0).sort((a, b) => a - b);
    const p50 = durations[Math.floor((durations.length - 1) / 2)];
    box.appendChild(LT.el("span", "toggle", "▸"));
    box.appendChild(LT.el("span", `chip ${LT.serviceClass(members[0].span.service)}`, members[0].span.service));
    box.appendChild(LT.el("span", "name", `${members.length} × ${members[0].span.name}`));
    box.appendChild(LT.el("span", "muted", ` p50 ${LT.duration(p50)} max ${LT.duration(durations[durations.length - 1])}`));
    if (failed) box.appendChild(LT.el("span", "err-msg", `${failed} failed`));
  } else {
    const log = row.log;
    const level = String(log.level || "");
    box.appendChild(LT.el("span", "toggle", log.is_span_event ? "◆" : "·"));
    box.appendChild(LT.el("span", `level level-${level.replace(/[^a-z]/g, "")}`, log.is_span_event ? "event" : level));
    box.appendChild(LT.el("span", "message", log.message));
  }
  return box;
}

function lane(row) {
  const box = LT.el("div", "lane");
  if (row.kind === "span") {
    const span = row.node.span;
    const kind = span.status === "error" ? " bar-error" : span.status === "unfinished" ? " bar-unfinished" : "";
    bar(box, span.offset_ms || 0, spanEnd(span), `bar ${LT.serviceClass(span.service)}${kind}`);
    if (state.cpOn && state.cp) {
      for (const [from, to] of state.cp.get(span.span_id) || []) bar(box, from, to, "cp-seg");
    }
  } else if (row.kind === "group") {
    const spans = row.members.map((m) => m.span);
    const from = Math.min(...spans.map((s) => s.offset_ms || 0));
    const to = Math.max(...spans.map(spanEnd));
    const failed = spans.some((s) => s.status === "error") ? " bar-error" : "";
    bar(box, from, to, `bar bar-group ${LT.serviceClass(spans[0].service)}${failed}`);
  } else {
    const tick = LT.el("div", row.log.level === "error" || row.log.level === "critical" ? "tick tick-error" : "tick");
    tick.style.left = pct(row.log.offset_ms || 0);
    box.appendChild(tick);
  }
  return box;
}

function rowClass(row, index) {
  let name = `row row-${row.kind}`;
  if (index === state.selected) name += " selected";
  if (row.kind === "span") {
    const span = row.node.span;
    if (span.status === "error") name += " error";
    if (span.status === "unfinished") name += " unfinished";
    if (state.cpOn && state.cp && state.cp.has(span.span_id)) name += " on-cp";
  }
  if (row.kind === "log" && (row.log.level === "error" || row.log.level === "critical")) name += " error";
  return name;
}

function render() {
  state.frame = 0;
  const viewport = $("viewport");
  const space = $("space");
  space.style.height = `${state.rows.length * ROW}px`;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - OVERSCAN);
  const last = Math.min(state.rows.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + OVERSCAN);
  const fragment = document.createDocumentFragment();
  for (let i = first; i < last; i++) {
    const row = state.rows[i];
    const div = LT.el("div", rowClass(row, i));
    div.style.top = `${i * ROW}px`;
    div.dataset.index = String(i);
    div.appendChild(label(row));
    div.appendChild(lane(row));
    fragment.appendChild(div);
  }
  LT.clear(space).appendChild(fragment);
  $("waterfall").classList.toggle("cp-mode", state.cpOn && !!state.cp);
}

function schedule() {
  if (!state.frame) state.frame = requestAnimationFrame(render);
}

function refresh() {
  const current = state.rows[state.selected];
  flatten();
  if (current) {
    const same = state.rows.findIndex((r) => r.kind === current.kind && (r.node ? r.node === current.node : r.log ? r.log === current.log : r.key === current.key));
    state.selected = same >= 0 ? same : Math.min(state.selected, state.rows.length - 1);
  }
  render();
}

function select(index, reveal) {
  if (!state.rows.length) return;
  state.selected = Math.max(0, Math.min(state.rows.length - 1, index));
  const viewport = $("viewport");
  if (reveal) {
    const top = state.selected * ROW;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW - viewport.clientHeight;
  }
  render();
  const row = state.rows[state.selected];
  Detail.show(row, state);
  if (row.kind === "span") history.replaceState(null, "", `${location.pathname}${location.search}#span=${encodeURIComponent(row.node.span.span_id)}`);
}

function toggle(row, open) {
  if (row.kind === "group") {
    state.expandedGroups.add(row.key);
  } else if (row.kind === "span") {
    const shut = state.collapsed.has(row.node.i);
    if (open === undefined ? shut : open) state.collapsed.delete(row.node.i);
    else state.collapsed.add(row.node.i);
  }
  refresh();
}

function onKey(event) {
  const typing = event.target instanceof HTMLInputElement && !["checkbox", "button"].includes(event.target.type);
  if (typing || event.target instanceof HTMLSelectElement || event.metaKey || event.ctrlKey || event.altKey) return;
  const row = state.rows[state.selected];
  const page = Math.max(1, Math.floor($("viewport").clientHeight / ROW) - 1);
  const moves = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: page, PageUp: -page };
  if (event.key in moves) select(state.selected + moves[event.key], true);
  else if (event.key === "Home") select(0, true);
  else if (event.key === "End") select(state.rows.length - 1, true);
  else if ((event.key === "ArrowRight" || event.key === "l") && row) toggle(row, true);
  else if ((event.key === "ArrowLeft" || event.key === "h") && row) {
    if (row.kind === "span" && !state.collapsed.has(row.node.i) && row.node.children.length) toggle(row, false);
    else {
      const parent = row.kind === "span" ? row.node.parent : null;
      const at = parent ? state.rows.findIndex((r) => r.node === parent) : -1;
      for (let i = state.selected - 1; at < 0 && i >= 0; i--) {
        if (state.rows[i].kind === "span" && state.rows[i].depth < row.depth) { select(i, true); return; }
      }
      if (at >= 0) select(at, true);
    }
  } else if (event.key === "Enter" && row) toggle(row);
  else if (event.key === "c") $("critical-path").click();
  else return;
  event.preventDefault();
}

async function setCriticalPath(on) {
  const note = $("cp-note");
  state.cpOn = on;
  if (on && !state.cp) {
    note.textContent = "computing the critical path…";
    try {
      const answer = await LT.api(`/api/trace/${encodeURIComponent(state.data.trace.trace_id)}/critical-path`);
      state.cp = CriticalPath.sections(answer, state);
    } catch (error) {
      note.textContent = `critical path not available: ${error.message}`;
      $("critical-path").checked = false;
      state.cpOn = false;
      return;
    }
  }
  note.textContent = on && state.cp ? `critical path: ${state.cp.size} spans` : "";
  render();
}

function ruler() {
  const box = LT.clear($("ruler"));
  box.appendChild(LT.el("div", "label", "span"));
  const scale = LT.el("div", "lane");
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const tick = LT.el("span", "ruler-tick", LT.duration(state.total * f));
    tick.style.left = `${f * 100}%`;
    scale.appendChild(tick);
  }
  box.appendChild(scale);
}

function wire() {
  const viewport = $("viewport");
  viewport.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("resize", schedule);
  $("space").addEventListener("click", (event) => {
    const div = event.target.closest(".row");
    if (!div) return;
    const index = Number(div.dataset.index);
    if (event.target.classList.contains("toggle") || state.rows[index].kind === "group") toggle(state.rows[index]);
    select(state.rows.indexOf(state.rows[index]) >= 0 ? index : 0, false);
  });
  document.addEventListener("keydown", onKey);
  $("show-logs").addEventListener("change", (e) => { state.showLogs = e.target.checked; refresh(); });
  $("group-repeats").addEventListener("change", (e) => { state.groupRepeats = e.target.checked; state.expandedGroups.clear(); refresh(); });
  $("critical-path").addEventListener("change", (e) => setCriticalPath(e.target.checked));
  $("expand-all").addEventListener("click", () => { state.collapsed.clear(); refresh(); });
  $("collapse-all").addEventListener("click", () => {
    for (const node of state.nodes) if (node.children.length) state.collapsed.add(node.i);
    refresh();
  });
}

// The span named by the address's #span=ID, or "": a fragment that does not decode (a link cut
// short, #span=%E0%A4%A) is ignored, so the trace is drawn all the same.
function spanInHash() {
  const given = (location.hash.match(/span=([^&]+)/) || [])[1] || "";
  try {
    return decodeURIComponent(given);
  } catch (error) {
    return "";
  }
}

async function showTrace() {
  LT.markNav("traces");
  const id = new URLSearchParams(location.search).get("id") || "";
  const head = $("head");
  if (!id) { LT.showError(head, "Give a trace id: /trace?id=…"); return; }
  head.textContent = "reading the trace…";
  let data;
  try {
    data = await LT.api(`/api/trace/${encodeURIComponent(id)}`);
  } catch (error) {
    LT.showError(head, error.message);
    return;
  }
  build(data);
  Detail.head(head, data);
  document.title = `${data.trace.root_name} · logtrace`;
  wire();
  flatten();
  ruler();
  const wanted = spanInHash();
  const at = wanted ? state.rows.findIndex((r) => r.kind === "span" && r.node.span.span_id === wanted) : -1;
  select(at >= 0 ? at : 0, true);
  $("waterfall").focus();
  document.body.dataset.drawnMs = String(Math.round(performance.now())); // for the benchmark
  document.body.dataset.drawn = String(state.rows.length);
}

document.addEventListener("DOMContentLoaded", showTrace);
