// The Paper view: the COMPASS paper's comparison figures redrawn from this
// engine (compass.reproduce, api.Reproduce) for a chip family, with the
// paper's published numbers beside ours. Both come in the engine's JSON
// (the paper's from its paper-figures.json): nothing here holds a number
// of the paper. It runs in a worker of its own, so the playground's runs
// never wait for it and Cancel ends it by terminating that worker; each
// (family, pipeline mode) result is kept, so switching back draws at once.
// The plots are drawn one per animation frame.

import { CancelledError, Engine } from './engine.js';
import { esc, int, num, pct, ratio, si } from './format.js';
import { engineMeta, pipelineNames } from './meta.js';
import { frame, plotWidth } from './render.js';
import {
  CURSOR, PHASES, attachCursor, axisUnit, endLabels, fillSwatch, legendHTML, linear, marker, methodStyle, methodSwatch,
  niceDomain, niceTicks, patternId, stepIndex, svgOpen, xAxis, yAxis,
} from './svg.js';

const $ = (sel, root = document) => root.querySelector(sel);
const fig = (name) => $(`figure[data-plot="paper-${name}"]`);

const view = {
  engine: null, // the paper's worker, started on demand
  results: new Map(), // resultKey(family, pipeline) -> {text, res}
  family: '',
  pipeline: '', // the engine's pipeline mode the figures are costed in
  pipelineNote: '', // a link's unknown pipeline, said once in the status
  running: false,
  token: 0,
  drawToken: 0,
  onState: null, // called with the family whenever the shown family changes
};

function setStatus(state, text) {
  const st = $('#paper-status');
  st.dataset.state = state;
  st.textContent = text;
}

function families() { return engineMeta().paper_families; }

const defaultPipeline = () => pipelineNames()[0];
const resultKey = (family, pipeline) => `${family} ${pipeline}`;

// knownPipeline returns name if the engine has that pipeline mode, else the default.
function knownPipeline(name) { return pipelineNames().includes(name) ? name : defaultPipeline(); }

// keepPipelineInURL names a pipeline other than the default in the Paper
// view's link (pipeline=row), as the playground's links do; the default
// is left out.
function keepPipelineInURL() {
  const q = new URLSearchParams(location.search);
  if (q.get('view') !== 'paper') return;
  q.delete('pipeline');
  if (view.pipeline !== defaultPipeline()) q.set('pipeline', view.pipeline);
  const next = `?${q.toString()}`;
  if (next !== location.search) history.replaceState(null, '', next);
}

// initPaper fills the family and pipeline selects from the engine's
// families and pipeline modes and wires the controls; onState(family,
// pipeline) is told when the shown figures change (the page keeps them in
// the URL). A Paper view link's pipeline=NAME chooses the mode.
export function initPaper(onState) {
  view.onState = onState;
  const sel = $('#paper-family');
  sel.innerHTML = families().map((f) => `<option value="${esc(f.name)}">${esc(f.name)}: chips ${esc(f.chips.join(', '))}</option>`).join('');
  $('#paper-families').innerHTML = families().map((f) => `<li><strong>${esc(f.name)}</strong> (chips ${esc(f.chips.join(', '))}): ${esc(f.summary)}.</li>`).join('');
  const pipe = $('#paper-pipeline');
  pipe.innerHTML = engineMeta().pipelines.map((p) => `<option value="${esc(p.name)}">${esc(p.name)}: ${esc(p.summary)}</option>`).join('');
  const q = new URLSearchParams(location.search);
  view.pipeline = defaultPipeline();
  if (q.get('view') === 'paper' && q.has('pipeline')) {
    const asked = q.get('pipeline');
    view.pipeline = knownPipeline(asked);
    if (asked !== view.pipeline) view.pipelineNote = `pipeline=${asked.slice(0, 40)} in the link is not a pipeline mode of this engine (${pipelineNames().join(', ')}): showing ${view.pipeline}. `;
  }
  pipe.value = view.pipeline;
  sel.addEventListener('change', () => showPaper(sel.value));
  pipe.addEventListener('change', () => { view.pipeline = knownPipeline(pipe.value); showPaper(sel.value); });
  $('#paper-run').addEventListener('click', () => showPaper(sel.value, { again: true }));
  $('#paper-cancel').addEventListener('click', cancelPaper);
  $('select[data-control=reading]', fig('replacement')).addEventListener('change', () => { if (shown()) drawReplacement(shown().res); });
  let lastW = 0;
  let timer = 0;
  new ResizeObserver((entries) => {
    const w = Math.round(entries[0].contentRect.width);
    if (w === lastW || !shown()) return;
    lastW = w;
    clearTimeout(timer);
    timer = setTimeout(() => drawAll(shown().res), 150);
  }).observe($('#paper'));
}

