// The result plots. Each draw function builds one SVG (and legend) as a
// string, assigns it with a single innerHTML, and wires the cursor that
// describes what is under the pointer or the keyboard focus. They take
// `view`, the parsed CompileResult with lookup tables added by prepare().

import { bytes, esc, int, num, pct, ratio, si } from './format.js';
import { objective as objectiveMeta } from './meta.js';
import {
  CURSOR, ENERGY, PHASES, UNUSED, attachCursor, axisUnit, cyclic, endLabels, fillSwatch, legendHTML, linear, marker,
  methodStyle, methodSwatch, niceDomain, niceTicks, patternId, stepIndex, svgOpen, xAxis, yAxis,
} from './svg.js';

// prepare adds lookup tables to a parsed CompileResult and the engine's
// comparison of its methods (compass.compare, api.Comparison):
//   unitLayer[u]            the layer holding unit u
//   byMethod[m]             the method's result
//   comparison[m]           the method's speed-ups, EDP gain and gap to the optimum
//   r.unitPart[u]           (per result) the partition holding unit u
export function prepare(res, comparisons) {
  const U = res.units;
  const unitLayer = new Int32Array(U);
  res.layers.forEach((l, i) => unitLayer.fill(i, l.first_unit, l.first_unit + l.units));
  const layerIndex = new Map(res.layers.map((l, i) => [l.name, i]));
  const byMethod = {};
  for (const r of res.results) {
    const unitPart = new Int32Array(U);
    r.partitions.forEach((p, i) => unitPart.fill(i, p.first_unit, p.end_unit));
    r.unitPart = unitPart;
    byMethod[r.method] = r;
  }
  const comparison = Object.fromEntries(comparisons.map((c) => [c.method, c]));
  return { res, unitLayer, layerIndex, byMethod, comparison };
}

function layerText(view, li) {
  const l = view.res.layers[li];
  return `layer ${l.name} (${l.op}, L${li}, units ${l.first_unit}–${l.first_unit + l.units - 1})`;
}

function partText(p, r) {
  const layers = p.first_layer === p.last_layer ? p.first_layer : `${p.first_layer} – ${p.last_layer}`;
  return `partition ${p.index} of ${r.partitions.length} (units ${p.first_unit}–${p.end_unit - 1}, ${layers}; ` +
    `${p.crossbars_used} of ${p.crossbars_available} crossbars)`;
}

// labelWidth is the left margin that fits row labels (12px bold text).
function labelWidth(labels) { return Math.ceil(14 + 7.6 * Math.max(4, ...labels.map((l) => l.length))); }

function setPlot(body, html) { body.innerHTML = html; return body.querySelector('svg.chart'); }

// ---------------------------------------------------------------- summary

// summaryHTML: one card per method with the headline figures; data-value
// holds each raw JSON number (String(x)) for tests and copy-paste.
export function summaryHTML(view) {
  const { res } = view;
  const best = (f, lower) => {
    const vs = res.results.map(f);
    return lower ? Math.min(...vs) : Math.max(...vs);
  };
  const bestThr = best((r) => r.throughput_per_s, false);
  const bestE = best((r) => r.energy_per_inference_j, true);
  const bestEDP = best((r) => r.edp_j_s, true);
  const badge = (on) => (on ? ' <span class="badge">best</span>' : '');
  const field = (name, value, text) => `<dd data-field="${name}" data-value="${esc(String(value))}">${text}</dd>`;
  return res.results.map((r) => {
    const st = methodStyle(r.method);
    const rows = [
      [`Inferences/s${badge(r.throughput_per_s === bestThr)}`, field('throughput_per_s', r.throughput_per_s, num(r.throughput_per_s))],
      [`Energy/inference${badge(r.energy_per_inference_j === bestE)}`, field('energy_per_inference_j', r.energy_per_inference_j, si(r.energy_per_inference_j, 'J'))],
      [`EDP${badge(r.edp_j_s === bestEDP)}`, field('edp_j_s', r.edp_j_s, si(r.edp_j_s, 'J·s'))],
      ['Partitions', field('partitions', r.partitions.length, int(r.partitions.length))],
      ['Batch time', field('latency_s', r.latency_s, si(r.latency_s, 's'))],
      ['DRAM traffic', `<dd data-field="dram_bytes" data-value="${r.dram_bytes_read + r.dram_bytes_written}">` +
        `${bytes(r.dram_bytes_read + r.dram_bytes_written)} <small>(${bytes(r.dram_bytes_read)} read, ${bytes(r.dram_bytes_written)} written` +
        `${r.spill_bytes > 0 ? `; buffers spilled ${bytes(r.spill_bytes)} and read back ${bytes(r.reload_bytes)}` : ''})</small></dd>`],
    ];
    // The comparison is the engine's (the CLI prints the same table).
    const c = view.comparison[r.method] || {};
    if (c.vs_greedy !== undefined) rows.push(['Speed-up vs greedy', field('vs_greedy', c.vs_greedy, ratio(c.vs_greedy))]);
    if (c.vs_layerwise !== undefined) rows.push(['Speed-up vs layerwise', field('vs_layerwise', c.vs_layerwise, ratio(c.vs_layerwise))]);
    if (c.edp_gain_vs_greedy !== undefined) rows.push(['EDP gain vs greedy', field('edp_gain_vs_greedy', c.edp_gain_vs_greedy, ratio(c.edp_gain_vs_greedy))]);
    if (c.gap_to_optimal !== undefined) rows.push([`Gap to optimum (${res.objective})`, field('gap_to_optimal', c.gap_to_optimal, pct(c.gap_to_optimal))]);
    return `<article class="card" data-method="${esc(r.method)}" style="--method:${st.color}">` +
      `<h4><svg width="22" height="14" aria-hidden="true" focusable="false">${methodSwatch(r.method)}</svg>${esc(r.method)}</h4>` +
      `<dl>${rows.map(([k, v], i) => `<div${i >= 4 ? ' class="extra"' : ''}><dt>${k}</dt>${v}</div>`).join('')}</dl></article>`;
  }).join('');
}

// ------------------------------------------------------------------ strip

