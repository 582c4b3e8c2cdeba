// Modularity Lab's browser view: the runs, run, sweep and compare pages. Read-only; live
// through Server-Sent Events. Loaded by index.html (no inline script: the page's CSP).
"use strict";

const METRIC_KEYS = ["collapse_avg", "collapse_worst", "alignment", "adaptation", "inverse_mi"];
const STATE_WORDS = { running: "running", paused: "paused", finished: "finished", stopped: "stopped", failed: "failed", damaged: "damaged", created: "not started" };

const main = document.getElementById("main");
const crumbs = document.getElementById("crumbs");
const liveBadge = document.getElementById("live");
let pageCleanup = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  return e;
}

async function getJson(url) {
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) {
    let reason = r.statusText;
    try { reason = (await r.json()).reason || reason; } catch (e) { /* not JSON */ }
    throw new Error(`${r.status}: ${reason}`);
  }
  return r.json();
}

function runPath(id) { return id.split("/").map(encodeURIComponent).join("/"); }
function isDark() { return document.documentElement.dataset.theme === "dark"; }
function modelColor(m) { return isDark() ? m.darkColor : m.color; }
function modelTextColor(m) { return isDark() ? m.darkTextColor : m.textColor; }

function showError(message) {
  main.textContent = "";
  main.appendChild(el("div", { class: "card error", role: "alert" }, el("h2", {}, "Cannot show this page"), el("p", {}, message)));
}

function stateBadge(state) {
  return el("span", { class: `state state-${state}`, "data-state": state }, STATE_WORDS[state] || state);
}

function downloads(name, getSvgs, csvUrl) {
  return el("span", { class: "downloads" },
    el("button", { type: "button", title: "Download this chart as PNG (2x)", onclick: () => downloadPng(getSvgs(), name) }, "PNG"),
    el("button", { type: "button", title: "Download this chart as SVG", onclick: () => downloadSvg(getSvgs(), name) }, "SVG"),
    csvUrl ? el("a", { class: "button", href: csvUrl, download: `${name}.csv`, title: "The data behind this chart, as the app exports it", "data-csv": name }, "CSV") : null);
}

function card(title, tools, ...body) {
  return el("section", { class: "card" }, el("div", { class: "card-head" }, el("h2", {}, title), tools), ...body);
}

// ---- Theme and text size: chosen in the bar, remembered, or given in the address.
function applyPreferences() {
  const q = new URLSearchParams(location.search);
  const theme = q.get("theme") || localStorage.getItem("modlab-theme") || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const scale = parseFloat(q.get("scale") || localStorage.getItem("modlab-scale") || "1");
  document.documentElement.dataset.theme = theme === "dark" ? "dark" : "light";
  document.documentElement.style.fontSize = `${16 * Math.min(2.5, Math.max(0.75, scale || 1))}px`;
  document.getElementById("themeButton").textContent = theme === "dark" ? "Light" : "Dark";
  document.getElementById("scaleSelect").value = String(scale);
}

document.getElementById("themeButton").addEventListener("click", () => {
  localStorage.setItem("modlab-theme", isDark() ? "light" : "dark");
  const q = new URLSearchParams(location.search); q.delete("theme");
  history.replaceState(null, "", location.pathname + (q.toString() ? `?${q}` : ""));
  applyPreferences();
  rerender();
});
document.getElementById("scaleSelect").addEventListener("change", (e) => {
  localStorage.setItem("modlab-scale", e.target.value);
  const q = new URLSearchParams(location.search); q.delete("scale");
  history.replaceState(null, "", location.pathname + (q.toString() ? `?${q}` : ""));
  applyPreferences();
  rerender();
});
let rerender = () => {};
let resizeTimer = null;
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => rerender(), 150); });