function shown() { return view.results.get(resultKey(view.family, view.pipeline)) || null; }

// knownFamily returns name if the engine has that family, else the default.
export function knownFamily(name) {
  return families().some((f) => f.name === name) ? name : families()[0].name;
}

// showPaper shows a family's figures in the chosen pipeline mode,
// computing them in the worker unless they are known (or opts.again asks
// to compute them anew).
export async function showPaper(family, opts = {}) {
  const asked = family;
  family = knownFamily(family);
  // A family or pipeline a link names but the engine lacks is said, not swapped silently.
  const note = (asked && asked !== family
    ? `family=${asked.slice(0, 40)} in the link is not a chip family of this engine (${families().map((f) => f.name).join(', ')}): showing ${family}. ` : '') +
    (view.pipelineNote || '');
  view.pipelineNote = '';
  const pipeline = view.pipeline;
  const key = resultKey(family, pipeline);
  const what = `Family ${family}, pipeline ${pipeline}`;
  view.family = family;
  $('#paper-family').value = family;
  $('#paper-pipeline').value = pipeline;
  if (view.onState) view.onState(family, pipeline);
  keepPipelineInURL();
  if (!opts.again && view.results.has(key)) {
    window.compassLastPaper = view.results.get(key).text;
    setStatus('done', `${note}${what}: drawn from the engine's result.`);
    await drawAll(view.results.get(key).res);
    return;
  }
  if (view.running) stopWorker();
  const token = ++view.token;
  view.running = true;
  $('#paper-run').disabled = true;
  $('#paper-cancel').disabled = false;
  const progress = $('#paper-progress');
  progress.removeAttribute('value');
  setStatus('running', `Computing the paper's figures on the ${family} chips, pipeline ${pipeline} (the paper's grid with greedy, layerwise and compass)…`);
  if (!view.engine || view.engine.dead) view.engine = new Engine();
  const t0 = performance.now();
  try {
    const req = { family, seed: 1 };
    if (pipeline !== defaultPipeline()) req.pipeline = pipeline;
    const out = await view.engine.json('reproduce', [JSON.stringify(req)], (done, total) => {
      if (token !== view.token) return;
      progress.value = Math.round((100 * done) / total);
      setStatus('running', `Computing the paper's figures on the ${family} chips, pipeline ${pipeline}… ${done} of ${total} configurations done.`);
    });
    if (token !== view.token) return;
    view.results.set(key, { text: out.text, res: out.value });
    window.compassLastPaper = out.text; // for tests: the JSON the view draws
    view.running = false;
    progress.value = 100;
    $('#paper-run').disabled = false;
    $('#paper-cancel').disabled = true;
    await frame();
    if (token !== view.token || view.family !== family || view.pipeline !== pipeline) return;
    await drawAll(out.value);
    if (token !== view.token) return;
    setStatus('done', `${note}${what}: computed in this page in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
  } catch (err) {
    if (token !== view.token || err instanceof CancelledError) return;
    view.running = false;
    progress.value = 0;
    $('#paper-run').disabled = false;
    $('#paper-cancel').disabled = true;
    setStatus('error', `The reproduction failed: ${err.message}`);
  }
}

function stopWorker() {
  if (view.engine) view.engine.terminate();
  view.engine = null;
  view.running = false;
}

function cancelPaper() {
  if (!view.running) return;
  view.token++;
  stopWorker();
  $('#paper-progress').value = 0;
  $('#paper-run').disabled = false;
  $('#paper-cancel').disabled = true;
  setStatus('cancelled', shown() ? 'Cancelled. The plots show the last result.' : 'Cancelled.');
}

// drawAll draws every plot of a result, one per frame.
async function drawAll(res) {
  const token = ++view.drawToken;
  $('#paper-distance').innerHTML = distanceHTML(res);
  for (const draw of [drawRatios, drawBreakdown, drawReplacement, drawThroughput, drawFigures]) {
    await frame();
    if (token !== view.drawToken) return;
    draw(res);
  }
}

function ready(f) { f.dataset.ready = 'true'; }

// The figures of a result by their id (the engine's paper-figures.json).
const figureById = (res, id) => res.figures.find((f) => f.id === id) || null;

// paperRange is a figure's published value as [low, high] (high Infinity
// for a bound "> low").
function paperRange(f) { return [f.low, f.high === undefined || f.high === null ? Infinity : f.high]; }

function figureAttrs(f) {
  return `data-figure="${esc(f.id)}" data-role="${esc(f.role)}" data-ours="${esc(String(f.ours))}" data-paper="${esc(f.paper)}"`;
}

function roleText(f) { return f.role === 'fit' ? 'a fit target' : 'held out (never read by the fit)'; }

function describeFigure(f) {
  return `${f.title}: ours ${figNum(f.ours, f.unit)}, the paper ${paperText(f)} (${f.where}); ${roleText(f)}, distance ${f.distance.toFixed(3)}. Ours is ${f.reading}.`;
}

// paperText is the paper's value in the unit's format ("95.0%–100.0%",
// "2.26×", "> 1×").
function paperText(f) {
  const fmt = (v) => (f.unit === 'fraction' ? pct(v) : f.unit === 'x' ? ratio(v) : num(v));
  const [lo, hi] = paperRange(f);
  if (!Number.isFinite(hi)) return `> ${fmt(lo)}`;
  return hi > lo ? `${fmt(lo)}–${fmt(hi)}` : fmt(lo);
}

function figNum(v, unit) {
  if (unit === 'x') return ratio(v);
  if (unit === 'fraction') return pct(v);
  return `${num(v)} ${unit}`;
}

function distanceHTML(res) {
  return `Held-out distance <strong data-distance="held-out" data-value="${esc(String(res.held_out_distance))}">${res.held_out_distance.toFixed(3)}</strong>` +
    ` and fit distance <strong data-distance="fit" data-value="${esc(String(res.fit_distance))}">${res.fit_distance.toFixed(3)}</strong>` +
    ' (the mean of |ln(ours / paper)| over the held-out figures and over the fit targets; 0 inside the paper\'s range).';
}

// ------------------------------------------------------------------ ratios

// drawRatios: every published ratio (unit "x": throughput and EDP gains)
// except the replacement curve's, ours as a bar from 1 on a log axis and
// the paper's value (or range, or bound) as a black mark beside it.
function drawRatios(res) {
  const f = fig('ratios');
  const figs = res.figures.filter((x) => x.unit === 'x' && !/^replacement-/.test(x.id));
  const width = plotWidth(f);
  const ml = 12;
  const mr = 70;
  const rowH = 40;
  const mt = 8;
  const plotW = Math.max(80, width - ml - mr);
  const H = mt + figs.length * rowH + 40;
  let lo = 1;
  let hi = 1;
  for (const x of figs) {
    const [pl, ph] = paperRange(x);
    lo = Math.min(lo, x.ours, pl);
    hi = Math.max(hi, x.ours, Number.isFinite(ph) ? ph : pl);
  }
  lo = Math.max(1e-3, lo / 1.25);
  hi *= 1.25;
  const lx = (v) => ml + ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotW;
  const ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50].filter((t) => t >= lo && t <= hi);
  const fx = (v) => v.toFixed(1);
  let s = svgOpen(width, H, `The paper's ratios beside this engine's for family ${res.family}`);
  for (const t of ticks) s += `<line class="grid" x1="${fx(lx(t))}" x2="${fx(lx(t))}" y1="${mt}" y2="${mt + figs.length * rowH}"/>`;
  s += `<line class="axis" x1="${fx(lx(1))}" x2="${fx(lx(1))}" y1="${mt}" y2="${mt + figs.length * rowH}" stroke-width="1.5"/>`;
  s += xAxis({ ticks, x: lx, y0: mt + figs.length * rowH, title: 'ratio (log scale; 1 = no gain)', width: ml + plotW, format: (t) => `${t}×` });
  const ours = methodStyle('compass').color;
  figs.forEach((x, i) => {
    const y = mt + i * rowH;
    const [pl, ph] = paperRange(x);
    const bx0 = lx(Math.min(1, x.ours));
    const bx1 = lx(Math.max(1, x.ours));
    s += `<g ${figureAttrs(x)}>`;
    s += `<text class="row-label halo" x="${ml}" y="${y + 11}">${esc(x.title)}</text>`;
    s += `<rect x="${fx(bx0)}" y="${y + 17}" width="${fx(Math.max(1, bx1 - bx0))}" height="12" fill="${ours}"/>`;
    s += `<text class="note" x="${fx(Math.min(bx1 + 4, ml + plotW + 4))}" y="${y + 23}" dy="0.32em">${ratio(x.ours)}</text>`;
    // The paper: a diamond at a value, a bar over a range, an arrow for a bound.
    if (!Number.isFinite(ph)) {
      s += `<path d="M${fx(lx(pl))} ${y + 34}H${fx(Math.min(ml + plotW, lx(pl) + 48))}" stroke="#000" stroke-width="2" marker-end="url(#paper-arrow)"/>`;
    } else if (ph > pl) {
      s += `<rect x="${fx(lx(pl))}" y="${y + 31}" width="${fx(Math.max(2, lx(ph) - lx(pl)))}" height="6" fill="#000"/>`;
    } else {
      s += marker('diamond', lx(pl), y + 34, 4, '#000');
    }
    s += `<text class="note" x="${fx(Math.min((Number.isFinite(ph) ? lx(ph) : lx(pl) + 48) + 7, ml + plotW + 4))}" y="${y + 34}" dy="0.32em">paper ${esc(paperText(x))}</text>`;
    s += '</g>';
  });
  s += '<defs><marker id="paper-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0 0L8 4L0 8Z" fill="#000"/></marker></defs>';
  s += `${CURSOR}</svg>`;
  s += legendHTML([{ label: 'this engine (compass over the baseline)', swatch: fillSwatch(ours) },
    { label: 'the paper (value, range or bound)', swatch: marker('diamond', 11, 7, 4, '#000') }]);
  const body = $('.plot-body', f);
  body.innerHTML = s;
  attachCursor($('svg.chart', body), $('.readout', f), {
    hint: 'Point at a row, or focus the plot and use the arrow keys.',
    first: 0,
    pick(px, py) { const i = Math.floor((py - mt) / rowH); return i >= 0 && i < figs.length ? i : null; },
    step(i, ev) { return stepIndex(i, ev, figs.length); },
    describe(i) { return describeFigure(figs[i]); },
    box(i) { return { x: ml, y: mt + i * rowH + 2, w: plotW, h: rowH - 2 }; },
  });
  ready(f);
}

// --------------------------------------------------------------- breakdown

// drawBreakdown: ResNet18 on chip M at batch 16, one row per method, each
// partition a run of its time split into weight load, write, compute and
// I/O; the paper's figures for this configuration in the note above.
function drawBreakdown(res) {
  const f = fig('breakdown');
  const rows = res.resnet18_m_16;
  const width = plotWidth(f);
  const ml = Math.ceil(14 + 7.6 * Math.max(...rows.map((r) => r.method.length)));
  const mr = 16;
  const mt = 8;
  const rowH = 30;
  const gap = 26;
  const plotW = Math.max(80, width - ml - mr);
  const axisY = mt + rows.length * (rowH + gap);
  const H = axisY + 40;
  const maxT = Math.max(...rows.map((r) => r.latency_s));
  const [d0, d1] = niceDomain(0, maxT);
  const x = linear(d0, d1, ml, ml + plotW);
  const unit = axisUnit(d1, 's');
  const fx = (v) => v.toFixed(2);
  let s = svgOpen(width, H, 'ResNet18 on chip M at batch 16: each method\'s partitions and their time split');
  s += xAxis({ ticks: niceTicks(d0, d1), x, y0: axisY, scale: unit.scale, title: `batch time (${unit.label})`, width: ml + plotW });
  const segs = []; // [row, partition, x0, x1] for the cursor
  rows.forEach((r, ri) => {
    const y = mt + ri * (rowH + gap);
    s += `<g data-method="${esc(r.method)}" data-throughput="${esc(String(r.throughput_per_s))}" data-first-share="${esc(String(r.first_partition_share))}" data-partitions="${r.partitions.length}">`;
    s += `<text class="row-label" x="${ml - 8}" y="${y + rowH / 2}" dy="0.32em" text-anchor="end">${esc(r.method)}</text>`;
    let t = 0;
    r.partitions.forEach((p, pi) => {
      const x0 = x(t);
      let tp = t;
      for (const ph of PHASES) {
        const w = x(tp + p[ph.key]) - x(tp);
        if (w > 0.05) s += `<rect x="${fx(x(tp))}" y="${y}" width="${fx(w)}" height="${rowH}" fill="url(#${patternId('phase', ph.key)})"/>`;
        tp += p[ph.key];
      }
      t += p.time_s;
      segs.push([ri, pi, x0, x(t)]);
      s += `<line x1="${fx(x(t))}" x2="${fx(x(t))}" y1="${y - 2}" y2="${y + rowH + 2}" stroke="#fff" stroke-width="1.5"/>`;
    });
    s += `<text class="note" x="${ml}" y="${y + rowH + 12}">${int(r.partitions.length)} partitions, ${num(r.throughput_per_s)} inferences/s; the first takes ${pct(r.first_partition_share)} of the batch time</text>`;
    s += '</g>';
  });
  s += `${CURSOR}</svg>`;
  s += legendHTML(PHASES.map((ph) => ({ label: ph.label, swatch: fillSwatch(`url(#${patternId('phase', ph.key)})`) })));
  const notes = res.figures.filter((x) => /resnet18-M-16/.test(x.id));
  $('[data-role=paper-breakdown-note]', f).innerHTML = notes.map((x) => `<span ${figureAttrs(x)}>${esc(x.title)}: ours ${figNum(x.ours, x.unit)}, the paper ${esc(paperText(x))}.</span>`).join(' ');
  const body = $('.plot-body', f);
  body.innerHTML = s;
  attachCursor($('svg.chart', body), $('.readout', f), {
    hint: 'Point at a partition, or focus the plot and use the arrow keys.',
    first: 0,
    pick(px, py) {
      const ri = Math.floor((py - mt) / (rowH + gap));
      const k = segs.findIndex((sg) => sg[0] === ri && px >= sg[2] && px <= sg[3]);
      return k >= 0 ? k : null;
    },
    step(k, ev) { return stepIndex(k, ev, segs.length); },
    describe(k) {
      const [ri, pi] = segs[k];
      const r = rows[ri];
      const p = r.partitions[pi];
      const layers = p.first_layer === p.last_layer ? p.first_layer : `${p.first_layer} to ${p.last_layer}`;
      return `${r.method}, partition ${pi + 1} of ${r.partitions.length} (${layers}, ${int(p.crossbars_used)} crossbars): ` +
        `${PHASES.map((ph) => `${ph.label} ${si(p[ph.key], 's')}`).join(', ')}; ${si(p.time_s, 's')} in all, ${pct(p.time_s / r.latency_s)} of the batch time.`;
    },
    box(k) { const [ri, , x0, x1] = segs[k]; return { x: x0, y: mt + ri * (rowH + gap) - 2, w: x1 - x0, h: rowH + 4 }; },
  });
  ready(f);
}

// ------------------------------------------------------------ replacement

// drawReplacement: ResNet18's weight-replacement energy against its MVM
// energy per batch size, one line per chip in the chosen reading, with the
// paper's published range at each batch it gives.
function drawReplacement(res) {
  const f = fig('replacement');
  const reading = $('select[data-control=reading]', f).value;
  const pts = res.replacement_curve;
  const chips = [...new Set(pts.map((p) => p.chip))];
  const batches = [...new Set(pts.map((p) => p.batch))].sort((a, b) => a - b);
  const paper = new Map(); // batch -> figure
  for (const x of res.figures) {
    const m = /^replacement-mvm-b(\d+)$/.exec(x.id);
    if (m) paper.set(Number(m[1]), x);
  }
  const width = plotWidth(f);
  const ml = 56;
  const mr = 70;
  const mt = 12;
  const plotH = 220;
  const H = mt + plotH + 48;
  const plotW = Math.max(80, width - ml - mr);
  const x = linear(0, Math.max(1, batches.length - 1), ml + 14, ml + plotW - 14);
  const vals = pts.map((p) => p[reading]).concat([...paper.values()].flatMap((p) => [p.low, p.high ?? p.low]));
  const [d0, d1] = niceDomain(0, Math.max(...vals));
  const y = linear(d0, d1, mt + plotH, mt);
  const fx = (v) => v.toFixed(1);
  const label = reading === 'ratio' ? 'replacement / MVM energy' : '(replacement + MVM) / MVM energy';
  let s = svgOpen(width, H, `ResNet18: ${label} against batch size`);
  s += yAxis({ ticks: niceTicks(d0, d1), y, x0: ml, x1: ml + plotW, title: label });
  s += xAxis({ ticks: batches.map((_, i) => i), x, y0: mt + plotH, title: 'batch size', width: ml + plotW / 2, format: (i) => String(batches[i]) });
  batches.forEach((b, i) => {
    const p = paper.get(b);
    if (!p) return;
    const hiV = p.high ?? p.low;
    s += `<g ${figureAttrs(p)} data-batch="${b}"><rect x="${fx(x(i) - 5)}" y="${fx(y(hiV))}" width="10" height="${fx(Math.max(2, y(p.low) - y(hiV)))}" fill="#000" fill-opacity=".25" stroke="#000"/></g>`;
  });
  const dashes = ['', '7 4', '2 3'];
  const ends = [];
  chips.forEach((c, ci) => {
    const line = batches.map((b, i) => [x(i), (pts.find((p) => p.chip === c && p.batch === b) || {})[reading]]).filter((q) => Number.isFinite(q[1]));
    const color = methodStyle('compass').color;
    s += `<path d="${line.map((q, i) => `${i ? 'L' : 'M'}${fx(q[0])} ${fx(y(q[1]))}`).join('')}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dashes[ci % dashes.length]}"/>`;
    for (const q of line) s += marker(['circle', 'square', 'triangle'][ci % 3], q[0], y(q[1]), 3.5, color);
    if (line.length) ends.push({ label: `chip ${c}`, y: y(line[line.length - 1][1]) });
  });
  s += endLabels(ends, ml + plotW + 4);
  s += `${CURSOR}</svg>`;
  s += legendHTML([{ label: 'this engine, one line per chip (compass plan)', swatch: methodSwatch('compass') },
    { label: 'the paper\'s range', swatch: fillSwatch('rgba(0,0,0,.25)') }]);
  const body = $('.plot-body', f);
  body.innerHTML = s;
  const step = batches.length > 1 ? x(1) - x(0) : plotW;
  attachCursor($('svg.chart', body), $('.readout', f), {
    hint: 'Point at a batch size, or focus the plot and use the arrow keys.',
    first: 0,
    pick(px) { return Math.min(batches.length - 1, Math.max(0, Math.round((px - x(0)) / step))); },
    step(i, ev) { return stepIndex(i, ev, batches.length); },
    describe(i) {
      const b = batches[i];
      const ours = chips.map((c) => { const p = pts.find((q) => q.chip === c && q.batch === b); return p ? `chip ${c} ${p[reading].toFixed(3)}` : ''; }).filter(Boolean);
      const p = paper.get(b);
      return `Batch ${b}: ${label} ${ours.join(', ')}` + (p ? `; the paper ${paperText(p)} (${roleText(p)}; ours, ${p.reading}, is ${p.ours.toFixed(3)}).` : '.');
    },
    box(i) { return { x: x(i) - step / 2, y: mt, w: step, h: plotH }; },
  });
  ready(f);
}

// -------------------------------------------------------------- throughput

// drawThroughput: the paper's throughput figure, one panel per network:
// every chip and batch with greedy, layerwise and compass side by side,
// and the paper's axis top as a dashed line.
function drawThroughput(res) {
  const f = fig('throughput');
  const width = plotWidth(f);
  const methods = ['greedy', 'layerwise', 'compass'];
  const ml = 60;
  const mr = 10;
  const panelH = 150;
  const headH = 22;
  const footH = 34;
  const plotW = Math.max(120, width - ml - mr);
  const H = res.throughput.length * (headH + panelH + footH);
  const fx = (v) => v.toFixed(1);
  let s = svgOpen(width, H, `The throughput figure for family ${res.family}: each network's bars by chip and batch`);
  const groups = []; // [panel, bar group] for the cursor
  res.throughput.forEach((nt, ni) => {
    const top = ni * (headH + panelH + footH) + headH;
    const axis = figureById(res, `axis-${nt.model}`);
    const maxV = Math.max(nt.tallest, axis ? (axis.high ?? axis.low) : 0);
    const [d0, d1] = niceDomain(0, maxV);
    const y = linear(d0, d1, top + panelH, top);
    const n = nt.bars.length;
    const gw = plotW / n;
    const bw = Math.max(1, (gw - 3) / methods.length);
    s += `<g data-model="${esc(nt.model)}" data-vs-greedy="${esc(String(nt.vs_greedy))}" data-vs-layerwise="${esc(String(nt.vs_layerwise))}" data-tallest="${esc(String(nt.tallest))}">`;
    s += `<text class="row-label" x="${ml}" y="${top - 8}">${esc(nt.model)}: compass ${ratio(nt.vs_greedy)} greedy, ${ratio(nt.vs_layerwise)} layerwise on average</text>`;
    s += yAxis({ ticks: niceTicks(d0, d1, 4), y, x0: ml, x1: ml + plotW, title: 'inferences/s' });
    nt.bars.forEach((b, i) => {
      methods.forEach((m, k) => {
        const v = b[m];
        s += `<rect x="${fx(ml + i * gw + 1.5 + k * bw)}" y="${fx(y(v))}" width="${fx(Math.max(0.5, bw - 0.5))}" height="${fx(Math.max(0, y(0) - y(v)))}" fill="${methodStyle(m).color}"/>`;
      });
      if (i === 0 || b.chip !== nt.bars[i - 1].chip) {
        s += `<text class="tick" x="${fx(ml + i * gw + 2)}" y="${top + panelH + 26}">chip ${esc(b.chip)}</text>`;
        if (i > 0) s += `<line class="axis" x1="${fx(ml + i * gw)}" x2="${fx(ml + i * gw)}" y1="${top}" y2="${top + panelH + 18}"/>`;
      }
      s += `<text class="tick" x="${fx(ml + (i + 0.5) * gw)}" y="${top + panelH + 12}" text-anchor="middle">${b.batch}</text>`;
      groups.push([ni, i, top]);
    });
    if (axis) {
      const ay = y(axis.high ?? axis.low);
      s += `<g ${figureAttrs(axis)}><line x1="${ml}" x2="${ml + plotW}" y1="${fx(ay)}" y2="${fx(ay)}" stroke="#000" stroke-dasharray="5 4"/>` +
        `<text class="note" x="${ml + plotW - 4}" y="${fx(ay - 4)}" text-anchor="end">the paper's axis top ${esc(String(axis.high ?? axis.low))}/s (tallest bar ${esc(axis.paper)}/s)</text></g>`;
    }
    s += '</g>';
  });
  s += `${CURSOR}</svg>`;
  s += legendHTML(methods.map((m) => ({ label: m, swatch: fillSwatch(methodStyle(m).color) })));
  const body = $('.plot-body', f);
  body.innerHTML = s;
  const gw = plotW / Math.max(1, res.throughput[0].bars.length);
  attachCursor($('svg.chart', body), $('.readout', f), {
    hint: 'Point at a group of bars, or focus the plot and use the arrow keys.',
    first: 0,
    pick(px, py) {
      const ni = Math.floor(py / (headH + panelH + footH));
      const i = Math.floor((px - ml) / gw);
      const k = groups.findIndex((g) => g[0] === ni && g[1] === i);
      return k >= 0 ? k : null;
    },
    step(k, ev) { return stepIndex(k, ev, groups.length, res.throughput[0].bars.length); },
    describe(k) {
      const [ni, i] = groups[k];
      const nt = res.throughput[ni];
      const b = nt.bars[i];
      return `${nt.model} on chip ${b.chip} at batch ${b.batch}: ${methods.map((m) => `${m} ${num(b[m])}/s`).join(', ')}; compass ${ratio(b.compass / b.greedy)} greedy and ${ratio(b.compass / b.layerwise)} layerwise.`;
    },
    box(k) { const [, i, top] = groups[k]; return { x: ml + i * gw, y: top, w: gw, h: panelH }; },
  });
  ready(f);
}

// ----------------------------------------------------------------- figures

// drawFigures: every published figure beside ours, as a table.
function drawFigures(res) {
  const f = fig('figures');
  const rows = res.figures.map((x) => `<tr ${figureAttrs(x)}><th scope="row">${esc(x.title)}<small>${esc(x.where)}</small></th>` +
    `<td>${x.role === 'fit' ? 'fit target' : 'held out'}</td><td class="num">${esc(paperText(x))}</td><td class="num">${figNum(x.ours, x.unit)}</td>` +
    `<td class="num">${x.distance.toFixed(3)}</td></tr>`).join('');
  $('.plot-body', f).innerHTML = '<table class="figures"><thead><tr><th scope="col">Figure (where in the paper)</th><th scope="col">Role</th>' +
    `<th scope="col">Paper</th><th scope="col">This engine</th><th scope="col">Distance</th></tr></thead><tbody>${rows}</tbody></table>`;
  ready(f);
}
