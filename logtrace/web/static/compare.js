// The Compare page: two traces, or two windows / attribute values, as `logtrace compare`
// computes them (GET /api/compare).
"use strict";

const FIELDS = ["a", "b", "by", "a_since", "a_until", "b_since", "b_until", "name", "service"];

function num(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function estimate(e) {
  if (!e || e.value === null || e.value === undefined) return "–";
  const range = e.low === null || e.low === undefined ? "" : ` [${LT.duration(e.low)}, ${LT.duration(e.high)}]`;
  return `${LT.duration(e.value)}${range}`;
}

function changeCell(text, regression) {
  return LT.el("span", regression ? "err-count" : "", text);
}

function traces(answer) {
  const rows = answer.result.map((p) => [
    p.path, p.a_count, p.b_count, LT.duration(p.a_ms), LT.duration(p.b_ms),
    changeCell(p.change, p.change !== "same"),
  ]);
  return LT.table(["path (root / … / span)", "A spans", "B spans", "A time", "B time", "change"], rows, "compare");
}

function spans(answer) {
  const box = LT.el("div");
  const r = answer.result;
  box.appendChild(LT.el("p", null, `${r.a_label}: ${r.a_traces} traces · ${r.b_label}: ${r.b_traces} traces · α = ${r.alpha}`));
  const rows = r.names.map((n) => [
    n.name, n.a.n, estimate(n.a.p50), estimate(n.a.p95), n.b.n, estimate(n.b.p50), estimate(n.b.p95),
    changeCell(n.change_pct === null ? "–" : `${n.change_pct > 0 ? "+" : ""}${num(n.change_pct, 1)}%`, n.regression),
    num(n.p, 4), changeCell(n.verdict, n.regression),
    n.error_rate_change === null ? "–" : `${num(n.error_rate_change * 100, 1)} pt`, n.note || "",
  ]);
  box.appendChild(LT.table(["span name", "A n", "A p50", "A p95", "B n", "B p50", "B p95", "Δ p50", "p", "", "errors", "note"], rows, "compare"));
  if (r.structure && r.structure.length) {
    box.appendChild(LT.el("h2", null, "Structure: spans per trace"));
    const shape = r.structure.map((s) => [s.name, num(s.a_per_trace, 2), num(s.b_per_trace, 2), s.change]);
    box.appendChild(LT.table(["span name", "A per trace", "B per trace", "change"], shape, "compare"));
  }
  return box;
}

async function showCompare() {
  LT.markNav("compare");
  const params = LT.fillForm(document.getElementById("filters"));
  const results = document.getElementById("results");
  const given = LT.given(params, FIELDS);
  if (!Object.keys(given).length) return;
  results.textContent = "comparing…";
  try {
    const answer = await LT.api("/api/compare", given);
    LT.clear(results);
    const head = LT.el("h2");
    if (answer.mode === "traces") {
      head.appendChild(LT.traceLink(answer.a, `A ${answer.a}`));
      head.appendChild(LT.el("span", "muted", " against "));
      head.appendChild(LT.traceLink(answer.b, `B ${answer.b}`));
    } else head.textContent = `${answer.a} against ${answer.b}`;
    results.appendChild(head);
    results.appendChild(answer.mode === "traces" ? traces(answer) : spans(answer));
  } catch (error) {
    LT.showError(results, error.message);
  }
}

document.addEventListener("DOMContentLoaded", showCompare);