// ---- The runs page.
async function runsPage() {
  crumbs.textContent = "";
  const data = await getJson("/api/runs");
  document.title = `${data.title} – Modularity Lab`;
  let sortKey = "name", ascending = true, filter = "";
  const selected = new Set();
  const columns = [
    ["name", "Run"], ["setting", "Setting"], ["task", "Task"], ["rules", "R"], ["models", "Models"],
    ["state", "State"], ["steps", "Steps"], ["final", "Final (last evaluation)"]];
  const value = (r, k) => k === "state" ? r.status.state : k === "steps" ? r.status.step : k === "models" ? r.models.join(", ") : k === "final" ? JSON.stringify(r.final) : r[k === "name" ? "id" : k];
  const tableBox = el("div", { class: "table-box" });
  const compareButton = el("a", { class: "button", href: "#", "aria-disabled": "true" }, "Compare selected");
  const draw = () => {
    const rows = data.runs.filter((r) => !filter || JSON.stringify([r.id, r.setting, r.task, r.models, r.status.state]).toLowerCase().includes(filter));
    rows.sort((a, b) => {
      const x = value(a, sortKey), y = value(b, sortKey);
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return ascending ? c : -c;
    });
    const head = el("tr", {}, el("th", {}, ""), columns.map(([k, label]) => el("th", {
      class: "sortable", "aria-sort": k === sortKey ? (ascending ? "ascending" : "descending") : "none", tabindex: 0,
      onclick: () => { ascending = sortKey === k ? !ascending : true; sortKey = k; draw(); } }, label, k === sortKey ? (ascending ? " ▲" : " ▼") : "")));
    const body = rows.map((r) => el("tr", { "data-run": r.id },
      el("td", {}, el("input", { type: "checkbox", "aria-label": `select ${r.id}`, checked: selected.has(r.id), onchange: (e) => { e.target.checked ? selected.add(r.id) : selected.delete(r.id); updateCompare(); } })),
      el("td", {}, el("a", { href: `/run/${runPath(r.id)}` }, r.id)),
      el("td", { "data-label": "Setting" }, r.setting), el("td", { "data-label": "Task" }, r.task), el("td", { class: "num", "data-label": "R" }, r.rules),
      el("td", { "data-label": "Models" }, r.models.join(", ")),
      el("td", {}, stateBadge(r.status.state), r.status.error ? el("div", { class: "small" }, r.status.error) : null),
      el("td", { class: "num", "data-label": "Steps" }, `${formatStep(r.status.step)} / ${formatStep(r.status.totalSteps)}`),
      el("td", { class: "final" }, r.models.filter((m) => r.final[m]).map((m) => [m, r.final[m]]).map(([m, f]) => el("div", {},
        el("b", {}, m), `: ID ${formatNumber(f.id)}, OoD ${formatNumber(f.ood)}`,
        f.metrics ? `, Align ${formatNumber(f.metrics[2])}, C-Avg ${formatNumber(f.metrics[0])}` : "")))));
    tableBox.textContent = "";
    tableBox.appendChild(el("table", { class: "runs", "data-testid": "runs-table" }, el("thead", {}, head), el("tbody", {}, body)));
    if (!rows.length) tableBox.appendChild(el("p", { class: "muted" }, data.runs.length ? "No run matches the filter." : "No runs in this folder yet."));
  };
  const updateCompare = () => {
    const ids = [...selected];
    compareButton.setAttribute("aria-disabled", ids.length ? "false" : "true");
    compareButton.href = ids.length ? `/compare?${ids.map((id) => `run=${encodeURIComponent(id)}`).join("&")}` : "#";
  };
  main.textContent = "";
  if (data.sweeps.length)
    main.appendChild(card("Sweeps", null, el("ul", {}, data.sweeps.map((s) => el("li", {}, el("a", { href: `/sweep/${runPath(s)}` }, s))))));
  main.appendChild(card(`Runs in ${data.title}`, el("span", { class: "tools" },
    el("input", { type: "search", placeholder: "Filter", "aria-label": "Filter runs", oninput: (e) => { filter = e.target.value.toLowerCase(); draw(); } }),
    compareButton), tableBox));
  draw();
  rerender = draw;
  const timer = setInterval(async () => {
    try { Object.assign(data, await getJson("/api/runs")); draw(); } catch (e) { /* the server is gone: keep what is shown */ }
  }, 5000);
  pageCleanup.push(() => clearInterval(timer));
}

// ---- The run page.
function emaContinue(model, points, smoothing) {
  // TensorBoard's bias-corrected EMA (the app's), continued from the server's state.
  const out = [];
  let [value, weight] = model.emaState;
  for (const [x, y] of points) {
    value = smoothing * value + (1 - smoothing) * y;
    weight = smoothing * weight + (1 - smoothing);
    out.push([x, value / weight]);
  }
  model.emaState = [value, weight];
  return out;
}

