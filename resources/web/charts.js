// Modularity Lab's browser view: plain SVG charts (no library, no network). Every colour and
// font is written as an attribute, so a chart serialised to a file looks as it does on screen.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, parent) {
  const el = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function fontPx() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
}

// Ticks at 1, 2, 5 x 10^k covering [lo, hi].
function niceTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * Math.pow(10, e);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  if (out.length > 8) return out.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  return out;
}

function formatNumber(v) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}

// Axis labels: short (1e-4, 0.01, 250).
function formatTick(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) {
    const e = Math.floor(Math.log10(a)), m = v / Math.pow(10, e);
    return `${Math.abs(m - Math.round(m)) < 1e-9 ? Math.round(m) : m.toFixed(1)}e${e}`;
  }
  return String(+v.toPrecision(3));
}

function formatStep(v) {
  return Math.round(v).toLocaleString("en-US");
}

// At most 2 points per column of x (min and max of y): the server's downsampling, for points
// that arrived live.
function thinPoints(points, columns) {
  if (points.length <= 2 * columns) return points;
  const x0 = points[0][0], x1 = points[points.length - 1][0];
  const width = Math.max(1, x1 - x0) / columns;
  const out = [];
  let i = 0;
  while (i < points.length) {
    const col = Math.floor((points[i][0] - x0) / width);
    let lo = i, hi = i, j = i;
    for (; j < points.length && Math.floor((points[j][0] - x0) / width) === col; j++) {
      if (points[j][1] < points[lo][1]) lo = j;
      if (points[j][1] > points[hi][1]) hi = j;
    }
    out.push(points[Math.min(lo, hi)]);
    if (lo !== hi) out.push(points[Math.max(lo, hi)]);
    i = j;
  }
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  return out;
}

// A title's font size: 0.9 of the text's, smaller when that would not fit `room` pixels.
function titleSize(title, room, f) {
  return Math.max(f * 0.6, Math.min(f * 0.9, room / (title.length * 0.6)));
}

// What every chart starts with: an <svg> of the container's width on the panel's colour, with
// its title. Returns the svg, its size, the text size and the theme's colours.
function chartFrame(container, spec, height, pad) {
  container.textContent = "";
  const width = Math.max(260, container.clientWidth || 600);
  const f = fontPx();
  height = spec.height || height(width);
  const text = cssVar("--text"), muted = cssVar("--muted"), grid = cssVar("--grid"), bg = cssVar("--panel");
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": spec.title,
                             "font-family": "DejaVu Sans, sans-serif", "font-size": f * 0.8, class: "chart" }, container);
  if (spec.testId) svg.setAttribute("data-testid", spec.testId);
  svgEl("rect", { x: 0, y: 0, width, height, fill: bg }, svg);
  const p = pad(f);
  svgEl("text", { x: p.left, y: f * 1.2, fill: text, "font-size": titleSize(spec.title, width - p.left - 4, f), "font-weight": "bold" }, svg).textContent = spec.title;
  return { svg, width, height, f, pad: p, text, muted, grid };
}