// drawStrip: units left to right; a row of layers, then one row per shown
// method coloured by partition.
export function drawStrip(body, readout, view, method, width) {
  const { res, unitLayer } = view;
  const U = res.units;
  const results = method === 'all' ? res.results : res.results.filter((r) => r.method === method);
  const ml = labelWidth(results.map((r) => r.method).concat('layers'));
  const mr = 10;
  const layerH = 22;
  const rowH = method === 'all' ? 24 : 34;
  const gap = 6;
  const top = 6;
  const plotW = Math.max(60, width - ml - mr);
  const k = plotW / U;
  const x = (u) => ml + u * k;
  const rowY = (i) => top + layerH + gap + i * (rowH + gap);
  const axisY = rowY(results.length) + 2;
  const H = axisY + 40;
  const f = (v) => v.toFixed(2);
  let s = svgOpen(width, H, `Partition strip of ${res.model}: ${U} units in ${res.layers.length} layers`);
  // Layers: alternating greys, names where they fit.
  s += `<text class="row-label" x="${ml - 8}" y="${top + layerH / 2}" dy="0.32em" text-anchor="end">layers</text>`;
  res.layers.forEach((l, i) => {
    const x0 = x(l.first_unit);
    const w = l.units * k;
    s += `<rect x="${f(x0)}" y="${top}" width="${f(w)}" height="${layerH}" fill="${i % 2 ? '#a8a8a8' : '#d4d4d4'}"/>`;
    if (w > l.name.length * 6.4 + 6) s += `<text class="in-bar" x="${f(x0 + w / 2)}" y="${top + layerH / 2}" dy="0.32em" text-anchor="middle">${esc(l.name)}</text>`;
  });
  // Partitions, one row per method.
  results.forEach((r, ri) => {
    const y0 = rowY(ri);
    s += `<text class="row-label" x="${ml - 8}" y="${y0 + rowH / 2}" dy="0.32em" text-anchor="end">${esc(r.method)}</text>`;
    for (const p of r.partitions) {
      const x0 = x(p.first_unit);
      const w = (p.end_unit - p.first_unit) * k;
      const c = cyclic(p.index);
      // A 1 px gap between partitions marks the cut without relying on colour.
      const gapPx = w >= 3 ? 1 : 0;
      s += `<rect x="${f(x0)}" y="${y0}" width="${f(Math.max(0.4, w - gapPx))}" height="${rowH}" fill="${c.fill}"/>`;
      if (w >= 16) s += `<text class="in-bar" x="${f(x0 + w / 2)}" y="${y0 + rowH / 2}" dy="0.32em" text-anchor="middle" fill="${c.ink}">${p.index}</text>`;
    }
  });
  // Layer boundaries across every row.
  let d = '';
  for (const l of res.layers.slice(1)) d += `M${f(x(l.first_unit))} ${top}V${rowY(results.length) - gap}`;
  s += `<path class="boundary" d="${d}"/>`;
  s += xAxis({ ticks: niceTicks(0, U, Math.max(2, Math.floor(plotW / 80))), x, y0: axisY, title: 'partition unit', width: ml + plotW / 2 });
  s += `${CURSOR}</svg>`;
  const svg = setPlot(body, s);
  const rows = results.length;
  attachCursor(svg, readout, {
    hint: 'Point at the strip, or focus it and use the arrow keys (Page Up/Down jump a partition, Up/Down change row).',
    first: { u: 0, row: 0 },
    pick(px, py) {
      if (px < ml || px > ml + plotW) return null;
      const u = Math.min(U - 1, Math.max(0, Math.floor((px - ml) / k)));
      const row = Math.min(rows - 1, Math.max(0, Math.floor((py - rowY(0) + gap / 2) / (rowH + gap))));
      return { u, row };
    },
    step(key, ev) {
      const c = key || { u: 0, row: 0 };
      const r = results[c.row];
      const p = r.partitions[r.unitPart[c.u]];
      switch (ev.key) {
        case 'ArrowLeft': return { ...c, u: Math.max(0, c.u - 1) };
        case 'ArrowRight': return { ...c, u: Math.min(U - 1, c.u + 1) };
        case 'PageDown': return { ...c, u: Math.min(U - 1, p.end_unit) };
        case 'PageUp': return { ...c, u: p.first_unit === c.u && p.index > 0 ? r.partitions[p.index - 1].first_unit : p.first_unit };
        case 'ArrowUp': return { ...c, row: Math.max(0, c.row - 1) };
        case 'ArrowDown': return { ...c, row: Math.min(rows - 1, c.row + 1) };
        case 'Home': return { ...c, u: 0 };
        case 'End': return { ...c, u: U - 1 };
        default: return null;
      }
    },
    describe({ u, row }) {
      const r = results[row];
      const p = r.partitions[r.unitPart[u]];
      return `Unit ${u} of ${U}: ${layerText(view, unitLayer[u])}. ${r.method}: ${partText(p, r)}.`;
    },
    box({ u, row }) { return { x: x(u), y: rowY(row), w: Math.max(2, k), h: rowH }; },
  });
}

// --------------------------------------------------------------- validity

// ZOOM is the side, in units, of a zoomed window of the validity map.
export const ZOOM = 64;

// zoomWindows lists the zoom choices for a model of `units` units: the whole
// map, then windows of ZOOM units along the diagonal, half overlapping.
export function zoomWindows(units) {
  const out = [{ a0: 0, n: units, label: `all ${units} units` }];
  if (units <= ZOOM * 1.5) return out;
  for (let a0 = 0; ; a0 += ZOOM / 2) {
    const s = Math.min(a0, units - ZOOM);
    out.push({ a0: s, n: ZOOM, label: `units ${s}–${s + ZOOM - 1}` });
    if (s + ZOOM >= units) break;
  }
  return out;
}

