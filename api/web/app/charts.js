// Small SVG charts of our own: bars with intervals, lines with bands (fan chart, frontier,
// trade-off curve), and a scatter map of accounts. Each chart is an <svg role="img"> with a
// title, and sizes itself to its container's width through its viewBox.

const NS = "http://www.w3.org/2000/svg";

export const PALETTE = ["#2f6fb0", "#d9822b", "#3a9b5c", "#c23b3b", "#7d5ba6", "#8c6d31",
  "#d16fa8", "#5f6b7a", "#1c9aa6", "#b3a12e"];

/** A distinct colour per index (the palette, then hues spread by the golden angle). */
export function colour(i) {
  if (i < PALETTE.length) return PALETTE[i];
  return `hsl(${Math.round((i * 137.508) % 360)}, 55%, 42%)`;
}

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined && v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(width, height, label, cls) {
  const el = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
    class: `chart ${cls || ""}`, preserveAspectRatio: "xMidYMid meet" }, s("title", {}, label));
  el.style.maxWidth = `${Math.round(width * 1.25)}px`; // text stays readable in wide cards
  return el;
}

/** "Nice" axis ticks between lo and hi. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

/**
 * Horizontal bars, optionally with 95% interval whiskers and a reference line.
 * rows: [{label, value, lo?, hi?, colour?, group?, note?}]; a row with `group` starts a new
 * labelled group. opts: {title, fmt, min, max, reference: {value, label}}.
 */
export function bars(rows, { title, fmt = String, min = 0, max, reference, width = 640,
  valueW = 110 } = {}) {
  const labelW = 170;
  const rowH = 24;
  const groups = rows.filter((r) => r.group).length;
  const height = 30 + rows.length * rowH + groups * 20 + 24;
  const hiAll = Math.max(...rows.map((r) => Math.max(r.hi ?? r.value ?? 0, r.value ?? 0)),
    reference ? reference.value : 0);
  const top = max ?? (hiAll > 0 ? hiAll * 1.05 : 1);
  const plotW = width - labelW - valueW;
  const x = (v) => labelW + ((Math.max(min, Math.min(top, v)) - min) / (top - min)) * plotW;
  const el = svg(width, height, title, "bars");
  let y = 14;
  for (const t of ticks(min, top, 4)) {
    el.append(s("line", { x1: x(t), x2: x(t), y1: 8, y2: height - 22, class: "grid" }),
      s("text", { x: x(t), y: height - 6, class: "tick", "text-anchor": "middle" }, fmt(t)));
  }
  rows.forEach((r, i) => {
    if (r.group) {
      y += 20;
      el.append(s("text", { x: 4, y: y - 4, class: "group" }, r.group));
    }
    const cy = y + rowH / 2;
    const c = r.colour || colour(i);
    el.append(s("text", { x: labelW - 8, y: cy + 4, "text-anchor": "end", class: "label" },
      r.label));
    if (r.value !== null && r.value !== undefined && !Number.isNaN(r.value)) {
      el.append(s("rect", { x: x(min), y: y + 4, width: Math.max(0, x(r.value) - x(min)),
        height: rowH - 8, fill: c, class: "bar" }, s("title", {}, `${r.label}: ${fmt(r.value)}`)));
      if (r.lo !== undefined && r.lo !== null && r.hi !== undefined && r.hi !== null) {
        el.append(s("line", { x1: x(r.lo), x2: x(r.hi), y1: cy, y2: cy, class: "whisker" }),
          s("line", { x1: x(r.lo), x2: x(r.lo), y1: cy - 5, y2: cy + 5, class: "whisker" }),
          s("line", { x1: x(r.hi), x2: x(r.hi), y1: cy - 5, y2: cy + 5, class: "whisker" }));
      }
      el.append(s("text", { x: width - valueW + 8, y: cy + 4, class: "value" },
        r.note ?? fmt(r.value)));
    }
    y += rowH;
  });
  if (reference) {
    el.append(s("line", { x1: x(reference.value), x2: x(reference.value), y1: 6,
      y2: height - 22, class: "reference" }),
    s("text", { x: x(reference.value) + 4, y: 12, class: "reference-label" }, reference.label));
  }
  return el;
}

/**
 * Intervals around zero (paired differences): rows [{label, value, lo, hi}].
 */
