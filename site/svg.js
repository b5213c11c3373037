// Small SVG toolkit: palettes, fill patterns, scales, axes, legends and the
// keyboard/pointer "cursor" every plot uses to describe what is under it.
// Plots are built as strings and assigned with one innerHTML per plot.

import { esc, prefixFor, tick } from './format.js';

// Okabe & Ito (2008), "Color Universal Design": 8 colours distinguishable
// under the common colour-vision deficiencies.
export const OKABE_ITO = {
  orange: '#E69F00', sky: '#56B4E9', green: '#009E73', yellow: '#F0E442',
  blue: '#0072B2', vermillion: '#D55E00', purple: '#CC79A7', black: '#000000',
};

// Paul Tol's "muted" qualitative scheme (9 colours), cycled over layers and
// partitions; `ink` is the readable text colour on each.
export const CYCLIC = [
  { fill: '#CC6677', ink: '#000' }, { fill: '#332288', ink: '#fff' }, { fill: '#DDCC77', ink: '#000' },
  { fill: '#117733', ink: '#fff' }, { fill: '#88CCEE', ink: '#000' }, { fill: '#882255', ink: '#fff' },
  { fill: '#44AA99', ink: '#000' }, { fill: '#999933', ink: '#000' }, { fill: '#AA4499', ink: '#fff' },
];
export const UNUSED = '#DDDDDD';

export function cyclic(i) { return CYCLIC[((i % CYCLIC.length) + CYCLIC.length) % CYCLIC.length]; }

// Methods (their names and order are the engine's, meta.js): a colour, a
// marker shape and a dash pattern each, so lines differ without colour too.
// A method without a style here is drawn grey with circles.
export const METHOD_STYLE = {
  greedy: { color: OKABE_ITO.orange, marker: 'square', dash: '7 4' },
  layerwise: { color: OKABE_ITO.sky, marker: 'triangle', dash: '2 3' },
  compass: { color: OKABE_ITO.blue, marker: 'circle', dash: '' },
  optimal: { color: OKABE_ITO.green, marker: 'cross', dash: '' },
  'optimal-sim': { color: OKABE_ITO.vermillion, marker: 'diamond', dash: '9 3 2 3' },
};
export function methodStyle(m) { return METHOD_STYLE[m] || { color: '#666', marker: 'circle', dash: '' }; }

// Fill patterns: a colour plus an overlay texture, for stacked bars.
const TEXTURES = {
  solid: '',
  diag: '<path d="M-1 1l2-2M0 6l6-6M5 7l2-2" stroke="INK" stroke-width="1.2"/>',
  back: '<path d="M-1 5l2 2M0 0l6 6M5 -1l2 2" stroke="INK" stroke-width="1.2"/>',
  dots: '<circle cx="3" cy="3" r="1.1" fill="INK"/>',
  horiz: '<path d="M0 3h6" stroke="INK" stroke-width="1.2"/>',
  vert: '<path d="M3 0v6" stroke="INK" stroke-width="1.2"/>',
  cross: '<path d="M0 3h6M3 0v6" stroke="INK" stroke-width="1"/>',
};

// Energy components and time phases: key, label, colour, texture.
export const ENERGY = [
  { key: 'mvm', label: 'MVM (arrays, DACs)', color: OKABE_ITO.blue, tex: 'solid' },
  { key: 'adc', label: 'ADC', color: OKABE_ITO.sky, tex: 'diag' },
  { key: 'vfu', label: 'vector unit', color: OKABE_ITO.green, tex: 'solid' },
  { key: 'local_memory', label: 'local memory', color: OKABE_ITO.yellow, tex: 'dots' },
  { key: 'bus', label: 'on-chip bus', color: OKABE_ITO.purple, tex: 'back' },
  { key: 'dram', label: 'DRAM', color: OKABE_ITO.vermillion, tex: 'horiz' },
  { key: 'crossbar_write', label: 'crossbar write', color: OKABE_ITO.orange, tex: 'cross' },
  { key: 'static', label: 'static power', color: OKABE_ITO.black, tex: 'vert' },
];
export const PHASES = [
  { key: 'weight_load_s', label: 'weight load (DRAM)', color: OKABE_ITO.vermillion, tex: 'diag' },
  { key: 'write_s', label: 'crossbar write', color: OKABE_ITO.orange, tex: 'cross' },
  { key: 'compute_s', label: 'compute', color: OKABE_ITO.blue, tex: 'solid' },
  { key: 'io_s', label: 'activation I/O', color: OKABE_ITO.sky, tex: 'dots' },
];

