// The Traces page: the newest traces passing the filters in the address (GET /api/traces).
"use strict";

const FILTERS = ["q", "since", "until", "service", "name", "status", "kind", "min_duration", "attr", "text", "limit"];

async function showTraces() {
  LT.markNav("traces");
  const params = LT.fillForm(document.getElementById("filters"));
  const results = document.getElementById("results");
  const summary = document.getElementById("summary");
  summary.textContent = "searching…";
  let answer;
  try {
    answer = await LT.api("/api/traces", LT.given(params, FILTERS));
  } catch (error) {
    summary.textContent = "";
    LT.showError(results, error.message);
    return;
  }
  const traces = answer.traces;
  const where = answer.searched_since ? ` (searched since ${LT.time(answer.searched_since)} UTC)` : "";
  summary.textContent = `${traces.length} traces, newest first, from ${answer.files} files in ${answer.directory}${where}`;
  LT.clear(results);
  if (!traces.length) {
    results.appendChild(LT.el("p", "muted", "No trace passes these filters."));
    return;
  }
  const rows = traces.map((t) => {
    const spans = LT.el("span", null, `${t.span_count}`);
    const counts = LT.el("span");
    counts.appendChild(spans);
    if (t.error_count) counts.appendChild(LT.el("span", "err-count", ` · ${t.error_count} failed`));
    if (t.unfinished_count) counts.appendChild(LT.el("span", "muted", ` · ${t.unfinished_count} unfinished`));
    const services = LT.el("span");
    for (const service of t.services || []) {
      services.appendChild(LT.el("span", `chip ${LT.serviceClass(service)}`, service));
    }
    return [
      LT.time(t.start_ts),
      LT.traceLink(t.trace_id),
      LT.el("span", "root-name", t.root_name),
      LT.statusBadge(t.status),
      LT.el("span", "num", LT.duration(t.duration_ms)),
      counts,
      services,
    ];
  });
  results.appendChild(
    LT.table(["start (UTC)", "trace id", "root span", "status", "duration", "spans", "services"], rows, "traces")
  );
}

document.addEventListener("DOMContentLoaded", showTraces);