async function runPage(id) {
  const q = new URLSearchParams(location.search);
  const state = {
    smoothing: parseFloat(q.get("smoothing") || localStorage.getItem("modlab-smoothing") || "0.6"),
    logY: (q.get("log") || localStorage.getItem("modlab-logy") || "1") === "1",
    hungarian: (localStorage.getItem("modlab-hungarian") || "1") === "1",
    hidden: new Set(), shown: -1, metric: 2, playing: null,
  };
  let run = null, source = null;
  crumbs.textContent = "";
  crumbs.appendChild(el("a", { href: "/" }, "runs"));
  crumbs.appendChild(document.createTextNode(` / ${id}`));

  const header = el("div", { class: "run-head" });
  const lossBox = el("div", { class: "chart-box" }), evalBox = el("div", { class: "chart-box" });
  const legend = el("div", { class: "legend", role: "group", "aria-label": "Models: click to hide or show" });
  const heatBox = el("div", { class: "heatmaps", "data-testid": "heatmaps" });
  const heatInfo = el("div", { class: "small" });
  const timeline = el("input", { type: "range", min: 0, max: 0, value: 0, "aria-label": "Evaluation shown", class: "timeline" });
  const playButton = el("button", { type: "button", title: "Play the heatmaps and metrics through training" }, "Play");
  const barsBox = el("div", { class: "chart-box" }), historyBox = el("div", { class: "chart-box" });
  const metricSelect = el("select", { "aria-label": "Metric" });
  const smoothInput = el("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: state.smoothing, "aria-label": "Smoothing" });
  const smoothValue = el("span", { class: "small" }, state.smoothing.toFixed(2));
  const logInput = el("input", { type: "checkbox", checked: state.logY, id: "logy" });
  const hungarianInput = el("input", { type: "checkbox", checked: state.hungarian, id: "hungarian" });
  const base = `/api/run/${runPath(id)}`;

  main.textContent = "";
  main.appendChild(header);
  main.appendChild(card("Loss and error", el("span", { class: "tools" },
    el("label", {}, "Smoothing ", smoothInput, smoothValue), el("label", {}, logInput, " log y"),
    downloads("loss-chart", () => [...lossBox.querySelectorAll("svg"), ...evalBox.querySelectorAll("svg")], `${base}/loss.csv`)),
    legend, el("div", { class: "pair" }, lossBox, evalBox)));
  main.appendChild(card("p(module | rule)", el("span", { class: "tools" },
    el("label", {}, hungarianInput, " Hungarian order"),
    downloads("heatmaps", () => [...heatBox.querySelectorAll("svg")], null)),
    el("div", { class: "timeline-row" }, playButton, timeline, heatInfo), heatBox));
  const heatCsv = el("a", { class: "button", href: `${base}/heatmaps.csv`, download: "heatmaps.csv", "data-csv": "heatmaps" }, "CSV");
  heatBox.parentElement.querySelector(".downloads").appendChild(heatCsv);
  main.appendChild(card("Specialisation metrics", el("span", { class: "tools" },
    downloads("metrics", () => [...barsBox.querySelectorAll("svg")], `${base}/metrics.csv?evaluation=0`)), barsBox,
    el("p", { class: "small muted" }, "Dashed: uniform-random routing; dotted: total collapse onto one module (analytic, for this R). Lower is better for every metric.")));
  main.appendChild(card("Metric history", el("span", { class: "tools" }, metricSelect,
    downloads("metrics-history", () => [...historyBox.querySelectorAll("svg")], `${base}/metrics.csv`)), historyBox));
  historyBox.parentElement.querySelector("a[data-csv]").setAttribute("download", "metrics-history.csv");

  const models = () => run.models;
  const evaluationShown = () => (state.shown < 0 || state.shown >= run.evaluations.length ? run.evaluations.length - 1 : state.shown);

  const drawHeader = () => {
    const s = run.run.status;
    const pct = s.totalSteps ? Math.min(100, (100 * s.step) / s.totalSteps) : 0;
    header.textContent = "";
    header.appendChild(el("h1", {}, run.run.experiment, " ", stateBadge(s.state)));
    header.appendChild(el("div", { class: "facts" },
      `${run.run.setting} · ${run.run.task} · R = ${run.run.rules} · size ${run.run.size} · seeds ${run.run.dataSeed}/${run.run.modelSeed}`,
      el("span", { "data-testid": "step" }, ` · step ${formatStep(s.step)} of ${formatStep(s.totalSteps)}`),
      s.state === "running" && s.stepsPerSecond > 0 ? ` · ${formatNumber(s.stepsPerSecond)} steps/s` : "",
      s.device ? ` · ${s.device}` : ""));
    header.appendChild(el("div", { class: "progress", role: "progressbar", "aria-valuenow": pct.toFixed(0), "aria-valuemin": 0, "aria-valuemax": 100 },
      el("div", { class: "progress-fill", "data-pct": pct.toFixed(1) })));
    header.querySelector(".progress-fill").style.width = `${pct}%`;
    if (s.error) header.appendChild(el("p", { class: "error small" }, s.error));
    for (const w of s.warnings || []) header.appendChild(el("p", { class: "warning small" }, w));
  };

  const drawLegend = () => {
    legend.textContent = "";
    for (const m of models()) {
      const off = state.hidden.has(m.name);
      const b = el("button", { type: "button", class: off ? "legend-item off" : "legend-item", "aria-pressed": off ? "false" : "true",
        title: `${m.name}${m.routing ? ` (${m.routing})` : ""}: click to hide or show`,
        onclick: () => { off ? state.hidden.delete(m.name) : state.hidden.add(m.name); drawCharts(); drawLegend(); } },
        el("span", { class: "swatch" }), m.name);
      b.querySelector(".swatch").style.background = modelColor(m);
      legend.appendChild(b);
    }
    legend.appendChild(el("span", { class: "small muted" }, "Evaluation: ID dashed, OoD dotted"));
  };

  const markers = () => {
    const muted = cssVar("--muted");
    const lines = (run.routingChanges || []).map((c) => ({ x: c.step, label: `${c.key} = ${formatNumber(c.value)}`, color: cssVar("--accent"), dash: "6 3", className: "routing-change" }));
    // At most about 80 evaluation ticks: beyond that they would fill the axis.
    const stride = Math.max(1, Math.ceil(run.evaluations.length / 80));
    return lines.concat(run.evaluations.filter((e, i) => i % stride === 0 || i === run.evaluations.length - 1)
      .map((e) => ({ x: e.step, color: muted, tick: true, className: "evaluation-marker" })));
  };

  const drawCharts = () => {
    const xMax = undefined;  // the steps trained so far fill the width (the header shows the plan)
    const cursor = run.evaluations.length ? run.evaluations[evaluationShown()].step : null;
    const jump = (x) => {
      if (!run.evaluations.length) return;
      let best = 0;
      run.evaluations.forEach((e, i) => { if (Math.abs(e.step - x) < Math.abs(run.evaluations[best].step - x)) best = i; });
      state.shown = best === run.evaluations.length - 1 ? -1 : best;
      drawEvaluation();
    };
    const train = [];
    for (const m of models()) {
      if (state.hidden.has(m.name)) continue;
      const smoothing = state.smoothing > 0;
      train.push({ name: m.name, label: smoothing ? `${m.name} (raw)` : m.name, color: modelColor(m), points: m.train, width: 1.1, opacity: smoothing ? 0.25 : 1, noHover: smoothing });
      if (smoothing) train.push({ name: `${m.name} smoothed`, label: m.name, color: modelColor(m), points: m.smoothed, width: 2 });
    }
    const lossSvg = lineChart(lossBox, { title: "Training loss", xLabel: "step", yLabel: "loss", logY: state.logY, series: train, xMin: 0, xMax, vlines: markers(),
                                         cursorX: cursor, onClickX: jump, testId: "loss-chart" });
    lossSvg.setAttribute("data-received", String(models().reduce((n, m) => n + m.points, 0)));  // every point so far, drawn or thinned
    const evalSeries = [];
    for (const m of models()) {
      if (state.hidden.has(m.name)) continue;
      const pick = (which) => run.evaluations.map((e) => { const f = e.families.find((g) => g.model === m.name); return f ? [e.step, f[which].error] : null; }).filter(Boolean);
      evalSeries.push({ name: `${m.name} ID`, color: modelColor(m), points: pick("id"), dash: "6 3", dots: true, width: 1.8 });
      evalSeries.push({ name: `${m.name} OoD`, color: modelColor(m), points: pick("ood"), dash: "2 3", dots: true, width: 1.8 });
    }
    const errorLabel = run.run.task === "regression" ? "L1 error" : "error %";
    lineChart(evalBox, { title: `Evaluation ${errorLabel}`, xLabel: "step", yLabel: errorLabel, logY: state.logY, series: evalSeries, xMin: 0, xMax,
                         vlines: markers().filter((v) => v.className === "routing-change"), cursorX: cursor, onClickX: jump, testId: "eval-chart",
                         empty: "no evaluation yet" });
  };

  const heatCache = new Map();
  const drawHeatmaps = async (index) => {
    if (index < 0) { heatBox.textContent = ""; heatBox.appendChild(el("p", { class: "muted" }, "The heatmaps appear at the first evaluation.")); return; }
    let e = run.evaluations[index];
    if (!e.families.some((f) => f.p)) {
      if (!heatCache.has(index)) heatCache.set(index, await getJson(`${base}/evaluation/${index}`));
      e = heatCache.get(index);
      if (index !== evaluationShown()) return;  // the user moved on
    }
    heatBox.textContent = "";
    const size = Math.min(300, Math.max(150, (heatBox.clientWidth || 600) / Math.max(1, e.families.filter((f) => f.p).length) - 40));
    for (const f of e.families) {
      if (!f.p) continue;
      const m = models().find((x) => x.name === f.model);
      const box = el("div", { class: "heatmap-box" });
      heatBox.appendChild(box);
      heatmap(box, { model: f.model, rules: f.rules, p: f.p, order: state.hungarian ? f.order : null, step: e.step, size, color: m ? modelTextColor(m) : null });
    }
    heatCsv.href = `${base}/heatmaps.csv?evaluation=${index}`;
  };

  const drawBars = (index) => {
    if (index < 0) { barsBox.textContent = "no evaluation yet"; return; }
    const e = run.evaluations[index];
    const withMetrics = e.families.filter((f) => f.hasMetrics);
    const names = run.metricNames;
    const bars = barChart(barsBox, { title: `Metrics at step ${formatStep(e.step)}`, groups: names, shortGroups: ["C-Avg", "C-Worst", "Align", "Adapt", "Inv-MI"], yMax: 1, testId: "metric-bars",
      series: withMetrics.map((f) => { const m = models().find((x) => x.name === f.model); return { name: f.model, color: m ? modelColor(m) : "#888", values: f.metrics }; }),
      references: [{ name: "random routing", color: cssVar("--muted"), dash: "6 3", values: run.references.random },
                   { name: "total collapse", color: "#D55E00", dash: "2 2", values: run.references.collapse }] });
    bars.setAttribute("data-step", String(e.step));
    barsBox.parentElement.querySelector("a[data-csv=metrics]").href = `${base}/metrics.csv?evaluation=${index}`;  // what the bars show
  };

  const drawHistory = () => {
    const k = state.metric;
    const series = models().filter((m) => !state.hidden.has(m.name)).map((m) => ({ name: m.name, color: modelColor(m), dots: true, width: 1.8,
      points: run.evaluations.map((e) => { const f = e.families.find((g) => g.model === m.name && g.hasMetrics); return f ? [e.step, f.metrics[k]] : null; }).filter(Boolean) }))
      .filter((s) => s.points.length);
    const R = run.references;
    lineChart(historyBox, { title: `${run.metricNames[k]} over training`, xLabel: "step", yLabel: run.metricNames[k], series, xMin: 0, yMin: 0, yMax: 1,
      hlines: [{ y: R.random[k], color: cssVar("--muted"), dash: "6 3" }, { y: R.collapse[k], color: "#D55E00", dash: "2 2" }],
      testId: "metric-history", empty: "no evaluation yet", cursorX: run.evaluations.length ? run.evaluations[evaluationShown()].step : null });
  };

  const drawEvaluation = () => {
    const index = evaluationShown();
    timeline.max = Math.max(0, run.evaluations.length - 1);
    timeline.value = Math.max(0, index);
    heatInfo.textContent = index < 0 ? "" : `evaluation ${index + 1} of ${run.evaluations.length}, step ${formatStep(run.evaluations[index].step)}` + (state.shown < 0 ? " (following the latest)" : "");
    drawHeatmaps(index).catch((e) => { heatBox.textContent = String(e.message); });
    drawBars(index);
    drawHistory();
    drawCharts();
  };

  const drawAll = () => { drawHeader(); drawLegend(); drawCharts(); drawEvaluation(); };
  rerender = () => { if (run) drawAll(); };

  metricSelect.addEventListener("change", () => { state.metric = +metricSelect.value; drawHistory(); });
  smoothInput.addEventListener("input", () => { smoothValue.textContent = (+smoothInput.value).toFixed(2); });
  smoothInput.addEventListener("change", () => { state.smoothing = +smoothInput.value; localStorage.setItem("modlab-smoothing", state.smoothing); load(); });
  logInput.addEventListener("change", () => { state.logY = logInput.checked; localStorage.setItem("modlab-logy", state.logY ? "1" : "0"); drawCharts(); });
  hungarianInput.addEventListener("change", () => { state.hungarian = hungarianInput.checked; localStorage.setItem("modlab-hungarian", state.hungarian ? "1" : "0"); drawEvaluation(); });
  timeline.addEventListener("input", () => { state.shown = +timeline.value === run.evaluations.length - 1 ? -1 : +timeline.value; drawEvaluation(); });
  playButton.addEventListener("click", () => {
    if (state.playing) { clearInterval(state.playing); state.playing = null; playButton.textContent = "Play"; return; }
    state.shown = 0;
    playButton.textContent = "Pause";
    state.playing = setInterval(() => {
      if (state.shown < 0 || state.shown >= run.evaluations.length - 1) { clearInterval(state.playing); state.playing = null; playButton.textContent = "Play"; state.shown = -1; }
      else state.shown++;
      drawEvaluation();
    }, 600);
  });

  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; drawHeader(); drawCharts(); if (state.shown < 0) drawEvaluation(); else { timeline.max = run.evaluations.length - 1; } });
  };

  const width = () => Math.round(Math.max(300, lossBox.clientWidth || 800));
  const load = async () => {
    if (source) { source.close(); source = null; }
    run = await getJson(`${base}?width=${width()}&smoothing=${state.smoothing}`);
    for (const m of run.models) m.emaState = m.ema;
    document.title = `${run.run.experiment} – Modularity Lab`;
    metricSelect.textContent = "";
    run.metricNames.forEach((n, i) => metricSelect.appendChild(el("option", { value: i, selected: i === state.metric }, n)));
    drawAll();
    follow();
  };

  const follow = () => {
    const s = run.run.status.state;
    liveBadge.hidden = !(s === "running" || s === "paused" || s === "created");
    source = new EventSource(`${base}/events?train=${run.trainCount}&evaluations=${run.evaluations.length}&generation=${run.generation}`);
    source.addEventListener("update", (evt) => {
      const u = JSON.parse(evt.data);
      const columns = width();
      for (const m of run.models) {
        const added = u.train[m.name];
        if (!added) continue;
        m.train = thinPoints(m.train.concat(added), columns);
        if (run.smoothing > 0) m.smoothed = thinPoints(m.smoothed.concat(emaContinue(m, added, run.smoothing)), columns);
        m.points += added.length;
      }
      for (const e of u.evaluations) {
        // Only the newest evaluation keeps its heatmaps in memory; older ones load on demand.
        if (run.evaluations.length) for (const f of run.evaluations[run.evaluations.length - 1].families) { delete f.p; delete f.order; }
        run.evaluations.push(e);
      }
      run.trainCount = u.trainCount;
      run.routingChanges = u.routingChanges;
      run.run.status = u.status;
      const live = u.status.state === "running" || u.status.state === "paused" || u.status.state === "created";
      liveBadge.hidden = !live;
      document.body.dataset.trainCount = String(run.trainCount);
      schedule();
    });
    source.addEventListener("reset", () => { load().catch((e) => showError(e.message)); });
    source.addEventListener("gone", () => { source.close(); showError("This run is no longer in the served folder."); });
    source.onerror = () => { liveBadge.classList.add("stale"); };
    source.onopen = () => { liveBadge.classList.remove("stale"); };
  };
  pageCleanup.push(() => { if (source) source.close(); if (state.playing) clearInterval(state.playing); liveBadge.hidden = true; });
  await load();
}