export function patternId(group, key) { return `pat-${group}-${key}`; }

// installPatterns adds one hidden (but rendered) SVG holding every pattern to
// the document, so every plot can fill with url(#pat-...).
export function installPatterns(doc) {
  let defs = '';
  const add = (group, list) => {
    for (const c of list) {
      const ink = c.color === OKABE_ITO.black || c.color === OKABE_ITO.blue ? 'rgba(255,255,255,.75)' : 'rgba(0,0,0,.55)';
      defs += `<pattern id="${patternId(group, c.key)}" width="6" height="6" patternUnits="userSpaceOnUse">` +
        `<rect width="6" height="6" fill="${c.color}"/>${TEXTURES[c.tex].replaceAll('INK', ink)}</pattern>`;
    }
  };
  add('energy', ENERGY);
  add('phase', PHASES);
  add('timeline', [{ key: 'cut', color: '#ececec', tex: 'diag' }]);
  const holder = doc.createElement('div');
  holder.innerHTML = `<svg aria-hidden="true" focusable="false" width="0" height="0" style="position:absolute;overflow:hidden"><defs>${defs}</defs></svg>`;
  doc.body.prepend(holder.firstChild);
}

// linear returns a scale mapping [d0, d1] onto [r0, r1].
export function linear(d0, d1, r0, r1) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = (v) => r0 + (v - d0) * k;
  f.domain = [d0, d1];
  return f;
}

// niceTicks returns about `count` round tick values (1, 2 or 5 x 10^k
// apart) covering [lo, hi].
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The first round step at least `raw`, or a finer one if it would leave
  // fewer than two ticks in the range.
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10].map((m) => m * mag);
  let i = steps.findIndex((st) => st >= raw);
  let out;
  for (; i >= 0; i--) {
    const step = steps[i];
    out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    if (out.length >= 2) break;
  }
  return out;
}

// niceDomain widens [lo, hi] to tick boundaries.
export function niceDomain(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo, lo + 1];
  const t = niceTicks(lo, hi, count);
  const step = t.length > 1 ? t[1] - t[0] : hi - lo;
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

// axisUnit chooses one SI prefix for a whole axis: values are divided by
// scale and the label carries the prefix ("ms").
export function axisUnit(maxAbs, unit) {
  const [scale, prefix] = prefixFor(maxAbs);
  return { scale, label: `${prefix}${unit}` };
}

// yAxis draws gridlines, ticks and labels on the left (or right) edge.
export function yAxis({ ticks, y, x0, x1, scale = 1, side = 'left', grid = true, title = '' }) {
  let s = '';
  for (const t of ticks) {
    const py = y(t).toFixed(1);
    if (grid) s += `<line class="grid" x1="${x0}" x2="${x1}" y1="${py}" y2="${py}"/>`;
    const tx = side === 'left' ? x0 - 6 : x1 + 6;
    s += `<text class="tick" x="${tx}" y="${py}" dy="0.32em" text-anchor="${side === 'left' ? 'end' : 'start'}">${tick(t / scale)}</text>`;
  }
  if (title) {
    const [r0, r1] = [y(ticks[0]), y(ticks[ticks.length - 1])];
    const cy = ((r0 + r1) / 2).toFixed(1);
    const tx = side === 'left' ? 12 : x1 + 50;
    s += `<text class="axis-title" transform="translate(${tx} ${cy}) rotate(-90)" text-anchor="middle">${esc(title)}</text>`;
  }
  return s;
}

