// The page's input state and its URL form. A link holds everything needed
// to reproduce a run:
//   ?model=resnet18&chip=M&batch=16&methods=greedy,compass&objective=latency&seed=1
//    &ga.population=50&chip.cores=8&chip.dram.banks=4&run=1
// GA settings and chip parameters appear only when they differ from the
// defaults / the preset. run=1 runs on load; embed=1 is the compact widget.

import { METHODS } from './svg.js';

export const OBJECTIVES = ['latency', 'energy', 'edp'];
export const GA_DEFAULTS = { population: 100, generations: 300, keep: 20, patience: 40, informed: true };
export const BATCHES = [1, 2, 4, 8, 16];
export const MAX_BATCH = 65536; // the engine's estimate.MaxBatch

export function defaultState() {
  return {
    model: 'resnet18', chip: 'M', batch: 16, methods: [...METHODS], objective: 'latency', seed: 1,
    ga: {}, // edited GA fields only
    chipEdits: {}, // "cores" or "dram.banks" -> value as typed (string)
  };
}

// parseQuery reads a state from a query string; unknown or malformed values
// keep their defaults and are reported in `warnings`.
export function parseQuery(search) {
  const q = new URLSearchParams(search);
  const s = defaultState();
  const warnings = [];
  if (q.has('model')) s.model = q.get('model');
  if (q.has('chip')) s.chip = q.get('chip');
  if (q.has('batch')) s.batch = q.get('batch');
  if (q.has('methods')) {
    const ms = q.get('methods').split(',').map((m) => m.trim()).filter(Boolean);
    const bad = ms.filter((m) => !METHODS.includes(m));
    if (bad.length) warnings.push(`unknown method ${bad.join(', ')} in the link`);
    s.methods = METHODS.filter((m) => ms.includes(m));
  }
  if (q.has('objective')) {
    const o = q.get('objective');
    if (OBJECTIVES.includes(o)) s.objective = o;
    else warnings.push(`unknown objective ${o} in the link`);
  }
  if (q.has('seed')) s.seed = q.get('seed');
  for (const k of Object.keys(GA_DEFAULTS)) {
    if (q.has(`ga.${k}`)) s.ga[k] = q.get(`ga.${k}`);
  }
  for (const [k, v] of q) {
    if (k.startsWith('chip.')) s.chipEdits[k.slice(5)] = v;
  }
  s.run = q.get('run') === '1';
  s.embed = q.get('embed') === '1';
  return { state: s, warnings };
}

// toQuery writes a state as a query string (without the leading "?").
export function toQuery(s, { run = false, embed = false } = {}) {
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
    if (!Number.isInteger(n) || n < 0) throw new Error(`GA ${k} = ${v}: must be a whole number`);
    if (n !== GA_DEFAULTS[k]) out[k] = n;
  }
  return Object.keys(out).length ? out : null;
}

// checkBatch / checkSeed validate the two free numeric inputs.
export function checkBatch(v) {
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_BATCH) {
    throw new Error(`batch = ${v}: must be a whole number from 1 to ${MAX_BATCH}`);
  }
  return n;
}

export function checkSeed(v) {
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isSafeInteger(n) || n < 0) {
    throw new Error(`seed = ${v}: must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
  return n;
}