// ---- The sweep page: the report's runs table, Fig. 3's ranking and Fig. 7's curves.
async function sweepPage(id) {
  crumbs.textContent = "";
  crumbs.appendChild(el("a", { href: "/" }, "runs"));
  crumbs.appendChild(document.createTextNode(` / sweep ${id}`));
  const data = await getJson(`/api/sweep/${runPath(id)}`);
  document.title = `${data.name} – Modularity Lab`;
  const familyColor = { Monolithic: "#E69F00", Modular: "#0072B2", "Modular-op": "#009E73", "GT-Modular": "#CC79A7" };
  const rankBox = el("div", { class: "chart-box" }), curveBox = el("div", { class: "chart-box" }), tableBox = el("div", { class: "table-box" });
  let filter = "", sortKey = "run", ascending = true;
  const cols = [["run", "Run"], ["model", "Model"], ["setting", "Setting"], ["task", "Task"], ["rules", "R"], ["size", "Size"],
    ["modelSeed", "Seed"], ["parameters", "Parameters"], ["id", "ID"], ["ood", "OoD"], ...data.metricNames.map((n, i) => [`m${i}`, n])];
  const val = (r, k) => k.startsWith("m") && k.length === 2 ? (r.metrics ? r.metrics[+k[1]] : -1) : r[k];
  const drawTable = () => {
    const rows = data.rows.filter((r) => !filter || JSON.stringify(r).toLowerCase().includes(filter));
    rows.sort((a, b) => { const x = val(a, sortKey), y = val(b, sortKey); const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true }); return ascending ? c : -c; });
    tableBox.textContent = "";
    tableBox.appendChild(el("table", { class: "runs", "data-testid": "sweep-table" },
      el("thead", {}, el("tr", {}, cols.map(([k, label]) => el("th", { class: "sortable", tabindex: 0, "aria-sort": k === sortKey ? (ascending ? "ascending" : "descending") : "none",
        onclick: () => { ascending = sortKey === k ? !ascending : true; sortKey = k; drawTable(); } }, label)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, cols.map(([k]) => {
        if (k === "run") return el("td", { "data-label": "Run" }, r.runId ? el("a", { href: `/run/${runPath(r.runId)}` }, r.run) : r.run);
        const v = val(r, k);
        const integer = ["rules", "size", "modelSeed", "parameters"].includes(k);
        return el("td", { class: typeof v === "number" ? "num" : "", "data-label": cols.find((c) => c[0] === k)[1] }, typeof v === "number" ? (v < 0 && k.startsWith("m") ? "–" : integer ? formatStep(v) : formatNumber(v)) : v);
      }))))));
  };
  const drawFigures = () => {
    const fams = Object.keys(familyColor);
    barChart(rankBox, { title: `Fig. 3: best family (wins over ${data.ranking.comparisons} comparisons)`, groups: fams, counts: true,
      yMax: Math.max(1, ...Object.values(data.ranking.wins)),
      series: [{ name: "wins", color: cssVar("--accent"), values: fams.map((f) => data.ranking.wins[f] || 0) }], testId: "ranking" });
    lineChart(curveBox, { title: "Fig. 7: mean ID performance over training", xLabel: "fraction of training", yLabel: "error % / L1", testId: "training-curves",
      series: Object.entries(data.trainingCurves).map(([f, pts]) => ({ name: f, color: familyColor[f] || "#888", points: pts, dots: true })) });
  };
  main.textContent = "";
  main.appendChild(el("div", { class: "run-head" }, el("h1", {}, `Sweep ${data.name}`),
    el("div", { class: "facts" }, `${data.runs} runs · ${data.rows.length} results · ${data.missing.length} without a result yet · ${data.failed.length} failed`)));
  const key = el("div", { class: "legend" }, Object.entries(familyColor).filter(([f]) => data.trainingCurves[f]).map(([f, c]) => {
    const item = el("span", { class: "legend-item" }, el("span", { class: "swatch" }), f);
    item.querySelector(".swatch").style.background = c;
    return item;
  }));
  const r = data.ranking;
  main.appendChild(card("Figures", el("span", { class: "tools" }, downloads("sweep-figures", () => [...rankBox.querySelectorAll("svg"), ...curveBox.querySelectorAll("svg")], null)),
    key, el("div", { class: "pair" }, rankBox, curveBox),
    el("p", { class: "small", "data-testid": "modular-vs-monolithic" },
      `Fig. 3: ${r.ties || 0} of ${r.comparisons} comparisons tied for best. Right: Modular better than Monolithic in ${r.modularWins}, Monolithic better in ${r.monolithicWins}, equal in ${r.modularTies || 0}.`)));
  main.appendChild(card("Results", el("span", { class: "tools" },
    el("input", { type: "search", placeholder: "Filter", "aria-label": "Filter results", oninput: (e) => { filter = e.target.value.toLowerCase(); drawTable(); } }),
    el("a", { class: "button", href: `/api/sweep/${runPath(id)}/report.csv`, download: "report.csv" }, "CSV")), tableBox));
  if (data.failed.length) main.appendChild(card("Failed runs", null, el("ul", {}, data.failed.map((f) => el("li", {}, f)))));
  drawTable();
  drawFigures();
  rerender = () => { drawFigures(); };
}

