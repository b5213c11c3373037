// The engine's own description of what the page shows (api.PageMeta, from
// compass.meta in the worker): the methods with a line each, the objectives
// and the result figure each minimises, the GA settings with their
// defaults, the batch bounds and the batch comparison's batch sizes. The
// page keeps no copy of these: boot() loads them once, before it reads the
// URL, and every module asks here.

let meta = null;

export function setMeta(m) { meta = m; }

export function engineMeta() {
  if (!meta) throw new Error('the engine\'s description (compass.meta) is not loaded yet');
  return meta;
}

export const methodNames = () => engineMeta().methods.map((m) => m.name);
export const objectiveNames = () => engineMeta().objectives.map((o) => o.name);
export const pipelineNames = () => engineMeta().pipelines.map((p) => p.name);
export const maxBatch = () => engineMeta().max_batch;
export const minBatch = () => engineMeta().min_batch;
export const comparisonBatches = () => engineMeta().comparison_batches;

// method is a method's entry ({name, summary, ga, ga_settable}), or null.
export function method(name) { return engineMeta().methods.find((m) => m.name === name) || null; }

// objective is an objective's entry; an unknown name gives the default (the first).
export function objective(name) {
  const os = engineMeta().objectives;
  return os.find((o) => o.name === name) || os[0];
}

// gaScore is a method result's figure in the units of the GA's best_score
// (score x to_si = figure x batch^batch_power, as the engine documents).
export function gaScore(r, name, batch) {
  const o = objective(name);
  return (r[o.minimises] * batch ** o.ga_score.batch_power) / o.ga_score.to_si;
}

// gaDefaults maps each key of a request's "ga" object to its default.
export function gaDefaults() { return Object.fromEntries(engineMeta().ga_settings.map((s) => [s.key, s.default])); }

// gaGenerations is the generation budget a GA method runs with under the
// request's "ga" (null for a method that is not a GA).
export function gaGenerations(name, ga) {
  const m = method(name);
  if (!m || !m.ga) return null;
  return m.ga_settable && ga && ga.generations !== undefined ? ga.generations : m.ga.generations;
}