export function intervals(rows, { title, fmt = String, width = 640 } = {}) {
  const labelW = 170;
  const valueW = 190;
  const rowH = 28;
  const height = 20 + rows.length * rowH + 24;
  const ext = Math.max(1e-9, ...rows.flatMap((r) => [Math.abs(r.lo), Math.abs(r.hi)]));
  const plotW = width - labelW - valueW;
  const x = (v) => labelW + ((v + ext * 1.1) / (ext * 2.2)) * plotW;
  const el = svg(width, height, title, "intervals");
  for (const t of ticks(-ext * 1.1, ext * 1.1, 4)) {
    el.append(s("line", { x1: x(t), x2: x(t), y1: 6, y2: height - 22, class: "grid" }),
      s("text", { x: x(t), y: height - 6, class: "tick", "text-anchor": "middle" }, fmt(t)));
  }
  el.append(s("line", { x1: x(0), x2: x(0), y1: 6, y2: height - 22, class: "reference" }));
  rows.forEach((r, i) => {
    const cy = 14 + i * rowH + rowH / 2;
    const c = r.hi < 0 ? "#c23b3b" : r.lo > 0 ? "#3a9b5c" : "#5f6b7a";
    el.append(s("text", { x: labelW - 8, y: cy + 4, "text-anchor": "end", class: "label" },
      r.label),
    s("line", { x1: x(r.lo), x2: x(r.hi), y1: cy, y2: cy, stroke: c, "stroke-width": 3 }),
    s("circle", { cx: x(r.value), cy, r: 5, fill: c },
      s("title", {}, `${r.label}: ${fmt(r.value)} [${fmt(r.lo)}, ${fmt(r.hi)}]`)),
    s("text", { x: width - valueW + 8, y: cy + 4, class: "value" },
      `${fmt(r.value)} [${fmt(r.lo)}, ${fmt(r.hi)}]`));
  });
  return el;
}

/**
 * Lines over an x axis, each with an optional band: series [{name, colour, points: [{x, y,
 * lo?, hi?}], dashed?, line? (false: dots only), dots? (false: line only)}]. opts: {title, xLabel, yLabel, xFmt, yFmt, yMin, yMax, hline}.
 */
export function lines(series, { title, xFmt = String, yFmt = String, yMin, yMax, hline,
  width = 640, height = 300, xTicks } = {}) {
  const m = { l: 78, r: 34, t: 18, b: 40 };
  const all = series.flatMap((se) => se.points);
  const xs = all.map((p) => p.x);
  const ys = all.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]);
  if (hline) ys.push(hline.value);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const lo = yMin ?? Math.min(0, ...ys);
  const hi = yMax ?? Math.max(...ys) * 1.05;
  const X = (v) => m.l + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (width - m.l - m.r);
  const Y = (v) => height - m.b - ((v - lo) / (hi - lo || 1)) * (height - m.t - m.b);
  const el = svg(width, height, title, "lines");
  for (const t of ticks(lo, hi, 5)) {
    el.append(s("line", { x1: m.l, x2: width - m.r, y1: Y(t), y2: Y(t), class: "grid" }),
      s("text", { x: m.l - 6, y: Y(t) + 4, class: "tick", "text-anchor": "end" }, yFmt(t)));
  }
  for (const t of xTicks || [...new Set(xs)].sort((a, b) => a - b)) {
    el.append(s("text", { x: X(t), y: height - m.b + 16, class: "tick",
      "text-anchor": "middle" }, xFmt(t)));
  }
  el.append(s("line", { x1: m.l, x2: width - m.r, y1: Y(lo), y2: Y(lo), class: "axis" }));
  series.forEach((se, i) => {
    const c = se.colour || colour(i);
    const pts = [...se.points].sort((a, b) => a.x - b.x);
    if (pts.some((p) => p.lo !== undefined && p.lo !== null)) {
      const band = pts.filter((p) => p.lo !== null && p.lo !== undefined);
      const d = `${band.map((p, k) => `${k ? "L" : "M"}${X(p.x)},${Y(p.hi)}`).join("")}${
        [...band].reverse().map((p) => `L${X(p.x)},${Y(p.lo)}`).join("")}Z`;
      el.append(s("path", { d, fill: c, class: "band" }));
    }
    const d = pts.map((p, k) => `${k ? "L" : "M"}${X(p.x)},${Y(p.y)}`).join("");
    if (se.line !== false) el.append(s("path", { d, stroke: c, class: se.dashed ? "line dashed" : "line" }));
    for (const p of pts) {
      el.append(s("circle", { cx: X(p.x), cy: Y(p.y), r: se.dots === false ? 0 : 3.5, fill: c,
        "data-series": se.name },
        s("title", {}, `${se.name}, ${xFmt(p.x)}: ${yFmt(p.y)}${
          p.lo !== undefined && p.lo !== null ? ` [${yFmt(p.lo)}, ${yFmt(p.hi)}]` : ""}`)));
    }
  });
  if (hline) {
    el.append(s("line", { x1: m.l, x2: width - m.r, y1: Y(hline.value), y2: Y(hline.value),
      class: "reference" }),
    s("text", { x: width - m.r - 4, y: Y(hline.value) - 5, "text-anchor": "end",
      class: "reference-label" }, hline.label));
  }
  return el;
}

/** A legend: [{name, colour}]. */
export function legend(items) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  for (const it of items) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = it.colour;
    li.append(sw, document.createTextNode(it.name));
    ul.append(li);
  }
  return ul;
}

