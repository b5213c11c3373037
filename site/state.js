// The page's input state and its URL form. A link holds everything needed
// to reproduce a run:
//   ?model=resnet18&chip=M&batch=16&methods=greedy,compass&objective=latency&seed=1
//    &ga.population=50&chip.cores=8&chip.dram.banks=4&run=1
// GA settings and chip parameters appear only when they differ from the
// defaults / the preset. run=1 runs on load; embed=1 is the compact widget
// (plots=summary,strip,... chooses its plots); scenario=NAME opens a guided
// experiment. A first visit (no query string) runs the defaults at once.

import { METHODS } from './svg.js';

export const OBJECTIVES = ['latency', 'energy', 'edp'];
export const GA_DEFAULTS = { population: 100, generations: 300, keep: 20, patience: 40, informed: true };
export const BATCHES = [1, 2, 4, 8, 16];
export const MAX_BATCH = 65536; // the engine's estimate.MaxBatch
export const PLOTS = ['summary', 'strip', 'validity', 'phases', 'convergence', 'batches', 'chip', 'energy', 'timeline'];

// FieldError is a bad value of one input: field is its path in the engine's
// request JSON ("batch", "seed", "ga.population", "chip_spec.cores"), so the
// page can show the message next to that control.
export class FieldError extends Error {
  constructor(field, message) { super(message); this.name = 'FieldError'; this.field = field; }
}

export function defaultState() {
  return {
    model: 'resnet18', chip: 'M', batch: 16, methods: [...METHODS], objective: 'latency', seed: 1,
    ga: {}, // edited GA fields only
    chipEdits: {}, // "cores" or "dram.banks" -> value as typed (string)
  };
}

// parseQuery reads a state from a query string; unknown or malformed values
// keep their defaults and are reported in `warnings` as {field, text}
// (field: the request path of the control it belongs to, or '').
export function parseQuery(search) {
  const q = new URLSearchParams(search);
  const s = defaultState();
  const warnings = [];
  const warn = (field, text) => warnings.push({ field, text });
  if (q.has('model')) s.model = q.get('model');
  if (q.has('chip')) s.chip = q.get('chip');
  if (q.has('batch')) {
    try {
      s.batch = checkBatch(q.get('batch'));
    } catch (err) {
      warn('batch', `batch=${q.get('batch').slice(0, 40)} in the link is not a batch size: give a whole number from 1 to ${MAX_BATCH}`);
    }
  }
  if (q.has('methods')) {
    const ms = q.get('methods').split(',').map((m) => m.trim()).filter(Boolean);
    const bad = ms.filter((m) => !METHODS.includes(m));
    if (bad.length) warn('methods', `unknown method ${bad.join(', ').slice(0, 80)} in the link (the methods are ${METHODS.join(', ')})`);
    s.methods = METHODS.filter((m) => ms.includes(m));
  }
  if (q.has('objective')) {
    const o = q.get('objective');
    if (OBJECTIVES.includes(o)) s.objective = o;
    else warn('objective', `unknown objective ${o.slice(0, 40)} in the link (use ${OBJECTIVES.join(', ')})`);
  }
  if (q.has('seed')) {
    try {
      s.seed = checkSeed(q.get('seed'));
    } catch (err) {
      warn('seed', `seed=${q.get('seed').slice(0, 40)} in the link is not a seed: give a whole number, 0 or more`);
    }
  }
  for (const k of Object.keys(GA_DEFAULTS)) {
    if (q.has(`ga.${k}`)) s.ga[k] = q.get(`ga.${k}`);
  }
  for (const [k, v] of q) {
    if (k.startsWith('chip.')) s.chipEdits[k.slice(5)] = v;
  }
  s.run = q.get('run') === '1';
  s.embed = q.get('embed') === '1';
  s.first = search === '' || search === '?'; // a first visit: run the defaults at once
  s.scenario = q.get('scenario') || '';
  if (q.has('plots')) {
    const ps = q.get('plots').split(',').map((p) => p.trim()).filter(Boolean);
    const bad = ps.filter((p) => !PLOTS.includes(p));
    if (bad.length) warn('', `unknown plot ${bad.join(', ').slice(0, 80)} in the link (the plots are ${PLOTS.join(', ')})`);
    s.plots = PLOTS.filter((p) => ps.includes(p));
  }
  return { state: s, warnings };
}

// toQuery writes a state as a query string (without the leading "?").
export function toQuery(s, { run = false, embed = false, plots = null } = {}) {
  const q = new URLSearchParams();
  q.set('model', s.model);
  q.set('chip', s.chip);
  q.set('batch', String(s.batch));
  q.set('methods', s.methods.join(','));
  q.set('objective', s.objective);
  q.set('seed', String(s.seed));
  for (const k of Object.keys(GA_DEFAULTS)) {
    if (k in s.ga) q.set(`ga.${k}`, String(s.ga[k]));
  }
  for (const [k, v] of Object.entries(s.chipEdits)) q.set(`chip.${k}`, String(v));
  if (run) q.set('run', '1');
  if (embed) q.set('embed', '1');
  if (embed && plots) q.set('plots', plots.join(','));
  // Commas and colons are legal in a query and read better unescaped.
  return q.toString().replaceAll('%2C', ',').replaceAll('%3A', ':');
}

// gaRequest turns the edited GA fields into the request's "ga" object, or
// null when nothing differs from the defaults. Throws on a bad value.
export function gaRequest(ga) {
  const out = {};
  for (const [k, v] of Object.entries(ga)) {
    if (k === 'informed') {
      const b = v === true || v === 'true' || v === '1';
      if (b !== GA_DEFAULTS.informed) out.informed = b;
      continue;
    }
    const n = Number(v);
    if (String(v).trim() === '' || !Number.isInteger(n) || n < 0) throw new FieldError(`ga.${k}`, `GA ${k} = ${v}: must be a whole number, 0 or more`);
    if (n !== GA_DEFAULTS[k]) out[k] = n;
  }
  return Object.keys(out).length ? out : null;
}

// checkBatch / checkSeed validate the two free numeric inputs.
export function checkBatch(v) {
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_BATCH) {
    throw new FieldError('batch', `batch = ${String(v).slice(0, 40)}: must be a whole number from 1 to ${MAX_BATCH}`);
  }
  return n;
}

export function checkSeed(v) {
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isSafeInteger(n) || n < 0) {
    throw new FieldError('seed', `seed = ${String(v).slice(0, 40)}: must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
  return n;
}
