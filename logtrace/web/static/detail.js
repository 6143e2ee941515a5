// The Trace page's side panel and header: a span's (or a line's) details, all as text.
"use strict";

const Detail = (() => {
  function section(parent, title) {
    parent.appendChild(LT.el("h3", null, title));
  }

  function pairs(parent, items) {
    const dl = LT.el("dl", "pairs");
    for (const [key, value] of items) {
      if (value === null || value === undefined || value === "") continue;
      dl.appendChild(LT.el("dt", null, key));
      const dd = LT.el("dd");
      if (value instanceof Node) dd.appendChild(value);
      else dd.textContent = String(value);
      dl.appendChild(dd);
    }
    parent.appendChild(dl);
  }

  function valueText(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function id(value) {
    if (!value) return null;
    const box = LT.el("span", "id-box");
    box.appendChild(LT.el("code", null, value));
    box.appendChild(LT.copyButton(value));
    return box;
  }

  function command(parent, text) {
    const box = LT.el("div", "command");
    box.appendChild(LT.el("pre", null, text));
    box.appendChild(LT.copyButton(text));
    parent.appendChild(box);
  }

  function filesGlob(directory) {
    if (/[*?[]/.test(directory) || /\.(jsonl|zst|parquet)$/.test(directory)) return LT.shellQuote(directory);
    return `${LT.shellQuote(directory.replace(/\/+$/, ""))}/*/*.jsonl*`;
  }

  function head(container, data) {
    const t = data.trace;
    LT.clear(container);
    const title = LT.el("h1");
    title.appendChild(LT.el("span", null, t.root_name));
    title.appendChild(LT.statusBadge(t.status));
    container.appendChild(title);
    const compare = LT.link("/compare", { a: t.trace_id }, "compare with another trace");
    pairs(container, [
      ["trace id", id(t.trace_id)],
      ["start", `${LT.time(t.start_ts)} UTC`],
      ["duration", LT.duration(t.duration_ms)],
      ["spans", `${t.span_count} (${t.error_count} failed, ${t.unfinished_count} unfinished)`],
      ["services", (t.services || []).join(", ")],
      ["", compare],
    ]);
  }

  function attributes(parent, values, skip) {
    const rows = Object.entries(values || {}).filter(([key]) => !(skip && skip.has(key)));
    if (!rows.length) return;
    parent.appendChild(LT.table(["key", "value"], rows.map(([k, v]) => [k, valueText(v)]), "attrs"));
  }

  function lines(parent, logs, trace) {
    if (!logs.length) return;
    section(parent, `Events and logs (${logs.length})`);
    const list = LT.el("ol", "log-list");
    for (const log of logs) {
      const item = LT.el("li", log.level === "error" || log.level === "critical" ? "error" : "");
      item.appendChild(LT.el("span", "muted", `+${LT.duration(log.offset_ms)} `));
      item.appendChild(LT.el("span", "level", log.is_span_event ? "event" : log.level));
      item.appendChild(LT.el("span", "message", ` ${log.message}`));
      if (log.error_message) item.appendChild(LT.el("span", "err-msg", ` ${log.error_type || ""}: ${log.error_message}`));
      list.appendChild(item);
    }
    parent.appendChild(list);
  }

  function span(panel, node, data) {
    const s = node.span;
    const title = LT.el("h2");
    title.appendChild(LT.el("span", null, s.name));
    title.appendChild(LT.statusBadge(s.status));
    panel.appendChild(title);
    if (s.status === "error") panel.appendChild(LT.el("p", "error-box", `${s.error_type || "error"}: ${s.error_message || ""}`));
    pairs(panel, [
      ["service", `${s.service} [pid ${s.pid}]`],
      ["start", `${LT.time(s.start_ts)} UTC (+${LT.duration(s.offset_ms)})`],
      ["duration", s.status === "unfinished" ? "unfinished (no end line)" : LT.duration(s.duration_ms)],
      ["kind", s.kind],
      ["span id", id(s.span_id)],
      ["parent id", id(s.parent_id)],
      ["trace id", id(data.trace.trace_id)],
      ["file", (data.files || [])[s.file]],
    ]);
    if (Object.keys(s.attributes || {}).length) {
      section(panel, "Attributes");
      attributes(panel, s.attributes);
    }
    lines(panel, node.logs, data.trace);
    if (s.exception) {
      section(panel, "Exception");
      panel.appendChild(LT.el("pre", "traceback", s.exception));
    }
    section(panel, "On the command line");
    const files = filesGlob(data.directory);
    command(panel, `zstd -dcf ${files} | grep -F '"span_id":"${s.span_id}"'`);
    command(panel, `zstd -dcf ${files} | jq -c 'select(.span_id == "${s.span_id}")'`);
    command(panel, `logtrace show ${data.trace.trace_id} --dir ${LT.shellQuote(data.directory)}`);
  }

  function line(panel, log) {
    panel.appendChild(LT.el("h2", null, log.message));
    pairs(panel, [
      ["level", log.is_span_event ? "span event" : log.level],
      ["time", `${LT.time(log.ts)} UTC (+${LT.duration(log.offset_ms)})`],
      ["logger", log.logger],
      ["service", `${log.service} [pid ${log.pid}]`],
      ["span", log.span_name],
      ["span id", id(log.span_id)],
      ["error", log.error_message ? `${log.error_type || ""}: ${log.error_message}` : null],
    ]);
    section(panel, "Fields");
    attributes(panel, log.fields, new Set(["ts", "level", "event", "logger", "service", "pid", "trace_id", "span_id", "trace_flags", "span"]));
    if (log.exception) panel.appendChild(LT.el("pre", "traceback", log.exception));
  }

  function group(panel, row) {
    const spans = row.members.map((m) => m.span);
    panel.appendChild(LT.el("h2", null, `${spans.length} × ${spans[0].name}`));
    panel.appendChild(LT.el("p", "muted", "Repeated siblings, folded: press Enter or click to expand."));
    const rows = spans.slice(0, 200).map((s) => [s.span_id, s.status, LT.duration(s.duration_ms)]);
    panel.appendChild(LT.table(["span id", "status", "duration"], rows, "attrs"));
  }

  function show(row, state) {
    const panel = LT.clear(document.getElementById("detail"));
    if (!row) return;
    if (row.kind === "span") span(panel, row.node, state.data);
    else if (row.kind === "log") line(panel, row.log);
    else group(panel, row);
  }

  return { head, show };
})();

// The critical path as the page draws it: span id -> [[from, to] offsets in ms], from what
// GET /api/trace/{id}/critical-path answers (sections of spans, in trace time).
const CriticalPath = (() => {
  function offset(value, start) {
    if (typeof value === "number") return value;
    if (typeof value === "string") return (Date.parse(value) - start);
    return null;
  }

  function sections(answer, state) {
    const start = Date.parse(state.data.trace.start_ts);
    const map = new Map();
    for (const section of answer.sections || []) {
      const from = offset(section.start_offset_ms ?? section.start_ms ?? section.start, start);
      const to = offset(section.end_offset_ms ?? section.end_ms ?? section.end, start);
      if (!section.span_id || from === null || to === null) continue;
      if (!map.has(section.span_id)) map.set(section.span_id, []);
      map.get(section.span_id).push([from, to]);
    }
    return map;
  }

  return { sections };
})();