/**
 * A map of points from coordinates (no tiles): equirectangular, x scaled by cos(mean lat).
 * points: [{lat, lon, colour, r?, label, shape?: "rep"}]. Reps are drawn as outlined squares.
 */
export function scatterMap(points, { title, width = 640, height = 420, highlight } = {}) {
  const el = svg(width, height, title, "map");
  const ok = points.filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lon));
  if (!ok.length) {
    el.append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle" },
      "no coordinates to draw"));
    return el;
  }
  const lat0 = ok.reduce((a, p) => a + p.lat, 0) / ok.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const px = ok.map((p) => p.lon * k);
  const py = ok.map((p) => p.lat);
  const [minX, maxX, minY, maxY] = [Math.min(...px), Math.max(...px), Math.min(...py),
    Math.max(...py)];
  const pad = 16;
  const scale = Math.min((width - 2 * pad) / (maxX - minX || 1),
    (height - 2 * pad) / (maxY - minY || 1));
  const ox = (width - (maxX - minX) * scale) / 2;
  const oy = (height - (maxY - minY) * scale) / 2;
  const X = (lon) => ox + (lon * k - minX) * scale;
  const Y = (lat) => height - oy - (lat - minY) * scale;
  el.append(s("rect", { x: 0, y: 0, width, height, class: "map-bg" }));
  const reps = ok.filter((p) => p.shape === "rep");
  for (const p of ok.filter((q) => q.shape !== "rep")) {
    const hl = highlight && highlight(p);
    el.append(s("circle", { cx: X(p.lon), cy: Y(p.lat), r: p.r ?? 4, fill: p.colour,
      class: hl ? "pt hl" : "pt", "data-id": p.id }, s("title", {}, p.label)));
  }
  for (const p of reps) {
    el.append(s("rect", { x: X(p.lon) - 6, y: Y(p.lat) - 6, width: 12, height: 12,
      fill: p.colour, class: "rep-mark" }, s("title", {}, p.label)));
  }
  return el;
}

/**
 * A histogram of values (one per replication), bins of equal width, with an optional
 * reference line (the target): bins left of it in `below`, right of it in `above`.
 * opts: {title, fmt, reference: {value, label}, bins (default: Sturges' rule, 8-30)}.
 */
export function histogram(values, { title, fmt = String, reference, bins, width = 640,
  height = 260, below = "#c9a227", above = "#2f6fb0" } = {}) {
  const m = { l: 48, r: 20, t: 22, b: 40 };
  const el = svg(width, height, title, "histogram");
  const ok = values.filter(Number.isFinite);
  if (!ok.length) return el;
  let lo = Math.min(...ok);
  let hi = Math.max(...ok);
  if (reference) { lo = Math.min(lo, reference.value); hi = Math.max(hi, reference.value); }
  if (hi === lo) { hi = lo + 1; }
  const n = bins ?? Math.max(8, Math.min(30, Math.ceil(Math.log2(ok.length) + 1)));
  const w = (hi - lo) / n;
  const counts = new Array(n).fill(0);
  for (const v of ok) counts[Math.min(n - 1, Math.floor((v - lo) / w))] += 1;
  const top = Math.max(...counts);
  const X = (v) => m.l + ((v - lo) / (hi - lo)) * (width - m.l - m.r);
  const Y = (c) => height - m.b - (c / top) * (height - m.t - m.b);
  for (const t of ticks(0, top, 4).filter(Number.isInteger)) { // counts: whole ticks only
    el.append(s("line", { x1: m.l, x2: width - m.r, y1: Y(t), y2: Y(t), class: "grid" }),
      s("text", { x: m.l - 6, y: Y(t) + 4, class: "tick", "text-anchor": "end" }, String(t)));
  }
  counts.forEach((c, i) => {
    const a = lo + i * w;
    const mid = a + w / 2;
    const fill = reference && mid < reference.value ? below : above;
    el.append(s("rect", { x: X(a) + 0.5, y: Y(c), width: Math.max(0, X(a + w) - X(a) - 1),
      height: Y(0) - Y(c), fill, class: "bin", "data-count": c },
    s("title", {}, `${fmt(a)}–${fmt(a + w)}: ${c} of ${ok.length}`)));
  });
  for (const t of ticks(lo, hi, 5)) {
    el.append(s("text", { x: X(t), y: height - m.b + 16, class: "tick", "text-anchor": "middle" },
      fmt(t)));
  }
  el.append(s("line", { x1: m.l, x2: width - m.r, y1: Y(0), y2: Y(0), class: "axis" }));
  if (reference) {
    el.append(s("line", { x1: X(reference.value), x2: X(reference.value), y1: m.t - 8,
      y2: Y(0), class: "reference" }),
    s("text", { x: X(reference.value) + 4, y: m.t - 10, class: "reference-label" }, reference.label));
  }
  return el;
}
