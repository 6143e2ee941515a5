// The Compare page: two traces side by side, as `logtrace compare` computes (GET /api/compare).
"use strict";

// Any JSON answer as nested tables: lists of objects as tables, objects as key/value pairs.
function render(value) {
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v)))];
      return LT.table(columns, value.map((v) => columns.map((c) => cell(v[c]))), "compare");
    }
    return LT.el("span", null, value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", "));
  }
  if (value && typeof value === "object") {
    const dl = LT.el("dl", "pairs");
    for (const [key, v] of Object.entries(value)) {
      dl.appendChild(LT.el("dt", null, key));
      const dd = LT.el("dd");
      dd.appendChild(cell(v));
      dl.appendChild(dd);
    }
    return dl;
  }
  return LT.el("span", null, value === null || value === undefined ? "–" : String(value));
}

function cell(value) {
  if (value && typeof value === "object") return render(value);
  if (typeof value === "number" && !Number.isInteger(value)) return LT.el("span", "num", value.toFixed(3));
  return LT.el("span", null, value === null || value === undefined ? "–" : String(value));
}

async function showCompare() {
  LT.markNav("compare");
  const params = LT.fillForm(document.getElementById("filters"));
  const results = document.getElementById("results");
  if (!params.get("a") || !params.get("b")) {
    results.appendChild(LT.el("p", "muted", "Give two trace ids (A and B)."));
    return;
  }
  results.textContent = "comparing…";
  try {
    const answer = await LT.api("/api/compare", LT.given(params, ["a", "b"]));
    LT.clear(results);
    const links = LT.el("p");
    links.appendChild(LT.traceLink(answer.a, `A ${answer.a}`));
    links.appendChild(LT.el("span", null, "  against  "));
    links.appendChild(LT.traceLink(answer.b, `B ${answer.b}`));
    results.appendChild(links);
    results.appendChild(render(answer.result));
  } catch (error) {
    LT.showError(results, error.message);
  }
}

document.addEventListener("DOMContentLoaded", showCompare);
