// The page's input state and its URL form. A link holds everything needed
// to reproduce a run:
//   ?model=resnet18&chip=M&batch=16&methods=greedy,compass&objective=latency&seed=1
//    &pipeline=row&ga.population=50&chip.cores=8&chip.dram.banks=4&run=1
// The pipeline mode, GA settings and chip parameters appear only when they
// differ from the defaults / the preset. run=1 runs on load; embed=1 is the compact widget
// (plots=summary,strip,... chooses its plots); scenario=NAME opens a guided
// experiment. A first visit (no query string) runs the defaults at once.
// The methods, objectives, GA settings and batch bounds are the engine's
// (meta.js), so this module is used once boot() has loaded them.

import { engineMeta, gaDefaults, maxBatch, methodNames, minBatch, objectiveNames, pipelineNames } from './meta.js';

export const PLOTS = ['summary', 'strip', 'validity', 'phases', 'convergence', 'batches', 'chip', 'energy', 'timeline'];

// FieldError is a bad value of one input: field is its path in the engine's
// request JSON ("batch", "seed", "ga.population", "chip_spec.cores"), so the
// page can show the message next to that control.
export class FieldError extends Error {
  constructor(field, message) { super(message); this.name = 'FieldError'; this.field = field; }
}

export function defaultState() {
  return {
    // Every method but those that simulate plans (they cost the simulator's time too).
    model: 'resnet18', chip: 'M', batch: 16, methods: engineMeta().methods.filter((m) => !m.simulates).map((m) => m.name), objective: objectiveNames()[0], seed: 1,
    pipeline: pipelineNames()[0],
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
      warn('batch', `batch=${q.get('batch').slice(0, 40)} in the link is not a batch size: give a whole number from ${minBatch()} to ${maxBatch()}`);
    }
  }
  if (q.has('methods')) {
    const ms = q.get('methods').split(',').map((m) => m.trim()).filter(Boolean);
    const all = methodNames();
    const bad = ms.filter((m) => !all.includes(m));
    if (bad.length) warn('methods', `unknown method ${bad.join(', ').slice(0, 80)} in the link (the methods are ${all.join(', ')})`);
    s.methods = all.filter((m) => ms.includes(m));
  }
  if (q.has('objective')) {
    const o = q.get('objective');
    if (objectiveNames().includes(o)) s.objective = o;
    else warn('objective', `unknown objective ${o.slice(0, 40)} in the link (use ${objectiveNames().join(', ')})`);
  }
  if (q.has('pipeline')) {
    const p = q.get('pipeline');
    if (pipelineNames().includes(p)) s.pipeline = p;
    else warn('pipeline', `unknown pipeline ${p.slice(0, 40)} in the link (use ${pipelineNames().join(', ')})`);
  }
  if (q.has('seed')) {
    try {
      s.seed = checkSeed(q.get('seed'));
    } catch (err) {
      warn('seed', `seed=${q.get('seed').slice(0, 40)} in the link is not a seed: give a whole number, 0 or more`);
    }
  }
  for (const k of Object.keys(gaDefaults())) {
    if (q.has(`ga.${k}`)) s.ga[k] = q.get(`ga.${k}`);
  }
  for (const [k, v] of q) {
    if (k.startsWith('chip.')) s.chipEdits[k.slice(5)] = v;
  }
  s.run = q.get('run') === '1';
  s.first = search === '' || search === '?'; // a first visit: run the defaults at once
  s.scenario = q.get('scenario') || '';
  s.view = q.get('view') === 'paper' ? 'paper' : 'playground'; // ?view=paper&family=NAME: the Paper view
  s.family = q.get('family') || '';
  const e = embedOptions(search);
  s.embed = e.embed;
  s.plots = e.plots;
  if (e.badPlots.length) warn('', `unknown plot ${e.badPlots.join(', ').slice(0, 80)} in the link (the plots are ${PLOTS.join(', ')})`);
  return { state: s, warnings };
}

// embedOptions reads the widget's settings from a query string: embed=1
// and the plots= it shows (null when not given; badPlots: unknown names).
// It needs nothing from the engine, so the page applies it before the
// engine is up.
export function embedOptions(search) {
  const q = new URLSearchParams(search);
  const out = { embed: q.get('embed') === '1', plots: null, badPlots: [] };
  if (q.has('plots')) {
    const ps = q.get('plots').split(',').map((p) => p.trim()).filter(Boolean);
    out.badPlots = ps.filter((p) => !PLOTS.includes(p));
    out.plots = PLOTS.filter((p) => ps.includes(p));
  }
  return out;
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
  if (s.pipeline !== pipelineNames()[0]) q.set('pipeline', s.pipeline);
  for (const k of Object.keys(gaDefaults())) {
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
  const defaults = gaDefaults();
  for (const [k, v] of Object.entries(ga)) {
    if (!(k in defaults)) continue;
    const n = Number(v);
    if (String(v).trim() === '' || !Number.isInteger(n) || n < 0) throw new FieldError(`ga.${k}`, `GA ${k} = ${v}: must be a whole number, 0 or more`);
    if (n !== defaults[k]) out[k] = n;
  }
  return Object.keys(out).length ? out : null;
}

// checkBatch / checkSeed validate the two free numeric inputs.
export function checkBatch(v) {
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isInteger(n) || n < minBatch() || n > maxBatch()) {
    throw new FieldError('batch', `batch = ${String(v).slice(0, 40)}: must be a whole number from ${minBatch()} to ${maxBatch()}`);
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