// ---- The compare page: runs or seed groups overlaid, as the app's Compare window.
async function comparePage() {
  const q = new URLSearchParams(location.search);
  const ids = q.getAll("run");
  crumbs.textContent = "";
  crumbs.appendChild(el("a", { href: "/" }, "runs"));
  crumbs.appendChild(document.createTextNode(" / compare"));
  if (!ids.length) return showError("Choose runs to compare on the runs page.");
  const first = await getJson(`/api/run/${runPath(ids[0])}?width=400`);
  const quantities = [["train_loss", "Training loss"], ["id_error", "ID error"], ["ood_error", "OoD error"], ["id_loss", "ID loss"], ["ood_loss", "OoD loss"],
    ...METRIC_KEYS.map((k, i) => [k, first.metricNames[i]])];
  const quantity = el("select", { "aria-label": "Quantity" }, quantities.map(([k, n]) => el("option", { value: k }, n)));
  const model = el("select", { "aria-label": "Model" }, first.models.map((m) => el("option", { value: m.name }, m.name)));
  const smoothing = el("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: 0.6, "aria-label": "Smoothing" });
  const box = el("div", { class: "chart-box" }), notes = el("div", { class: "small" }), key = el("div", { class: "legend" });
  const palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  let groups = [];
  const csv = () => {
    // As the app's Compare CSV: the smoothing applied (the training loss only) in its own column.
    const applied = quantity.value === "train_loss" ? smoothing.value : 0;
    let out = "model,quantity,group,seeds,step,mean,lower_mean_minus_sd,upper_mean_plus_sd,smoothing\n";
    for (const g of groups) g.mean.forEach((p, i) => { out += `${model.value},${quantity.value},"${g.label}",${g.seeds},${p[0]},${p[1]},${g.lower[i][1]},${g.upper[i][1]},${applied}\n`; });
    return out;
  };
  const draw = () => {
    lineChart(box, { title: `${quantity.selectedOptions[0].text} of ${model.value}`, xLabel: "step", yLabel: quantity.selectedOptions[0].text, logY: quantity.value.endsWith("loss"),
      series: groups.map((g, i) => ({ name: g.label || "all runs", color: palette[i % palette.length], points: g.mean, width: 2 })),
      bands: groups.map((g, i) => ({ color: palette[i % palette.length], lower: g.lower, upper: g.upper })), testId: "compare-chart" });
    key.textContent = "";
    groups.forEach((g, i) => {
      const item = el("span", { class: "legend-item" }, el("span", { class: "swatch" }),
        `${g.label || "all runs"}: mean of ${g.seeds} run${g.seeds === 1 ? "" : "s"}${g.seeds > 1 ? " ± 1 sd" : ""}`);
      item.querySelector(".swatch").style.background = palette[i % palette.length];
      key.appendChild(item);
    });
  };
  const load = async () => {
    const r = await getJson(`/api/compare?${ids.map((id) => `run=${encodeURIComponent(id)}`).join("&")}&model=${encodeURIComponent(model.value)}&quantity=${quantity.value}&smoothing=${smoothing.value}`);
    groups = r.groups;
    notes.textContent = r.skipped.length ? `Left out: ${r.skipped.map((s) => `${s.run} (${s.reason})`).join("; ")}` : "Runs that differ only by seeds are one group: its mean, and a band of one standard deviation.";
    draw();
  };
  main.textContent = "";
  main.appendChild(card(`Compare ${ids.length} runs`, el("span", { class: "tools" }, model, quantity, el("label", {}, "Smoothing ", smoothing),
    el("button", { type: "button", onclick: () => downloadSvg([...box.querySelectorAll("svg")], "comparison") }, "SVG"),
    el("button", { type: "button", onclick: () => downloadPng([...box.querySelectorAll("svg")], "comparison") }, "PNG"),
    el("button", { type: "button", onclick: () => downloadBlob(new Blob([csv()], { type: "text/csv" }), "comparison.csv") }, "CSV")),
    key, box, notes, el("ul", { class: "small" }, ids.map((id) => el("li", {}, el("a", { href: `/run/${runPath(id)}` }, id))))));
  for (const c of [quantity, model, smoothing]) c.addEventListener("change", () => load().catch((e) => showError(e.message)));
  rerender = draw;
  await load();
}

// ---- Routing.
async function route() {
  for (const f of pageCleanup) f();
  pageCleanup = [];
  applyPreferences();
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "run" && parts.length > 1) return await runPage(parts.slice(1).join("/"));
    if (parts[0] === "sweep" && parts.length > 1) return await sweepPage(parts.slice(1).join("/"));
    if (parts[0] === "compare") return await comparePage();
    const info = await getJson("/api/info");
    if (info.kind === "live") return await runPage("live");
    if (info.kind === "run") return await runPage(info.title);
    if (info.kind === "sweep") return await sweepPage(info.title);
    return await runsPage();
  } catch (e) {
    showError(e.message);
  }
}

// The access token travels in a cookie after the first page: drop it from the address bar.
(() => {
  const q = new URLSearchParams(location.search);
  if (q.has("token")) { q.delete("token"); history.replaceState(null, "", location.pathname + (q.toString() ? `?${q}` : "")); }
})();
route();