// drawValidity: the validity map, start unit a down, end unit b across, over
// the window of units [a0, a0 + n). Row a is valid for b in (a, valid_ends[a]];
// each row is one subpath, so the map costs 2 x rows path segments whatever
// its area.
export function drawValidity(body, readout, view, method, win, width) {
  const { res, unitLayer } = view;
  const N = res.units;
  const E = res.valid_ends;
  const r = view.byMethod[method];
  const { a0, n } = win;
  const a1 = a0 + n;
  const ml = 52;
  const mt = 44;
  const L = Math.max(120, Math.min(width - ml - 16, 620));
  const k = L / n;
  const H = mt + L + 12;
  const f = (v) => v.toFixed(2);
  const px = (b) => ml + (b - a0) * k; // right edge of column b (left edge of column b + 1)
  const py = (a) => mt + (a - a0) * k; // top edge of row a
  let valid = '';
  let invalid = '';
  for (let a = a0; a < a1; a++) {
    const e = Math.min(E[a], a1);
    const y0 = f(py(a));
    const h = f(k);
    if (e > a) valid += `M${f(px(a))} ${y0}h${f((e - a) * k)}v${h}h${f(-(e - a) * k)}z`;
    const from = Math.max(e, a);
    if (from < a1) invalid += `M${f(px(from))} ${y0}h${f((a1 - from) * k)}v${h}h${f(-(a1 - from) * k)}z`;
  }
  const zoomed = n < N;
  let s = svgOpen(width, H, `Validity map of ${res.model} on ${res.chip}: start units ${a0} to ${a1 - 1} by end units ${a0 + 1} to ${a1}`);
  s += `<defs><clipPath id="validity-clip"><rect x="${ml}" y="${mt}" width="${f(L)}" height="${f(L)}"/></clipPath></defs>`;
  s += `<rect x="${ml}" y="${mt}" width="${f(L)}" height="${f(L)}" fill="#fff" stroke="#888"/>`;
  s += `<path d="${invalid}" fill="#ececec" shape-rendering="crispEdges"/>`;
  s += `<path d="${valid}" fill="#8fbfe0" shape-rendering="crispEdges"/>`;
  s += `<path d="M${ml} ${mt}L${f(ml + L)} ${f(mt + L)}" stroke="#888" stroke-dasharray="3 3"/>`;
  // Axes: b along the top, a down the left.
  const ticks = niceTicks(a0, a1, Math.max(2, Math.floor(L / 70)));
  for (const t of ticks) {
    s += `<text class="tick" x="${f(px(t))}" y="${mt - 8}" text-anchor="middle">${t}</text>`;
    s += `<text class="tick" x="${ml - 6}" y="${f(py(t))}" dy="0.32em" text-anchor="end">${t}</text>`;
  }
  s += `<text class="axis-title" x="${f(ml + L / 2)}" y="14" text-anchor="middle">end unit b (exclusive)${zoomed ? ' — zoomed' : ''}</text>`;
  s += `<text class="axis-title" transform="translate(12 ${f(mt + L / 2)}) rotate(-90)" text-anchor="middle">start unit a</text>`;
  // The method's plan: a staircase through the map, a mark per partition.
  const parts = r ? r.partitions.filter((p) => p.first_unit >= a0 && p.end_unit <= a1) : [];
  if (r) {
    const st = methodStyle(r.method);
    let stair = '';
    let marks = '';
    for (const p of r.partitions) {
      if (p.end_unit < a0 || p.first_unit >= a1) continue;
      const cx = px(p.end_unit) - k / 2;
      const cy = py(p.first_unit) + k / 2;
      stair += `M${f(px(p.first_unit) - k / 2)} ${f(cy)}H${f(cx)}V${f(py(p.end_unit) + k / 2)}`;
    }
    for (const p of parts) marks += marker(st.marker, px(p.end_unit) - k / 2, py(p.first_unit) + k / 2, Math.max(3, Math.min(6, k / 2)), st.color);
    s += `<path d="${stair}" fill="none" stroke="#000" stroke-width="1.2" stroke-linejoin="round" opacity="0.75" clip-path="url(#validity-clip)"/>${marks}`;
  }
  s += `${CURSOR}</svg>`;
  s += legendHTML([
    { label: 'valid span (fits the chip)', swatch: fillSwatch('#8fbfe0') },
    { label: 'too big for the chip', swatch: fillSwatch('#ececec') },
    ...(r ? [{ label: `${r.method}'s partitions`, swatch: marker(methodStyle(r.method).marker, 11, 7, 4.5, methodStyle(r.method).color) }] : []),
  ]);
  const svg = setPlot(body, s);
  attachCursor(svg, readout, {
    hint: 'Point at a cell, or focus the map and use the arrow keys to walk the chosen plan\'s partitions.',
    first: parts.length ? { a: parts[0].first_unit, b: parts[0].end_unit, p: 0 } : undefined,
    pick(x, y) {
      if (x < ml || y < mt || x > ml + L || y > mt + L) return null;
      const a = Math.min(a1 - 1, a0 + Math.floor((y - mt) / k));
      const b = Math.min(a1, a0 + Math.floor((x - ml) / k) + 1);
      return { a, b };
    },
    step(key, ev) {
      const i = stepIndex(key && key.p !== undefined ? key.p : null, ev, parts.length, 5);
      return i === null ? null : { a: parts[i].first_unit, b: parts[i].end_unit, p: i };
    },
    describe({ a, b }) {
      const span = `Span [${a}, ${b})`;
      if (b <= a) return `${span}: empty — a partition must end after it starts (below the diagonal).`;
      const n = b - a;
      const layers = unitLayer[a] === unitLayer[b - 1] ? res.layers[unitLayer[a]].name : `${res.layers[unitLayer[a]].name} – ${res.layers[unitLayer[b - 1]].name}`;
      const plan = r ? r.partitions.find((p) => p.first_unit === a && p.end_unit === b) : null;
      const tail = plan ? ` It is ${r.method}'s partition ${plan.index}.` : '';
      if (b <= E[a]) return `${span}: ${n} unit${n > 1 ? 's' : ''} (${layers}) fit the chip together — valid. From unit ${a} a partition can reach unit ${E[a] - 1}.${tail}`;
      return `${span}: ${n} units (${layers}) need more crossbars than the chip has — invalid. The longest valid partition from unit ${a} ends before unit ${E[a]}.`;
    },
    box({ a, b }) {
      const sz = Math.max(k, 5);
      return { x: px(b) - k / 2 - sz / 2, y: py(a) + k / 2 - sz / 2, w: sz, h: sz };
    },
  });
}

// ----------------------------------------------------------------- phases

// drawPhases: per-partition stacked time bars (weight load, write, compute,
// activation I/O); the four add up to the partition's time. mode "share"
// scales every bar to 100% to compare the mix of small partitions too.
export function drawPhases(body, readout, view, method, mode, width) {
  const r = view.byMethod[method];
  const share = mode === 'share';
  const P = r.partitions.length;
  const ml = 64;
  const mr = 12;
  const mt = 12;
  const plotH = 220;
  const H = mt + plotH + 48;
  const plotW = Math.max(60, width - ml - mr);
  const bw = plotW / P;
  const maxT = share ? 1 : Math.max(...r.partitions.map((p) => p.time_s));
  const unit = share ? { scale: 0.01, label: '%' } : axisUnit(maxT, 's');
  const [y0, y1] = share ? [0, 1] : niceDomain(0, maxT);
  const y = linear(y0, y1, mt + plotH, mt);
  const f = (v) => v.toFixed(2);
  let s = svgOpen(width, H, `Time per partition of ${method}: ${P} partitions`);
  s += yAxis({ ticks: niceTicks(y0, y1), y, x0: ml, x1: ml + plotW, scale: unit.scale, title: share ? 'share of partition time (%)' : `time (${unit.label})` });
  const barW = Math.max(0.6, bw * (bw > 4 ? 0.78 : 1));
  for (const p of r.partitions) {
    const bx = ml + p.index * bw + (bw - barW) / 2;
    const k = share ? 1 / p.time_s : 1;
    let acc = 0;
    for (const ph of PHASES) {
      const v = p[ph.key] * k;
      if (!(v > 0)) continue;
      const ya = y(acc + v);
      const yb = y(acc);
      s += `<rect x="${f(bx)}" y="${f(ya)}" width="${f(barW)}" height="${f(Math.max(0, yb - ya))}" fill="url(#${patternId('phase', ph.key)}) ${ph.color}"/>`;
      acc += v;
    }
  }
  const xt = niceTicks(0, P - 1, Math.max(2, Math.floor(plotW / 60))).filter((t) => Number.isInteger(t));
  const xc = (i) => ml + (i + 0.5) * bw;
  s += xAxis({ ticks: xt.length ? xt : [0], x: xc, y0: mt + plotH, title: 'partition', width: ml + plotW / 2 });
  s += `${CURSOR}</svg>`;
  s += legendHTML(PHASES.map((ph) => ({ label: ph.label, swatch: fillSwatch(`url(#${patternId('phase', ph.key)}) ${ph.color}`) })));
  const svg = setPlot(body, s);
  attachCursor(svg, readout, {
    hint: 'Point at a bar, or focus the plot and use the arrow keys to read each partition.',
    first: 0,
    pick(px) { return px < ml || px > ml + plotW ? null : Math.min(P - 1, Math.max(0, Math.floor((px - ml) / bw))); },
    step(i, ev) { return stepIndex(i, ev, P); },
    describe(i) {
      const p = r.partitions[i];
      const parts = PHASES.map((ph) => `${ph.label} ${si(p[ph.key], 's')} (${pct(p[ph.key] / p.time_s)})`).join(', ');
      return `${r.method}, ${partText(p, r)}: ${parts}; total ${si(p.time_s, 's')} ` +
        `(${pct(p.time_s / r.latency_s)} of the batch time). Pipeline bottleneck ${si(p.bottleneck_s, 's')} per input. ` +
        `Per inference: ${bytes(p.load_bytes_per_inference)} loaded, ${bytes(p.store_bytes_per_inference)} stored` +
        (p.spill_bytes_per_inference > 0 ? `; buffers that overflow local memory spill ${bytes(p.spill_bytes_per_inference)} to DRAM and read ${bytes(p.reload_bytes_per_inference)} back.` : '; every buffer fits local memory.');
    },
    box(i) { return { x: ml + i * bw, y: mt, w: Math.max(2, bw), h: plotH }; },
  });
}