// xAxis draws ticks and labels along the bottom edge at y0.
export function xAxis({ ticks, x, y0, scale = 1, title = '', format = null, width = 0 }) {
  let s = `<line class="axis" x1="${x(ticks[0])}" x2="${x(ticks[ticks.length - 1])}" y1="${y0}" y2="${y0}"/>`;
  for (const t of ticks) {
    const px = x(t).toFixed(1);
    s += `<line class="axis" x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + 4}"/>` +
      `<text class="tick" x="${px}" y="${y0 + 16}" text-anchor="middle">${esc(format ? format(t) : tick(t / scale))}</text>`;
  }
  if (title) s += `<text class="axis-title" x="${width ? width / 2 : x(ticks[0])}" y="${y0 + 34}" text-anchor="middle">${esc(title)}</text>`;
  return s;
}

// marker draws a method's marker shape centred on (x, y).
export function marker(shape, x, y, r, color) {
  const f = (v) => v.toFixed(1);
  switch (shape) {
    case 'square': return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${f(2 * r)}" height="${f(2 * r)}" fill="${color}" stroke="#000" stroke-width="0.6"/>`;
    case 'triangle': return `<path d="M${f(x)} ${f(y - r * 1.2)}L${f(x + r * 1.1)} ${f(y + r * 0.8)}H${f(x - r * 1.1)}Z" fill="${color}" stroke="#000" stroke-width="0.6"/>`;
    case 'diamond': return `<path d="M${f(x)} ${f(y - r * 1.3)}L${f(x + r)} ${f(y)}L${f(x)} ${f(y + r * 1.3)}L${f(x - r)} ${f(y)}Z" fill="${color}" stroke="#000" stroke-width="0.6"/>`;
    case 'cross': return `<path d="M${f(x - r)} ${f(y - r)}L${f(x + r)} ${f(y + r)}M${f(x - r)} ${f(y + r)}L${f(x + r)} ${f(y - r)}" stroke="${color}" stroke-width="2.6"/>`;
    default: return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="${color}" stroke="#000" stroke-width="0.6"/>`;
  }
}

// legendHTML is an HTML legend (wraps on narrow screens) of swatches.
// items: {label, swatch} where swatch is an SVG fragment drawn in 22x14.
export function legendHTML(items) {
  return `<ul class="legend">${items.map((it) =>
    `<li><svg width="22" height="14" aria-hidden="true" focusable="false">${it.swatch}</svg>${esc(it.label)}</li>`).join('')}</ul>`;
}

export function fillSwatch(fill) { return `<rect x="1" y="1" width="20" height="12" fill="${fill}" stroke="#333" stroke-width="0.5"/>`; }

export function methodSwatch(m) {
  const st = methodStyle(m);
  return `<line x1="0" x2="22" y1="7" y2="7" stroke="${st.color}" stroke-width="2.5" stroke-dasharray="${st.dash}"/>${marker(st.marker, 11, 7, 3.5, st.color)}`;
}

// endLabels writes direct labels at the right end of lines: ends are
// {y, label} (the line's last point), pushed apart downwards so that no two
// overlap, each drawn at x.
export function endLabels(ends, x) {
  const sorted = [...ends].sort((a, b) => a.y - b.y);
  for (let i = 1; i < sorted.length; i++) sorted[i] = { ...sorted[i], y: Math.max(sorted[i].y, sorted[i - 1].y + 13) };
  return sorted.map((e) => `<text class="note" x="${x}" y="${e.y.toFixed(1)}" dy="0.32em">${esc(e.label)}</text>`).join('');
}

// svgOpen starts a plot's <svg>; the plot is drawn in CSS pixels.
export function svgOpen(w, h, label) {
  return `<svg class="chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" tabindex="0" aria-label="${esc(label)}" ` +
    'aria-keyshortcuts="ArrowLeft ArrowRight ArrowUp ArrowDown PageUp PageDown Home End">';
}

// cursorRect is the highlight the cursor moves; appended last so it is on top.
export const CURSOR = '<rect class="cursor" x="0" y="0" width="0" height="0" visibility="hidden"/>';

// attachCursor makes an <svg> explorable by pointer and keyboard. The plot
// supplies:
//   pick(px, py)   -> key under the pointer (SVG pixels) or null
//   step(key, ev)  -> the key after an arrow/Home/End key press (key may be null)
//   describe(key)  -> a sentence for the readout
//   box(key)       -> {x, y, w, h} to highlight, or null
// The readout is an aria-live paragraph, so screen readers hear the moves.
export function attachCursor(svg, readout, plot) {
  const cur = svg.querySelector('rect.cursor');
  let key = null;
  const show = (k) => {
    key = k;
    if (k === null || k === undefined) {
      readout.textContent = plot.hint || '';
      if (cur) cur.setAttribute('visibility', 'hidden');
      return;
    }
    readout.textContent = plot.describe(k);
    const b = plot.box ? plot.box(k) : null;
    if (cur && b) {
      cur.setAttribute('x', b.x.toFixed(1));
      cur.setAttribute('y', b.y.toFixed(1));
      cur.setAttribute('width', Math.max(2, b.w).toFixed(1));
      cur.setAttribute('height', Math.max(2, b.h).toFixed(1));
      cur.setAttribute('visibility', 'visible');
    } else if (cur) cur.setAttribute('visibility', 'hidden');
  };
  readout.textContent = plot.hint || '';
  const pickAt = (ev) => {
    const r = svg.getBoundingClientRect();
    const vb = svg.viewBox.baseVal;
    const sx = vb && vb.width ? vb.width / r.width : 1;
    const sy = vb && vb.height ? vb.height / r.height : 1;
    return plot.pick((ev.clientX - r.left) * sx, (ev.clientY - r.top) * sy);
  };
  // A tap (touch or pen) sends pointerdown, then focus, and no pointermove:
  // show what was tapped, and keep the focus handler from replacing it with
  // the first item.
  let pressed = false;
  svg.addEventListener('pointerdown', (ev) => {
    pressed = true;
    setTimeout(() => { pressed = false; }, 0);
    const k = pickAt(ev);
    if (k !== null && k !== undefined) show(k);
  });
  svg.addEventListener('pointermove', (ev) => {
    const k = pickAt(ev);
    if (k !== null && k !== undefined) show(k);
  });
  svg.addEventListener('pointerleave', (ev) => { if (ev.pointerType === 'mouse' && document.activeElement !== svg) show(null); });
  svg.addEventListener('keydown', (ev) => {
    if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'].includes(ev.key)) return;
    const k = plot.step(key, ev);
    if (k !== null && k !== undefined) { ev.preventDefault(); show(k); }
  });
  svg.addEventListener('focus', () => { if (key === null && !pressed && plot.first !== undefined) show(plot.first); });
  svg.addEventListener('blur', () => show(null));
}

// stepIndex is the common 1-D step: arrows move by one, PageUp/PageDown by
// `page`, Home/End to the ends.
export function stepIndex(i, ev, n, page = 10) {
  if (n <= 0) return null;
  const cur = i === null || i === undefined ? -1 : i;
  switch (ev.key) {
    case 'ArrowRight': case 'ArrowDown': return Math.min(n - 1, cur + 1);
    case 'ArrowLeft': case 'ArrowUp': return Math.max(0, cur < 0 ? 0 : cur - 1);
    case 'PageDown': return Math.min(n - 1, cur + page);
    case 'PageUp': return Math.max(0, cur - page);
    case 'Home': return 0;
    case 'End': return n - 1;
    default: return null;
  }
}
