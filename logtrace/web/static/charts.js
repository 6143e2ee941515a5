// Small SVG charts drawn by hand (no chart library): a histogram and lines over time.
"use strict";

const Charts = (() => {
  const W = 640;
  const H = 200;
  const PAD = { left: 56, right: 12, top: 12, bottom: 36 };

  function frame(title) {
    const box = LT.el("figure", "chart");
    box.appendChild(LT.el("figcaption", null, title));
    const root = LT.svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
    box.appendChild(root);
    return { box, root };
  }

  function text(root, x, y, value, anchor) {
    const t = LT.svg("text", { x, y, "text-anchor": anchor || "middle", class: "axis-label" });
    t.textContent = value;
    root.appendChild(t);
    return t;
  }

  function axes(root) {
    root.appendChild(LT.svg("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }));
    root.appendChild(LT.svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }));
  }

  // buckets: [{low_ms, high_ms, count, errors}] in order.
  function histogram(given, title) {
    const { box, root } = frame(title);
    const buckets = [];
    for (const b of given) { // empty buckets between, so the axis stays logarithmic
      while (buckets.length && buckets[buckets.length - 1].bucket < b.bucket - 1) {
        const last = buckets[buckets.length - 1].bucket + 1;
        buckets.push({ bucket: last, low_ms: 10 ** (last / 5), high_ms: 10 ** ((last + 1) / 5), count: 0, errors: 0 });
      }
      buckets.push(b);
    }
    axes(root);
    if (!buckets.length) return box;
    const most = Math.max(...buckets.map((b) => b.count));
    const width = (W - PAD.left - PAD.right) / buckets.length;
    buckets.forEach((b, i) => {
      const height = ((H - PAD.top - PAD.bottom) * b.count) / most;
      const x = PAD.left + i * width;
      const ok = LT.svg("rect", { x: x + 1, y: H - PAD.bottom - height, width: Math.max(1, width - 2), height, class: "hist-bar" });
      const tip = LT.svg("title");
      tip.textContent = `${LT.duration(b.low_ms)}–${LT.duration(b.high_ms)}: ${b.count} spans, ${b.errors} failed`;
      ok.appendChild(tip);
      root.appendChild(ok);
      if (b.errors) {
        const eh = ((H - PAD.top - PAD.bottom) * b.errors) / most;
        root.appendChild(LT.svg("rect", { x: x + 1, y: H - PAD.bottom - eh, width: Math.max(1, width - 2), height: eh, class: "hist-error" }));
      }
      if (i % Math.ceil(buckets.length / 8) === 0) text(root, x + width / 2, H - PAD.bottom + 16, LT.duration(b.low_ms));
    });
    text(root, PAD.left - 6, PAD.top + 10, String(most), "end");
    text(root, PAD.left - 6, H - PAD.bottom, "0", "end");
    return box;
  }

  // points: [{t: ms since epoch, values: {p50: ms, p95: ms}}]; series: names to draw.
  function lines(points, series, title) {
    const { box, root } = frame(title);
    axes(root);
    const values = points.flatMap((p) => series.map((s) => p.values[s]).filter((v) => v !== null && v !== undefined));
    if (!points.length || !values.length) return box;
    const t0 = Math.min(...points.map((p) => p.t));
    const t1 = Math.max(...points.map((p) => p.t), t0 + 1);
    const top = Math.max(...values) || 1;
    const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
    const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
    series.forEach((name, n) => {
      const given = points.filter((p) => p.values[name] !== null && p.values[name] !== undefined);
      const coords = given.map((p) => `${x(p.t).toFixed(1)},${y(p.values[name]).toFixed(1)}`);
      root.appendChild(LT.svg("polyline", { points: coords.join(" "), class: `series series-${n}` }));
      for (const p of given) { // a dot per bucket: one bucket alone is a point, not a line
        root.appendChild(LT.svg("circle", { cx: x(p.t).toFixed(1), cy: y(p.values[name]).toFixed(1), r: 3, class: `dot dot-${n}` }));
      }
      const legend = text(root, W - PAD.right, PAD.top + 12 + n * 14, name, "end");
      legend.setAttribute("class", `axis-label legend-${n}`);
    });
    text(root, PAD.left - 6, PAD.top + 10, LT.duration(top), "end");
    text(root, PAD.left - 6, H - PAD.bottom, "0", "end");
    text(root, PAD.left, H - 8, LT.time(new Date(t0).toISOString()), "start");
    text(root, W - PAD.right, H - 8, LT.time(new Date(t1).toISOString()), "end");
    return box;
  }

  return { histogram, lines };
})();