// A line chart. spec: {title, xLabel, yLabel, logY, series: [{name, color, points, width,
// dash, opacity, dots, hidden, label}], bands: [{color, lower, upper}], vlines: [{x, label,
// color, dash, tick}], hlines: [{y, color, dash}], xMax, cursorX, onClickX, testId}. Returns the <svg>.
function lineChart(container, spec) {
  const { svg, width, height, f, pad, text, muted, grid } = chartFrame(container, spec,
    (w) => Math.round(Math.min(420, Math.max(220, w * 0.5))), (f) => ({ left: f * 4.4, right: f * 1.0, top: f * 2.0, bottom: f * 3.0 }));

  const visible = spec.series.filter((s) => !s.hidden);
  const all = [];
  for (const s of visible) for (const p of s.points) all.push(p);
  for (const b of spec.bands || []) for (const p of b.upper.concat(b.lower)) all.push(p);
  const usable = all.filter((p) => p[1] !== null && isFinite(p[1]) && (!spec.logY || p[1] > 0));
  let x0 = 0, x1 = spec.xMax || 1, y0 = 0, y1 = 1;
  if (usable.length) {
    x0 = Math.min(...usable.map((p) => p[0]));
    x1 = Math.max(spec.xMax || 0, ...usable.map((p) => p[0]));
    y0 = Math.min(...usable.map((p) => p[1]));
    y1 = Math.max(...usable.map((p) => p[1]));
  }
  if (spec.xMin !== undefined) x0 = spec.xMin;
  if (x1 <= x0) x1 = x0 + 1;
  if (spec.logY) {
    if (!(y0 > 0)) { y0 = 1e-3; y1 = 1; }
    if (y1 <= y0) y1 = y0 * 10;
    y0 = y0 / 1.15; y1 = y1 * 1.15;
  } else {
    if (spec.yMin !== undefined) y0 = Math.min(y0, spec.yMin);
    if (spec.yMax !== undefined) y1 = Math.max(y1, spec.yMax);
    if (y1 <= y0) y1 = y0 + 1;
    const m = (y1 - y0) * 0.06; y1 += m; if (spec.yMin === undefined) y0 -= m;
  }
  const W = width - pad.left - pad.right, H = height - pad.top - pad.bottom;
  const sx = (x) => pad.left + ((x - x0) / (x1 - x0)) * W;
  const sy = spec.logY ? (y) => pad.top + H - ((Math.log(y) - Math.log(y0)) / (Math.log(y1) - Math.log(y0))) * H
                       : (y) => pad.top + H - ((y - y0) / (y1 - y0)) * H;

  const axes = svgEl("g", { class: "axes" }, svg);
  const yt = spec.logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  for (const v of yt) {
    svgEl("line", { x1: pad.left, x2: pad.left + W, y1: sy(v), y2: sy(v), stroke: grid, "stroke-width": 1 }, axes);
    svgEl("text", { x: pad.left - f * 0.3, y: sy(v) + f * 0.3, fill: muted, "text-anchor": "end" }, axes).textContent = formatTick(v);
  }
  const xFormat = x1 - x0 < 20 ? formatTick : formatStep;  // fractions of training, or steps
  for (const v of niceTicks(x0, x1, Math.max(2, Math.floor(W / (f * 6))))) {
    svgEl("line", { x1: sx(v), x2: sx(v), y1: pad.top, y2: pad.top + H, stroke: grid, "stroke-width": 1 }, axes);
    svgEl("text", { x: sx(v), y: pad.top + H + f * 1.1, fill: muted, "text-anchor": "middle" }, axes).textContent = xFormat(v);
  }
  svgEl("rect", { x: pad.left, y: pad.top, width: W, height: H, fill: "none", stroke: muted, "stroke-width": 1 }, axes);
  svgEl("text", { x: pad.left + W / 2, y: height - f * 0.5, fill: muted, "text-anchor": "middle" }, axes).textContent = spec.xLabel || "";
  const yl = svgEl("text", { x: f * 0.9, y: pad.top + H / 2, fill: muted, "text-anchor": "middle",
                              transform: `rotate(-90 ${f * 0.9} ${pad.top + H / 2})` }, axes);
  yl.textContent = spec.yLabel || "";

  const plot = svgEl("g", { "clip-path": "none" }, svg);
  for (const b of spec.bands || []) {
    const up = b.upper.filter((p) => isFinite(p[1]) && (!spec.logY || p[1] > 0));
    const lo = b.lower.filter((p) => isFinite(p[1]) && (!spec.logY || p[1] > 0)).slice().reverse();
    if (!up.length) continue;
    const d = up.concat(lo).map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(Math.min(Math.max(p[1], spec.logY ? y0 : -1e300), y1)).toFixed(1)}`).join("") + "Z";
    svgEl("path", { d, fill: b.color, "fill-opacity": 0.18, stroke: "none" }, plot);
  }
  for (const v of spec.vlines || []) {
    if (v.x < x0 || v.x > x1) continue;
    if (v.tick) {  // a short mark on the step axis (evaluations): many of them never hide the curves
      svgEl("line", { x1: sx(v.x), x2: sx(v.x), y1: pad.top + H, y2: pad.top + H - f * 0.45, stroke: v.color || muted, "stroke-width": 1.2,
                      class: v.className || "marker" }, plot);
      continue;
    }
    svgEl("line", { x1: sx(v.x), x2: sx(v.x), y1: pad.top, y2: pad.top + H, stroke: v.color || muted,
                    "stroke-dasharray": v.dash || "4 3", "stroke-width": 1.2, class: v.className || "marker" }, plot);
    if (v.label) svgEl("text", { x: sx(v.x) + 3, y: pad.top + f * 0.9, fill: v.color || muted, "font-size": f * 0.7 }, plot).textContent = v.label;
  }
  const hl = spec.hlines || [];
  const together = hl.length === 2 && Math.abs(hl[0].y - hl[1].y) < 0.02 * (y1 - y0);  // interleaved, both visible
  hl.forEach((h, hi) => {
    if (!isFinite(h.y) || h.y < y0 || h.y > y1) return;
    svgEl("line", { x1: pad.left, x2: pad.left + W, y1: sy(h.y), y2: sy(h.y), stroke: h.color, "stroke-dasharray": together ? "5 5" : h.dash,
                    "stroke-dashoffset": together && hi === 1 ? 5 : null, "stroke-width": 1.5, class: h.className || "reference", "data-value": String(h.y) }, plot);
  });
  let plotted = 0;
  for (const s of visible) {
    const pts = s.points.filter((p) => p[1] !== null && isFinite(p[1]) && (!spec.logY || p[1] > 0));
    if (!pts.length) continue;
    plotted += pts.length;
    if (!s.dotsOnly) {
      const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
      svgEl("path", { d, fill: "none", stroke: s.color, "stroke-width": s.width || 1.6, "stroke-opacity": s.opacity || 1,
                      "stroke-dasharray": s.dash || null, "stroke-linejoin": "round", class: "series", "data-name": s.name,
                      "data-count": pts.length }, plot);
    }
    if (s.dots) for (const p of pts) svgEl("circle", { cx: sx(p[0]), cy: sy(p[1]), r: f * 0.18, fill: s.color }, plot);
  }
  svg.setAttribute("data-points", String(plotted));
  if (spec.cursorX !== undefined && spec.cursorX !== null && spec.cursorX >= x0 && spec.cursorX <= x1)
    svgEl("line", { x1: sx(spec.cursorX), x2: sx(spec.cursorX), y1: pad.top, y2: pad.top + H, stroke: text, "stroke-width": 1, "stroke-opacity": 0.5 }, plot);
  if (!usable.length)
    svgEl("text", { x: pad.left + W / 2, y: pad.top + H / 2, fill: muted, "text-anchor": "middle" }, svg).textContent = spec.empty || "no data yet";

  // Hover: the nearest point of each visible series at the pointer's step.
  const hoverLine = svgEl("line", { y1: pad.top, y2: pad.top + H, stroke: muted, "stroke-width": 1, visibility: "hidden" }, svg);
  const tip = document.createElement("div");
  tip.className = "tooltip";
  tip.hidden = true;
  container.appendChild(tip);
  const pick = (evt) => {
    const r = svg.getBoundingClientRect();
    const px = evt.clientX - r.left;
    if (px < pad.left || px > pad.left + W) return null;
    return x0 + ((px - pad.left) / W) * (x1 - x0);
  };
  svg.addEventListener("pointermove", (evt) => {
    const x = pick(evt);
    if (x === null) { tip.hidden = true; hoverLine.setAttribute("visibility", "hidden"); return; }
    const rows = [];
    let step = null;
    for (const s of visible) {
      if (s.noHover || !s.points.length) continue;
      let best = null;
      for (const p of s.points) if (p[1] !== null && (best === null || Math.abs(p[0] - x) < Math.abs(best[0] - x))) best = p;
      if (!best) continue;
      step = step === null || Math.abs(best[0] - x) < Math.abs(step - x) ? best[0] : step;
      rows.push([s.label || s.name, s.color, best]);
    }
    if (!rows.length) return;
    tip.textContent = "";
    const head = document.createElement("div");
    head.className = "tip-head";
    head.textContent = `step ${formatStep(step)}`;
    tip.appendChild(head);
    for (const [name, color, p] of rows) {
      const line = document.createElement("div");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = color;
      line.appendChild(sw);
      line.appendChild(document.createTextNode(`${name}: ${formatNumber(p[1])}` + (p[0] !== step ? ` (step ${formatStep(p[0])})` : "")));
      tip.appendChild(line);
    }
    tip.hidden = false;
    const rx = evt.clientX - r.left;
    tip.style.left = `${Math.min(rx + 12, width - tip.offsetWidth - 4)}px`;
    tip.style.top = `${Math.max(0, evt.clientY - r.top - tip.offsetHeight - 8)}px`;
    hoverLine.setAttribute("x1", sx(step));
    hoverLine.setAttribute("x2", sx(step));
    hoverLine.setAttribute("visibility", "visible");
  });
  svg.addEventListener("pointerleave", () => { tip.hidden = true; hoverLine.setAttribute("visibility", "hidden"); });
  if (spec.onClickX) svg.addEventListener("click", (evt) => { const x = pick(evt); if (x !== null) spec.onClickX(x); });
  return svg;
}

// Grouped bars: groups (x) of bars (one per series), with reference lines per group.
// spec: {title, groups: [names], series: [{name, color, values}], references: [{name, color,
// dash, values}], yMax, counts (integer ticks), testId}.
function barChart(container, spec) {
  const { svg, width, height, f, pad, text, muted, grid } = chartFrame(container, spec,
    (w) => Math.round(Math.min(380, Math.max(220, w * 0.45))), (f) => ({ left: f * 3.2, right: f * 0.8, top: f * 2.0, bottom: f * 2.4 }));
  const W = width - pad.left - pad.right, H = height - pad.top - pad.bottom;
  const yMax = spec.yMax || 1;
  const sy = (v) => pad.top + H - (Math.max(0, Math.min(v, yMax)) / yMax) * H;
  for (const v of niceTicks(0, yMax, 4).filter((t) => !spec.counts || Number.isInteger(t))) {
    svgEl("line", { x1: pad.left, x2: pad.left + W, y1: sy(v), y2: sy(v), stroke: grid }, svg);
    svgEl("text", { x: pad.left - 4, y: sy(v) + f * 0.3, fill: muted, "text-anchor": "end" }, svg).textContent = formatTick(v);
  }
  const groupW = W / spec.groups.length;
  const n = Math.max(1, spec.series.length);
  const barW = (groupW * 0.75) / n;
  // Narrow groups take the short labels (the app's: C-Avg, Align, ...).
  const longest = Math.max(...spec.groups.map((g) => g.length));
  const labels = spec.shortGroups && longest * f * 0.45 > groupW * 0.95 ? spec.shortGroups : spec.groups;
  spec.groups.forEach((g, gi) => {
    const gx = pad.left + gi * groupW + groupW * 0.125;
    svgEl("text", { x: pad.left + gi * groupW + groupW / 2, y: pad.top + H + f * 1.2, fill: text, "text-anchor": "middle",
                    "font-size": f * 0.75 }, svg).textContent = labels[gi];
    spec.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined || !isFinite(v)) return;
      const bar = svgEl("rect", { x: gx + si * barW, y: sy(v), width: Math.max(1, barW - 2), height: pad.top + H - sy(v), fill: s.color,
                                  class: "bar", "data-model": s.name, "data-metric": g, "data-value": String(v) }, svg);
      svgEl("title", {}, bar).textContent = `${s.name}, ${g}: ${formatNumber(v)}`;
    });
    // References that (nearly) coincide are drawn in interleaved dashes, so both stay visible.
    const refs = spec.references || [];
    const together = refs.length === 2 && Math.abs(refs[0].values[gi] - refs[1].values[gi]) < 0.02 * yMax;
    refs.forEach((r, ri) => {
      const v = r.values[gi];
      if (v === null || !isFinite(v)) return;
      svgEl("line", { x1: gx - 2, x2: gx + groupW * 0.75 + 2, y1: sy(v), y2: sy(v), stroke: r.color, "stroke-width": 2,
                      "stroke-dasharray": together ? "5 5" : r.dash, "stroke-dashoffset": together && ri === 1 ? 5 : null,
                      class: "reference", "data-reference": r.name, "data-value": String(v) }, svg);
    });
  });
  svgEl("rect", { x: pad.left, y: pad.top, width: W, height: H, fill: "none", stroke: muted }, svg);
  return svg;
}

// Matplotlib's viridis, the polynomial fit the app uses (ui/heatmaps/viridis.cpp).
function viridis(t) {
  t = Math.min(1, Math.max(0, t));
  const c = [[0.2777273272234177, 0.005407344544966578, 0.3340998053353061], [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659], [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105], [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832]];
  const rgb = [0, 1, 2].map((i) => {
    let v = c[6][i];
    for (let k = 5; k >= 0; k--) v = c[k][i] + t * v;
    return Math.round(255 * Math.min(1, Math.max(0, v)));
  });
  return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
}

// One model's p(module | rule): R x R cells (rows: rules; columns: modules, in Hungarian order
// when `order` is given: column r shows the module matched to rule r).
function heatmap(container, spec) {
  const R = spec.rules;
  const f = fontPx();
  const side = Math.max(R * 3, Math.min(spec.size || 220, 360));
  const cell = side / R;
  const pad = { left: f * 2.2, top: f * 1.8, bottom: f * 1.8 };
  const width = pad.left + side + f * 0.6, height = pad.top + side + pad.bottom;
  const text = cssVar("--text"), muted = cssVar("--muted"), bg = cssVar("--panel");
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "heatmap",
                             "font-family": "DejaVu Sans, sans-serif", "font-size": f * 0.75, "data-model": spec.model,
                             "data-rules": R, "data-step": spec.step }, container);
  svgEl("rect", { x: 0, y: 0, width, height, fill: bg }, svg);
  svgEl("text", { x: pad.left + side / 2, y: f * 1.2, fill: spec.color || text, "text-anchor": "middle", "font-weight": "bold" }, svg).textContent = spec.model;
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < R; c++) {
      const m = spec.order ? spec.order[c] : c;
      const v = spec.p[r * R + m];
      const rect = svgEl("rect", { x: pad.left + c * cell, y: pad.top + r * cell, width: cell + 0.3, height: cell + 0.3, fill: viridis(v),
                                   class: "cell", "data-rule": r + 1, "data-module": m + 1, "data-value": String(v) }, svg);
      svgEl("title", {}, rect).textContent = `rule ${r + 1}, module ${m + 1}: p = ${v.toFixed(4)}`;
    }
  }
  svgEl("text", { x: pad.left + side / 2, y: pad.top + side + f * 1.2, fill: muted, "text-anchor": "middle" }, svg).textContent =
    spec.order ? "module (Hungarian order)" : "module";
  svgEl("text", { x: f * 0.8, y: pad.top + side / 2, fill: muted, "text-anchor": "middle",
                  transform: `rotate(-90 ${f * 0.8} ${pad.top + side / 2})` }, svg).textContent = "rule";
  return svg;
}

// Downloads: the SVG as it is drawn, a PNG of it at 2x, and CSV from the server.
function downloadBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

function svgText(svgs) {
  // Several SVGs (the heatmaps) side by side in one file.
  const list = Array.isArray(svgs) ? svgs : [svgs];
  if (list.length === 1) {
    const copy = list[0].cloneNode(true);
    return { text: new XMLSerializer().serializeToString(copy), width: +copy.getAttribute("width"), height: +copy.getAttribute("height") };
  }
  let x = 0, h = 0;
  const outer = document.createElementNS(SVGNS, "svg");
  for (const s of list) {
    const copy = s.cloneNode(true);
    copy.setAttribute("x", x);
    outer.appendChild(copy);
    x += +s.getAttribute("width");
    h = Math.max(h, +s.getAttribute("height"));
  }
  outer.setAttribute("width", x);
  outer.setAttribute("height", h);
  return { text: new XMLSerializer().serializeToString(outer), width: x, height: h };
}

function downloadSvg(svgs, name) {
  downloadBlob(new Blob([svgText(svgs).text], { type: "image/svg+xml" }), name + ".svg");
}

function downloadPng(svgs, name) {
  const { text, width, height } = svgText(svgs);
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  img.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = width * 2;
    canvas.height = height * 2;
    const ctx = canvas.getContext("2d");
    ctx.scale(2, 2);
    ctx.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    canvas.toBlob((blob) => downloadBlob(blob, name + ".png"), "image/png");
  };
  img.onerror = () => { URL.revokeObjectURL(url); console.error(`the ${name} chart could not be drawn into a PNG`); };
  img.src = url;
}
