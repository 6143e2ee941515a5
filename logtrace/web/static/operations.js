// The Operations page: per span name count, error rate, p50/p95/p99 (GET /api/operations);
// one name's latency histogram and p50/p95 over time (…/histogram, …/timeseries).
"use strict";

const FILTERS = ["since", "until", "service", "attr"];

async function showOperation(params, name) {
  const box = LT.clear(document.getElementById("operation"));
  box.appendChild(LT.el("h2", null, name));
  const filters = LT.given(params, ["since", "until", "service"]);
  const path = `/api/operations/${encodeURIComponent(name)}`;
  const charts = LT.el("div", "charts");
  box.appendChild(charts);
  try {
    const answer = await LT.api(`${path}/histogram`, filters);
    charts.appendChild(Charts.histogram(answer.buckets, "latency histogram (errors in red)"));
  } catch (error) {
    charts.appendChild(LT.el("p", "error-box", `histogram: ${error.message}`));
  }
  try {
    const answer = await LT.api(`${path}/timeseries`, { ...filters, every: params.get("every") || "5m" });
    const points = answer.buckets.map((b) => ({
      t: Date.parse(b.bucket || b.start || b.ts),
      values: { p50: b.p50_ms, p95: b.p95_ms },
    }));
    charts.appendChild(Charts.lines(points, ["p50", "p95"], `p50 and p95 every ${answer.every}`));
  } catch (error) {
    charts.appendChild(LT.el("p", "muted", `over time: ${error.message}`));
  }
}

async function showOperations() {
  LT.markNav("operations");
  const params = LT.fillForm(document.getElementById("filters"));
  const results = document.getElementById("results");
  results.textContent = "reading…";
  const op = params.get("op");
  if (op) showOperation(params, op);
  let answer;
  try {
    answer = await LT.api("/api/operations", LT.given(params, FILTERS));
  } catch (error) {
    LT.showError(results, error.message);
    return;
  }
  LT.clear(results);
  const rows = answer.operations.map((o) => {
    const query = Object.fromEntries([...params.entries()].filter(([k, v]) => v && k !== "op"));
    return [
      LT.link("/operations", { ...query, op: o.name }, o.name, "op-name"),
      o.count,
      LT.el("span", o.errors ? "err-count" : "", String(o.errors)),
      LT.percent(o.error_rate),
      LT.duration(o.p50_ms),
      LT.duration(o.p95_ms),
      LT.duration(o.p99_ms),
      LT.duration(o.max_ms),
      o.service || (o.services || []).join(", "),
      o.kind || "",
    ];
  });
  results.appendChild(LT.table(["span name", "count", "errors", "error rate", "p50", "p95", "p99", "max", "service", "kind"], rows, "ops"));
}

document.addEventListener("DOMContentLoaded", showOperations);