// ------------------------------------------------------------ convergence

// logScale maps [d0, d1] (both > 0) onto [r0, r1] logarithmically.
function logScale(d0, d1, r0, r1) {
  const l0 = Math.log10(d0);
  const k = (r1 - r0) / (Math.log10(d1) - l0 || 1);
  return (v) => r0 + (Math.log10(v) - l0) * k;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

// drawConvergence: series = [{method, history, stoppedEarly}], optimum in
// best_score units or null.
export function drawConvergence(body, readout, series, optimum, objective, width) {
  // best_score x to_si is in the objective's SI unit (the engine's meta).
  const score = objectiveMeta(objective).ga_score;
  const sc = { k: score.to_si, unit: score.unit, title: score.title };
  const ml = 64;
  const mr = 56;
  const mt = 14;
  const plotH = 220;
  const H = mt + plotH + 48;
  const plotW = Math.max(60, width - ml - mr);
  const gens = Math.max(1, ...series.map((s) => (s.history.length ? s.history[s.history.length - 1].index : 0)));
  const x = linear(0, gens, ml, ml + plotW);
  let lo = Infinity;
  let hi = -Infinity;
  let maxParts = 1;
  for (const se of series) {
    for (const g of se.history) {
      lo = Math.min(lo, g.best_score);
      hi = Math.max(hi, g.mean_score, g.best_score);
      maxParts = Math.max(maxParts, g.best_partitions);
    }
  }
  if (optimum !== null) { lo = Math.min(lo, optimum); hi = Math.max(hi, optimum); }
  if (!Number.isFinite(lo)) { lo = 1; hi = 2; }
  const toSI = (v) => v * sc.k;
  const unit = axisUnit(toSI(hi), sc.unit);
  // A log axis when the population starts far above the optimum.
  const useLog = lo > 0 && hi / lo > 20;
  let y;
  let ticks;
  if (useLog) {
    y = logScale(lo * 0.9, hi * 1.1, mt + plotH, mt);
    ticks = logTicks(toSI(lo * 0.9), toSI(hi * 1.1)).map((t) => t / sc.k);
  } else {
    const [d0, d1] = niceDomain(toSI(lo) - (toSI(hi) - toSI(lo)) * 0.05, toSI(hi));
    y = linear(d0 / sc.k, d1 / sc.k, mt + plotH, mt);
    ticks = niceTicks(d0, d1).map((t) => t / sc.k);
  }
  const [p0, p1] = niceDomain(0, maxParts);
  const yp = linear(p0, p1, mt + plotH, mt);
  const f = (v) => v.toFixed(1);
  let s = svgOpen(width, H, `GA convergence: ${series.map((se) => se.method).join(' and ')}`);
  s += yAxis({ ticks, y, x0: ml, x1: ml + plotW, scale: unit.scale / sc.k, title: `${sc.title} (${unit.label})${useLog ? ', log' : ''}` });
  s += yAxis({ ticks: niceTicks(p0, p1), y: yp, x0: ml, x1: ml + plotW, side: 'right', grid: false, title: 'partitions (dotted)' });
  s += xAxis({ ticks: niceTicks(0, gens, Math.max(2, Math.floor(plotW / 70))).filter(Number.isInteger), x, y0: mt + plotH, title: 'generation', width: ml + plotW / 2 });
  if (optimum !== null) {
    const oy = f(y(optimum));
    s += `<line x1="${ml}" x2="${ml + plotW}" y1="${oy}" y2="${oy}" stroke="${methodStyle('optimal').color}" stroke-width="2" stroke-dasharray="8 4"/>` +
      `<text class="note" x="${ml + plotW - 4}" y="${oy}" dy="-0.4em" text-anchor="end" paint-order="stroke" stroke="#fff" stroke-width="3">optimum (exact DP)</text>`;
  }
  // End labels ("stopped") of several series must not overprint each other
  // or the optimum's label: each moves down until it is clear of the others.
  const placed = optimum !== null ? [{ x: ml + plotW - 60, y: y(optimum) - 6 }] : [];
  const clearY = (lx, ly) => {
    let yy = ly;
    for (let tries = 0; tries < 6 && placed.some((p) => Math.abs(p.x - lx) < 60 && Math.abs(p.y - yy) < 13); tries++) yy += 13;
    placed.push({ x: lx, y: yy });
    return yy;
  };
  for (const se of series) {
    const st = methodStyle(se.method);
    const h = se.history;
    if (!h.length) continue;
    const line = (get, sy) => h.map((g, i) => `${i ? 'L' : 'M'}${f(x(g.index))} ${f(sy(get(g)))}`).join('');
    s += `<path d="${line((g) => g.mean_score, y)}" fill="none" stroke="${st.color}" stroke-width="1.5" stroke-dasharray="5 3" opacity="0.8"/>`;
    s += `<path d="${line((g) => g.best_partitions, yp)}" fill="none" stroke="${st.color}" stroke-width="1.2" stroke-dasharray="1.5 2.5"/>`;
    s += `<path d="${line((g) => g.best_score, y)}" fill="none" stroke="${st.color}" stroke-width="2.6"/>`;
    const last = h[h.length - 1];
    s += marker(st.marker, x(last.index), y(last.best_score), 4.5, st.color);
    if (se.stoppedEarly) {
      const lx = Math.min(x(last.index), ml + plotW - 30);
      const ly = clearY(lx, y(last.best_score) + 16);
      s += `<text class="note" x="${f(lx)}" y="${f(ly)}" text-anchor="middle" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(se.method)} stopped</text>`;
    }
  }
  s += `${CURSOR}</svg>`;
  // One entry per method (its colour and marker), then the line styles
  // once, in grey, instead of three entries per method.
  const items = series.map((se) => {
    const st = methodStyle(se.method);
    return { label: se.method, swatch: `<line x1="0" x2="22" y1="7" y2="7" stroke="${st.color}" stroke-width="2.6"/>${marker(st.marker, 11, 7, 3.5, st.color)}` };
  });
  items.push({ label: 'best (solid)', swatch: '<line x1="0" x2="22" y1="7" y2="7" stroke="#555" stroke-width="2.6"/>' });
  items.push({ label: 'population mean (dashed)', swatch: '<line x1="0" x2="22" y1="7" y2="7" stroke="#555" stroke-width="1.5" stroke-dasharray="5 3"/>' });
  items.push({ label: 'partitions of the best (dotted, right axis)', swatch: '<line x1="0" x2="22" y1="7" y2="7" stroke="#555" stroke-width="1.2" stroke-dasharray="1.5 2.5"/>' });
  if (optimum !== null) items.push({ label: 'optimum', swatch: `<line x1="0" x2="22" y1="7" y2="7" stroke="${methodStyle('optimal').color}" stroke-width="2" stroke-dasharray="8 4"/>` });
  s += legendHTML(items);
  const svg = setPlot(body, s);
  const fmt = (v) => si(toSI(v), sc.unit);
  attachCursor(svg, readout, {
    hint: 'Point at the plot, or focus it and use the arrow keys to read each generation.',
    first: 0,
    pick(px) { return px < ml - 4 || px > ml + plotW + 4 ? null : Math.min(gens, Math.max(0, Math.round((px - ml) / plotW * gens))); },
    step(g, ev) { return stepIndex(g, ev, gens + 1); },
    describe(g) {
      const parts = series.map((se) => {
        const h = se.history.find((e) => e.index === g);
        if (!h) return `${se.method} had stopped`;
        return `${se.method} best ${fmt(h.best_score)} (${h.best_partitions} partitions), mean ${fmt(h.mean_score)} (${h.mean_partitions.toFixed(1)} partitions)`;
      });
      const o = optimum !== null ? `; optimum ${fmt(optimum)}` : '';
      return `Generation ${g}: ${parts.join('; ')}${o}.`;
    },
    box(g) { return { x: x(g) - 1, y: mt, w: 2, h: plotH }; },
  });
}

// ---------------------------------------------------------------- batches

export const BATCH_METRICS = {
  throughput_per_s: { label: 'throughput', unit: 'inferences/s', fmt: (v) => `${num(v)}/s` },
  energy_per_inference_j: { label: 'energy per inference', unit: 'J', fmt: (v) => si(v, 'J') },
  edp_j_s: { label: 'EDP', unit: 'J·s', fmt: (v) => si(v, 'J·s') },
};

// drawBatches: one line per method across the sweep's batch sizes (x is
// categorical, batches equally spaced).
export function drawBatches(body, readout, sweep, metric, width) {
  const mdef = BATCH_METRICS[metric];
  const rows = [...sweep.rows].sort((a, b) => a.batch - b.batch);
  const methods = [];
  for (const row of rows) for (const fg of row.figures) if (!methods.includes(fg.method)) methods.push(fg.method);
  const ml = 64;
  const mr = 104;
  const mt = 12;
  const plotH = 220;
  const H = mt + plotH + 48;
  const plotW = Math.max(60, width - ml - mr);
  const x = linear(0, Math.max(1, rows.length - 1), ml + 10, ml + plotW - 10);
  const val = (row, m) => { const fg = row.figures.find((g) => g.method === m); return fg ? fg[metric] : null; };
  const all = rows.flatMap((row) => row.figures.map((g) => g[metric]));
  const maxV = Math.max(...all);
  const isThr = metric === 'throughput_per_s';
  const unit = isThr ? { scale: 1, label: 'inferences/s' } : axisUnit(maxV, mdef.unit);
  const [d0, d1] = niceDomain(0, maxV);
  const y = linear(d0, d1, mt + plotH, mt);
  const f = (v) => v.toFixed(1);
  let s = svgOpen(width, H, `${mdef.label} against batch size for ${methods.join(', ')}`);
  s += yAxis({ ticks: niceTicks(d0, d1), y, x0: ml, x1: ml + plotW, scale: unit.scale, title: `${mdef.label} (${unit.label})` });
  s += xAxis({ ticks: rows.map((_, i) => i), x, y0: mt + plotH, title: 'batch size', width: ml + plotW / 2, format: (i) => String(rows[i].batch) });
  const ends = [];
  for (const m of methods) {
    const st = methodStyle(m);
    const pts = rows.map((row, i) => [x(i), val(row, m)]).filter((p) => p[1] !== null);
    s += `<path d="${pts.map((p, i) => `${i ? 'L' : 'M'}${f(p[0])} ${f(y(p[1]))}`).join('')}" fill="none" stroke="${st.color}" stroke-width="2.2" stroke-dasharray="${st.dash}"/>`;
    for (const p of pts) s += marker(st.marker, p[0], y(p[1]), 4, st.color);
    if (pts.length) ends.push({ label: m, y: y(pts[pts.length - 1][1]) });
  }
  s += endLabels(ends, ml + plotW + 4); // direct labels, pushed apart
  s += `${CURSOR}</svg>`;
  s += legendHTML(methods.map((m) => ({ label: m, swatch: methodSwatch(m) })));
  const svg = setPlot(body, s);
  const step = rows.length > 1 ? x(1) - x(0) : plotW;
  attachCursor(svg, readout, {
    hint: 'Point at a batch size, or focus the plot and use the arrow keys.',
    first: 0,
    pick(px) { return Math.min(rows.length - 1, Math.max(0, Math.round((px - x(0)) / step))); },
    step(i, ev) { return stepIndex(i, ev, rows.length); },
    describe(i) {
      const row = rows[i];
      return `Batch ${row.batch}: ${row.figures.map((g) => `${g.method} ${mdef.fmt(g[metric])} (${g.partitions} partitions)`).join(', ')}.`;
    },
    box(i) { return { x: x(i) - step / 2, y: mt, w: step, h: plotH }; },
  });
}

// ------------------------------------------------------------------- chip

// drawChip: the chip during one partition. Cores are blocks laid out in a
// grid; each block is one row of its crossbars. Every replica of every unit
// is its own cell in its layer's colour; unused crossbars are grey.
export function drawChip(body, readout, view, method, pIndex, chip, width) {
  const { res, layerIndex } = view;
  const r = view.byMethod[method];
  const p = r.partitions[pIndex];
  const cores = chip.cores;
  const X = chip.crossbars_per_core;
  const gap = 14;
  // The largest cell (24 px down to 12) that keeps the chip about 520 px tall;
  // narrower still if one core's row of crossbars does not fit the width.
  const layout = (c) => {
    const perRow = Math.max(1, Math.min(cores, Math.floor((width + gap) / (X * c + gap))));
    return { c, perRow, h: Math.ceil(cores / perRow) * (c + 24) };
  };
  let best = layout(24);
  for (let c = 23; c >= 12 && best.h > 520; c--) best = layout(c);
  let cell = best.c;
  if (X * cell > width - 8) cell = Math.max(3, Math.floor((width - 8) / X));
  const blockW = X * cell;
  const perRow = Math.max(1, Math.min(cores, Math.floor((width + gap) / (blockW + gap))));
  const blockH = cell + 16;
  const rowsOfCores = Math.ceil(cores / perRow);
  const H = rowsOfCores * (blockH + 8) + 4;
  const W = Math.min(width, perRow * (blockW + gap));
  const bx = (c) => (c % perRow) * (blockW + gap);
  const by = (c) => Math.floor(c / perRow) * (blockH + 8) + 14;
  // occupant[c * X + j] = index into `cells` of the replica on crossbar j of core c, or -1.
  const occupant = new Int32Array(cores * X).fill(-1);
  const cells = [];
  for (const sl of p.placement) {
    const count = sl.count || 1;
    for (let i = 0; i < count; i++) {
      const first = sl.first_crossbar + i * sl.crossbars;
      const id = cells.length;
      cells.push({ core: sl.core, first, n: sl.crossbars, layer: sl.layer, unit: sl.unit, replica: sl.replica + i,
        need: sl.buffer_bytes || 0, share: sl.share_bytes || 0, spill: sl.spill_bytes_per_inference || 0, reload: sl.reload_bytes_per_inference || 0 });
      for (let j = first; j < first + sl.crossbars && j < X; j++) if (sl.core < cores) occupant[sl.core * X + j] = id;
    }
  }
  const replicasOf = new Map(p.replication.map((rp) => [layerIndex.get(rp.layer), rp.replicas]));
  const used = new Int32Array(cores);
  // Local memory: what each core's replicas keep (each within its share)
  // and what overflows to DRAM.
  const kept = new Float64Array(cores);
  const spilled = new Float64Array(cores);
  for (const c of cells) {
    if (c.core >= cores) continue;
    used[c.core] += c.n;
    kept[c.core] += Math.min(c.need, c.share);
    spilled[c.core] += c.spill;
  }
  const mem = chip.local_memory_bytes || 1;
  const memText = (core) => `local memory: ${bytes(kept[core])} of ${bytes(mem)} holds its replicas' buffers` +
    (spilled[core] > 0 ? `; ${bytes(spilled[core])} per inference overflow to DRAM` : ', nothing spills');
  let s = svgOpen(W, H, `Chip ${res.chip} during partition ${p.index} of ${method}: ${p.crossbars_used} of ${p.crossbars_available} crossbars used`);
  let grey = '';
  for (let c = 0; c < cores; c++) {
    s += `<text class="tick" x="${bx(c)}" y="${by(c) - 4}">core ${c} · ${used[c]}/${X}${spilled[c] > 0 ? ' · spills' : ''}</text>`;
    for (let j = 0; j < X; j++) grey += `<rect x="${bx(c) + j * cell + 0.5}" y="${by(c) + 0.5}" width="${cell - 1}" height="${cell - 1}"/>`;
    // The local-memory gauge under the crossbars: kept buffers, red when something spills.
    const gy = by(c) + cell + 2;
    s += `<rect x="${bx(c)}" y="${gy}" width="${blockW}" height="3" fill="${UNUSED}"/>`;
    s += `<rect data-core="${c}" data-kept="${kept[c]}" data-spill="${spilled[c]}" x="${bx(c)}" y="${gy}" ` +
      `width="${(blockW * Math.min(1, kept[c] / mem)).toFixed(1)}" height="3" fill="${spilled[c] > 0 ? '#D55E00' : '#555'}"/>`;
  }
  s += `<g fill="${UNUSED}" stroke="#fff">${grey}</g>`;
  for (const c of cells) {
    if (c.core >= cores) continue;
    const col = cyclic(c.layer);
    const x0 = bx(c.core) + c.first * cell + 1;
    const w = c.n * cell - 2;
    s += `<rect x="${x0}" y="${by(c.core) + 1}" width="${w}" height="${cell - 2}" fill="${col.fill}" stroke="#222" stroke-width="0.8"/>`;
    if (cell >= 14 && w >= 12) {
      const label = w >= 7 * (String(c.layer).length + 1) + 4 ? `L${c.layer}` : String(c.layer);
      s += `<text class="in-bar" x="${x0 + w / 2}" y="${by(c.core) + cell / 2}" dy="0.32em" text-anchor="middle" fill="${col.ink}">${label}</text>`;
    }
  }
  s += `${CURSOR}</svg>`;
  // Legend: the partition's layers with their replication.
  const legend = p.replication.map((rp) => {
    const li = layerIndex.get(rp.layer);
    return { label: `L${li} ${rp.layer}: ${rp.units} unit${rp.units > 1 ? 's' : ''}, ${rp.crossbars} crossbars × ${rp.replicas} replica${rp.replicas > 1 ? 's' : ''}`, swatch: fillSwatch(cyclic(li).fill) };
  });
  legend.push({ label: 'unused crossbar', swatch: fillSwatch(UNUSED) });
  legend.push({ label: 'local memory kept (under each core; red: buffers overflow to DRAM)', swatch: fillSwatch('#555') });
  s += legendHTML(legend);
  const svg = setPlot(body, s);
  attachCursor(svg, readout, {
    hint: 'Point at a crossbar, or focus the chip and use the arrow keys (Up/Down change core).',
    first: 0,
    pick(px, py) {
      const col = Math.floor(px / (blockW + gap));
      const row = Math.floor(py / (blockH + 8));
      const j = Math.floor((px - col * (blockW + gap)) / cell);
      const c = row * perRow + col;
      return col < perRow && j >= 0 && j < X && c >= 0 && c < cores ? c * X + j : null;
    },
    step(i, ev) {
      const cur = i ?? 0;
      if (ev.key === 'ArrowDown') return Math.min(cores * X - 1, cur + X);
      if (ev.key === 'ArrowUp') return Math.max(0, cur - X);
      return stepIndex(i, ev, cores * X, X);
    },
    describe(i) {
      const core = Math.floor(i / X);
      const j = i % X;
      const id = occupant[i];
      if (id < 0) return `Core ${core}, crossbar ${j}: unused during partition ${p.index}. Core ${core}'s ${memText(core)}.`;
      const c = cells[id];
      const l = res.layers[c.layer];
      return `Core ${core}, crossbar ${j}: layer ${l.name} (L${c.layer}, ${l.op}), unit ${c.unit}, replica ${c.replica + 1} of ${replicasOf.get(c.layer) ?? '?'}; ` +
        `this replica spans crossbars ${c.first}–${c.first + c.n - 1}, its buffers need ${bytes(c.need)} of its ${bytes(c.share)} share` +
        (c.spill > 0 ? `, so it spills ${bytes(c.spill)} per inference and reads ${bytes(c.reload)} back` : '') + `. Core ${core}'s ${memText(core)}.`;
    },
    box(i) {
      const core = Math.floor(i / X);
      return { x: bx(core) + (i % X) * cell, y: by(core), w: cell, h: cell };
    },
  });
}

// ----------------------------------------------------------------- energy

// drawEnergy: one horizontal stacked bar per method, energy per inference
// by component (absolute, or as shares of the total).
export function drawEnergy(body, readout, view, mode, width) {
  const rs = view.res.results;
  const share = mode === 'share';
  const ml = labelWidth(rs.map((r) => r.method));
  const mr = 70;
  const mt = 8;
  const rowH = 28;
  const gap = 12;
  const plotW = Math.max(60, width - ml - mr);
  const plotH = rs.length * (rowH + gap);
  const H = mt + plotH + 40;
  const total = (r) => ENERGY.reduce((a, c) => a + (r.energy_breakdown_j[c.key] || 0), 0);
  const maxT = share ? 1 : Math.max(...rs.map(total));
  const [d0, d1] = share ? [0, 1] : niceDomain(0, maxT);
  const x = linear(d0, d1, ml, ml + plotW);
  const unit = share ? { scale: 0.01, label: '%' } : axisUnit(d1, 'J');
  const f = (v) => v.toFixed(2);
  let s = svgOpen(width, H, `Energy per inference by component for ${rs.map((r) => r.method).join(', ')}`);
  for (const t of niceTicks(d0, d1)) s += `<line class="grid" x1="${f(x(t))}" x2="${f(x(t))}" y1="${mt}" y2="${mt + plotH - gap}"/>`;
  const rowY = (i) => mt + i * (rowH + gap);
  rs.forEach((r, i) => {
    const tot = total(r);
    const k = share ? 1 / tot : 1;
    s += `<text class="row-label" x="${ml - 8}" y="${rowY(i) + rowH / 2}" dy="0.32em" text-anchor="end">${esc(r.method)}</text>`;
    let acc = 0;
    for (const c of ENERGY) {
      const v = (r.energy_breakdown_j[c.key] || 0) * k;
      if (!(v > 0)) continue;
      s += `<rect x="${f(x(acc))}" y="${rowY(i)}" width="${f(Math.max(0, x(acc + v) - x(acc)))}" height="${rowH}" fill="url(#${patternId('energy', c.key)}) ${c.color}" stroke="#fff" stroke-width="0.5"/>`;
      acc += v;
    }
    s += `<text class="note" x="${f(x(acc) + 4)}" y="${rowY(i) + rowH / 2}" dy="0.32em">${share ? '' : si(tot, 'J')}</text>`;
  });
  s += xAxis({ ticks: niceTicks(d0, d1), x, y0: mt + plotH - gap + 2, scale: unit.scale, title: share ? 'share of energy per inference (%)' : `energy per inference (${unit.label})`, width: ml + plotW / 2 });
  s += `${CURSOR}</svg>`;
  s += legendHTML(ENERGY.map((c) => ({ label: c.label, swatch: fillSwatch(`url(#${patternId('energy', c.key)}) ${c.color}`) })));
  const svg = setPlot(body, s);
  const nC = ENERGY.length;
  attachCursor(svg, readout, {
    hint: 'Point at a segment, or focus the plot: Left/Right walk the components, Up/Down the methods.',
    first: 0,
    pick(px, py) {
      const i = Math.floor((py - mt) / (rowH + gap));
      if (i < 0 || i >= rs.length || px < ml) return null;
      const r = rs[i];
      const k = share ? 1 / total(r) : 1;
      let acc = 0;
      for (let c = 0; c < nC; c++) {
        acc += (r.energy_breakdown_j[ENERGY[c].key] || 0) * k;
        if (px <= x(acc)) return i * nC + c;
      }
      return i * nC + nC - 1;
    },
    step(key, ev) {
      const cur = key ?? 0;
      if (ev.key === 'ArrowDown') return Math.min(rs.length * nC - 1, cur + nC);
      if (ev.key === 'ArrowUp') return Math.max(0, cur - nC);
      return stepIndex(key, ev, rs.length * nC, nC);
    },
    describe(key) {
      const r = rs[Math.floor(key / nC)];
      const c = ENERGY[key % nC];
      const v = r.energy_breakdown_j[c.key] || 0;
      return `${r.method}: ${c.label} ${si(v, 'J')} per inference, ${pct(v / total(r))} of its ${si(total(r), 'J')}.`;
    },
    box(key) {
      const i = Math.floor(key / nC);
      const r = rs[i];
      const k = share ? 1 / total(r) : 1;
      let acc = 0;
      for (let c = 0; c < key % nC; c++) acc += (r.energy_breakdown_j[ENERGY[c].key] || 0) * k;
      const v = (r.energy_breakdown_j[ENERGY[key % nC].key] || 0) * k;
      return { x: x(acc), y: rowY(i), w: x(acc + v) - x(acc), h: rowH };
    },
  });
}

// --------------------------------------------------------------- timeline

// Timeline lanes: what a core's busy intervals are, by opcode (isa.Opcode
// numbering: 1 LOAD_WEIGHT, 2 WRITE_WEIGHT, 3 LOAD_DATA, 4 STORE_DATA,
// 5 MVMUL, 6-12 vector ops, 13 SEND, 14 RECV, 15 BARRIER).
export const TIMELINE_LANES = [
  { key: 'replace', label: 'weight load and crossbar write', color: '#D55E00', ops: [1, 2] },
  { key: 'mvm', label: 'MVMs', color: '#0072B2', ops: [5] },
  { key: 'vfu', label: 'vector unit', color: '#009E73', ops: [6, 7, 8, 9, 10, 11, 12] },
  { key: 'io', label: 'activation loads and stores', color: '#56B4E9', ops: [3, 4] },
];

// laneOfOpcode maps an opcode (isa.Opcode's number) to its timeline lane,
// -1 for none; the worker bins the trace with it.
export function laneOfOpcode() {
  const laneOf = new Array(16).fill(-1);
  TIMELINE_LANES.forEach((l, i) => { for (const op of l.ops) laneOf[op] = i; });
  return laneOf;
}

// drawTimeline: the simulated run as a Gantt chart, one row per core (plus
// the bus) with a lane per kind of work. Busy intervals, binned by the
// worker, are folded onto the plot's pixel columns and painted on a
// <canvas> under an SVG that holds
// only the labels, axes, partition boundaries and cursor: a run of a
// million instructions costs the DOM a few dozen elements, not one per
// busy run (ResNet34 on chip L drew about 24,000 before). sim holds the
// simulation's JSON (sim.res) and the worker's bins (sim.timeline). When the engine
// kept only the start of the trace (trace_truncated), the note says how
// much of the run is drawn.
export function drawTimeline(body, readout, sim, cores, width) {
  const { res } = sim;
  const r = res.results[0];
  const T = r.latency_s * 1e9;
  const ml = 64;
  const mr = 12;
  const mt = 10;
  const lanes = TIMELINE_LANES.length;
  const laneH = 3;
  const rowH = lanes * laneH + 4;
  const rows = cores + 1; // the last row is the bus
  const plotH = rows * rowH;
  const H = mt + plotH + 44;
  const plotW = Math.max(60, width - ml - mr);
  const bins = Math.max(1, Math.floor(plotW));
  // The worker binned the trace into sim.timeline.fine columns per lane
  // (binTimeline in worker.js); here they fold onto the plot's pixels:
  // busy[(row * lanes + lane) * bins + bin] = 1 when anything of that kind
  // runs there during the bin.
  const { busy: fineBusy, fine, drawnEnd } = sim.timeline;
  const busy = new Uint8Array(rows * lanes * bins);
  for (let rl = 0; rl < rows * lanes; rl++) {
    const src = rl * fine;
    const dst = rl * bins;
    for (let i = 0; i < fine; i++) {
      if (fineBusy[src + i]) {
        const b0 = Math.floor((i * bins) / fine);
        const b1 = Math.min(bins - 1, Math.floor(((i + 1) * bins - 1) / fine));
        for (let b = b0; b <= b1; b++) busy[dst + b] = 1;
      }
    }
  }
  const f = (v) => v.toFixed(1);
  const x = linear(0, T, ml, ml + plotW);
  let note = '';
  if (r.trace_truncated) {
    note = `<p class="plot-note warn" data-role="timeline-truncated" data-drawn-s="${drawnEnd / 1e9}" data-latency-s="${r.latency_s}">` +
      `The trace was cut short to bound the page's memory: the bars cover only the first ${esc(si(drawnEnd / 1e9, 's'))} of the ` +
      `${esc(si(r.latency_s, 's'))} run (the hatched part is not drawn). The figures above cover the whole run.</p>`;
  }
  let s = svgOpen(width, H, `Simulated timeline of ${r.method}: ${cores} cores and the bus over ${num(r.latency_s * 1e3)} ms`);
  for (let row = 0; row < rows; row++) {
    const y0 = mt + row * rowH;
    if (row === cores || row % Math.max(1, Math.ceil(cores / 16)) === 0) {
      s += `<text class="tick" x="${ml - 4}" y="${f(y0 + rowH / 2)}" dy="0.32em" text-anchor="end">${row === cores ? 'bus' : `core ${row}`}</text>`;
    }
  }
  if (r.trace_truncated && drawnEnd < T) {
    s += `<rect x="${f(x(drawnEnd))}" y="${mt}" width="${f(ml + plotW - x(drawnEnd))}" height="${plotH}" fill="url(#${patternId('timeline', 'cut')})" stroke="#888" stroke-width="0.5"/>`;
  }
  // Partition boundaries.
  for (const p of r.partitions) {
    s += `<line x1="${f(x(p.end_s * 1e9))}" x2="${f(x(p.end_s * 1e9))}" y1="${mt}" y2="${mt + plotH}" stroke="#333" stroke-width="0.6" stroke-dasharray="2 2"/>`;
  }
  const unit = axisUnit(T / 1e9, 's');
  s += xAxis({ ticks: niceTicks(0, T / 1e9), x: (v) => x(v * 1e9), y0: mt + plotH, title: `time (${unit.label})`, scale: unit.scale, width: ml + plotW / 2 });
  s += `${CURSOR}</svg>`;
  const legend = legendHTML(TIMELINE_LANES.map((l) => ({ label: l.label, swatch: fillSwatch(l.color) })).concat(
    [{ label: 'end of a partition', swatch: '<line x1="11" x2="11" y1="0" y2="14" stroke="#333" stroke-dasharray="2 2"/>' }]));
  const svg = setPlot(body, `${note}<div class="layers"><canvas aria-hidden="true"></canvas>${s}</div>${legend}`);
  paintTimeline(body.querySelector('canvas'), { width, H, ml, mt, plotW, rows, rowH, lanes, laneH, bins, busy });
  const parts = r.partitions;
  attachCursor(svg, readout, {
    hint: 'Point at the timeline, or focus it and use the arrow keys to step through the partitions.',
    first: 0,
    pick(px) {
      const t = ((px - ml) / plotW) * T;
      const i = parts.findIndex((p) => p.end_s * 1e9 >= t);
      return i < 0 ? parts.length - 1 : i;
    },
    step(i, ev) { return stepIndex(i, ev, parts.length); },
    describe(i) {
      const p = parts[i];
      return `Partition ${i}: ends at ${num(p.end_s * 1e3)} ms; replacement ${num(p.replacement_start_s * 1e3)}–${num(p.replacement_end_s * 1e3)} ms, ` +
        `compute ${num(p.compute_start_s * 1e3)}–${num(p.compute_end_s * 1e3)} ms (the estimator: ${num(p.estimated_compute_s * 1e3)} ms of compute).`;
    },
    box(i) {
      const a = i ? parts[i - 1].end_s * 1e9 : 0;
      return { x: x(a), y: mt, w: Math.max(1, x(parts[i].end_s * 1e9) - x(a)), h: plotH };
    },
  });
}

// paintTimeline writes the timeline's row bands and busy runs as pixels
// (one ImageData at the plot's CSS size, drawn once): a busy trace has tens
// of thousands of runs, and one fillRect each took tens of milliseconds.
function paintTimeline(canvas, g) {
  const W = Math.max(1, Math.round(g.width));
  const Hpx = Math.max(1, Math.round(g.H));
  canvas.width = W;
  canvas.height = Hpx;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(W, Hpx);
  const px = new Uint32Array(img.data.buffer);
  // ImageData is RGBA in memory; a little-endian Uint32 holds it as ABGR.
  const abgr = (hex) => {
    const v = parseInt(hex.slice(1), 16);
    return (0xff << 24 | (v & 0xff) << 16 | (v & 0xff00) | (v >> 16)) >>> 0;
  };
  const band = abgr('#f4f4f4');
  const colors = TIMELINE_LANES.map((l) => abgr(l.color));
  const x0 = Math.round(g.ml);
  const xw = Math.min(W - x0, Math.round(g.plotW));
  for (let row = 0; row < g.rows; row++) {
    const y0 = g.mt + row * g.rowH;
    if (row % 2 === 0) {
      for (let yy = y0; yy < y0 + g.rowH && yy < Hpx; yy++) px.fill(band, yy * W + x0, yy * W + x0 + xw);
    }
    for (let lane = 0; lane < g.lanes; lane++) {
      const base = (row * g.lanes + lane) * g.bins;
      const ly = y0 + 2 + lane * g.laneH;
      for (let b = 0; b < g.bins;) {
        if (!g.busy[base + b]) { b++; continue; }
        let e = b;
        while (e < g.bins && g.busy[base + e]) e++;
        const a = x0 + Math.floor((b * g.plotW) / g.bins);
        const z = Math.min(x0 + xw, x0 + Math.max(Math.floor((e * g.plotW) / g.bins), Math.floor((b * g.plotW) / g.bins) + 1));
        for (let yy = ly; yy < ly + g.laneH && yy < Hpx; yy++) px.fill(colors[lane], yy * W + a, yy * W + z);
        b = e;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}
