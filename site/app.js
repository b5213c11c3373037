// The playground's controller: boots the engine worker, fills and reads the
// inputs, keeps them in the URL, runs compilations, and schedules the plots.
// Rendering is spread over animation frames (one plot per frame) so the main
// thread never runs a long task.

import { CancelledError, Engine } from './engine.js';
import * as ChipForm from './chipform.js';
import { bytes, esc, int, si } from './format.js';
import {
  drawBatches, drawChip, drawConvergence, drawEnergy, drawPhases, drawStrip, drawTimeline, drawValidity,
  optimumScore, prepare, summaryHTML, zoomWindows,
} from './plots.js';
import { BATCHES, GA_DEFAULTS, checkBatch, checkSeed, defaultState, gaRequest, parseQuery, toQuery } from './state.js';
import { METHODS, installPatterns } from './svg.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

const el = {
  form: $('#inputs'), model: $('#model'), upload: $('#upload'), chip: $('#chip'), batch: $('#batch'),
  objective: $('#objective'), seed: $('#seed'), run: $('#run'), cancel: $('#cancel'), progress: $('#progress'),
  status: $('#status'), modelInfo: $('#model-info'), runInfo: $('#run-info'), chipForm: $('#chip-form'),
  chipEdits: $('#chip-edits'), chipReset: $('#chip-reset'), gaEdits: $('#ga-edits'), download: $('#download'),
  exportMethod: $('#export-method'), exportProgram: $('#export-program'), exportListing: $('#export-listing'), exportStatus: $('#export-status'),
  linkCode: $('#link-code'), embedCode: $('#embed-code'), copyStatus: $('#copy-status'), version: $('#version'),
  openFull: $('#open-full'),
};
const fig = (name) => $(`figure[data-plot="${name}"]`);

const app = {
  embed: false,
  engine: null, // the main worker (compile, inspect, loadModel)
  sweeper: null, // a second worker for the batch comparison, so it never delays a run
  uploads: [], // [{name, bytes}] replayed into every new worker
  models: [],
  chips: new Map(), // preset name -> chip object
  running: false,
  sweeping: false,
  result: null, // {text, view, chip, request}
  sweep: null, // the batch comparison of the current result
  sim: null, // the simulated run of the current result: {res, chip, trace}
  runToken: 0,
  renderToken: 0,
  sweepToken: 0,
};

// ------------------------------------------------------------------ status

function setStatus(state, text) {
  el.status.dataset.state = state;
  el.status.textContent = text;
  document.body.dataset.state = state;
}

function setRunning(on) {
  app.running = on;
  el.run.disabled = on || !app.engine;
  el.cancel.disabled = !on && !app.sweeping;
}

// ------------------------------------------------------------------ engine

function startEngine() {
  const e = new Engine(app.uploads);
  e.onFatal = (msg) => {
    if (app.engine !== e) return;
    setRunning(false);
    el.run.disabled = true;
    setStatus('error', `${msg}. Reload the page to try again.`);
  };
  app.engine = e;
  return e;
}

function startSweeper() {
  if (!app.sweeper || app.sweeper.dead) app.sweeper = new Engine(app.uploads);
  return app.sweeper;
}

function stopSweep() {
  if (app.sweeping && app.sweeper) { app.sweeper.terminate(); app.sweeper = null; }
  app.sweeping = false;
  app.sweepToken++;
}

async function boot() {
  installPatterns(document);
  const { state, warnings } = parseQuery(location.search);
  app.embed = state.embed;
  document.body.classList.toggle('embed', app.embed);
  setStatus('loading', 'Starting the engine…');
  const engine = startEngine();
  try {
    await engine.ready;
    const [models, chips] = await Promise.all([engine.json('models'), engine.json('chips')]);
    app.models = models.value;
    for (const c of chips.value) app.chips.set(c.name, c);
    if (engine.version) el.version.textContent = `${engine.version.version} (${engine.version.go})`;
  } catch (err) {
    setStatus('error', `Could not start the engine: ${err.message}`);
    return;
  }
  fillModels();
  fillChips();
  el.model.disabled = false;
  el.chip.disabled = false;
  const problems = [...warnings, ...applyState(state)];
  setRunning(false);
  wireInputs();
  wirePlots();
  updateShare();
  if (problems.length) {
    setStatus('error', `This link could not be applied fully: ${problems.join('; ')}.`);
  } else {
    setStatus('idle', 'Ready. Choose a model and a chip, then Run.');
    if (state.run) {
      await frame(); // paint the filled form first: two short tasks, not one long one
      run();
      return;
    }
  }
  refreshInspect();
}

// ------------------------------------------------------------------ inputs

function fillModels() {
  const zoo = app.models.map((m) => `<option value="${esc(m.name)}" title="${esc(m.description || m.family)}">${esc(m.name)}</option>`).join('');
  const up = app.uploads.map((u) => `<option value="upload:${esc(u.name)}">${esc(u.name)} (uploaded)</option>`).join('');
  el.model.innerHTML = `<optgroup label="Model zoo">${zoo}</optgroup>${up ? `<optgroup label="Uploaded">${up}</optgroup>` : ''}`;
}

function fillChips() {
  el.chip.innerHTML = [...app.chips.values()].map((c) =>
    `<option value="${esc(c.name)}">${esc(c.name)}: ${esc(c.cores)}×${esc(c.crossbars_per_core)} crossbars</option>`).join('');
}

function preset() { return app.chips.get(el.chip.value); }

function selectChip(name) {
  el.chip.value = name;
  ChipForm.build(el.chipForm, preset());
  el.chipForm.dataset.chip = name;
  noteChipEdits();
}

// syncChipForm rebuilds the parameter form if the chip select was changed
// without a change event (by a script), so edits always refer to its preset.
function syncChipForm() {
  if (el.chipForm.dataset.chip !== el.chip.value && preset()) selectChip(el.chip.value);
}

function hasOption(select, value) { return [...select.options].some((o) => o.value === value); }

// applyState writes a parsed URL state into the form and returns problems.
function applyState(s) {
  const problems = [];
  if (hasOption(el.model, s.model)) el.model.value = s.model;
  else {
    problems.push(s.model.startsWith('upload:')
      ? `the model ${s.model.slice(7)} was a file uploaded in another page: choose it with the upload control`
      : `unknown model ${s.model}`);
  }
  if (app.chips.has(s.chip)) selectChip(s.chip);
  else { problems.push(`unknown chip ${s.chip}`); selectChip(app.chips.keys().next().value); }
  el.batch.value = s.batch;
  for (const cb of $$('input[name=method]')) cb.checked = s.methods.includes(cb.value);
  el.objective.value = s.objective;
  el.seed.value = s.seed;
  for (const input of $$('[data-ga]')) {
    const k = input.dataset.ga;
    const v = k in s.ga ? s.ga[k] : GA_DEFAULTS[k];
    if (input.type === 'checkbox') input.checked = v === true || v === 'true' || v === '1';
    else input.value = v;
  }
  const unknown = ChipForm.applyEdits(el.chipForm, s.chipEdits);
  if (unknown.length) problems.push(`chip ${el.chip.value} has no parameter ${unknown.join(', ')}`);
  noteChipEdits();
  noteGAEdits();
  return problems;
}

function readGA() {
  const ga = {};
  for (const input of $$('[data-ga]')) {
    const k = input.dataset.ga;
    if (input.type === 'checkbox') { if (input.checked !== GA_DEFAULTS[k]) ga[k] = input.checked; } else if (input.value !== String(GA_DEFAULTS[k])) ga[k] = input.value;
  }
  return ga;
}

// readState is the form as a state object (values as typed).
function readState() {
  syncChipForm();
  const s = defaultState();
  s.model = el.model.value;
  s.chip = el.chip.value;
  s.batch = el.batch.value;
  s.methods = $$('input[name=method]').filter((c) => c.checked).map((c) => c.value);
  s.objective = el.objective.value;
  s.seed = el.seed.value;
  s.ga = readGA();
  s.chipEdits = ChipForm.readEdits(el.chipForm, preset());
  return s;
}

function noteChipEdits() {
  const n = Object.keys(ChipForm.readEdits(el.chipForm, preset())).length;
  el.chipEdits.textContent = n ? `(${n} edited)` : '';
}

function noteGAEdits() {
  const n = Object.keys(readGA()).length;
  el.gaEdits.textContent = n ? `(${n} changed)` : '';
}

// buildRequest validates the state and returns the engine request.
function buildRequest(s) {
  if (!s.methods.length) throw new Error('choose at least one method');
  const req = { model: s.model, chip: s.chip };
  if (Object.keys(s.chipEdits).length) req.chip_spec = ChipForm.spec(preset(), s.chipEdits);
  req.batch = checkBatch(s.batch);
  req.methods = METHODS.filter((m) => s.methods.includes(m));
  req.objective = s.objective;
  req.seed = checkSeed(s.seed);
  const ga = gaRequest(s.ga);
  if (ga) req.ga = ga;
  return req;
}

let inspectTimer = 0;
let inspectToken = 0;

// refreshInspect shows what the chosen model needs of the chosen chip
// (debounced; skipped while the engine is busy).
function refreshInspect() {
  clearTimeout(inspectTimer);
  inspectTimer = setTimeout(async () => {
    if (app.running || !app.engine || app.engine.busy()) return;
    const s = readState();
    const req = { model: s.model, chip: s.chip };
    const token = ++inspectToken;
    try {
      if (Object.keys(s.chipEdits).length) req.chip_spec = ChipForm.spec(preset(), s.chipEdits);
      const { value: r } = await app.engine.json('inspect', [JSON.stringify(req)]);
      if (token !== inspectToken) return;
      el.modelInfo.classList.remove('error');
      const need = r.crossbars_needed;
      const have = r.crossbars_available;
      const zoo = app.models.find((m) => m.name === s.model);
      el.modelInfo.textContent = `${r.model}${zoo && zoo.description ? ` (${zoo.description})` : ''}: ${int(r.params)} parameters, ${bytes(r.weight_bytes)} of weights at the chip's precision, ` +
        `${int(r.layers.length)} crossbar layers in ${int(r.units)} partition units needing ${int(need)} crossbars. ` +
        `Chip ${r.chip} has ${int(have)} crossbars (${bytes(r.chip_weight_bytes)}): ` +
        (r.fits ? 'the whole network fits, so one partition can hold it.' : `the network needs ${(need / have).toFixed(1)}× the chip, so it must be cut into partitions.`);
    } catch (err) {
      if (token !== inspectToken || err instanceof CancelledError) return;
      el.modelInfo.classList.add('error');
      el.modelInfo.textContent = err.message;
    }
  }, 250);
}

async function onUpload() {
  const file = el.upload.files && el.upload.files[0];
  if (!file) return;
  setStatus('loading', `Reading ${file.name}…`);
  try {
    const data = new Uint8Array(await file.arrayBuffer());
    const { value: info } = await app.engine.json('loadModel', [file.name, data]);
    app.uploads = app.uploads.filter((u) => u.name !== file.name).concat({ name: file.name, bytes: data });
    if (app.sweeper && !app.sweeping) { app.sweeper.terminate(); app.sweeper = null; } // it lacks the file
    fillModels();
    el.model.value = info.name;
    setStatus('idle', `Loaded ${file.name}: ${int(info.layers)} crossbar layers, ${int(info.params)} parameters. Run to compile it.`);
    updateShare();
    refreshInspect();
  } catch (err) {
    if (err instanceof CancelledError) setStatus('cancelled', `Loading ${file.name} was cancelled with the run: choose the file again.`);
    else setStatus('error', `Could not load ${err.message.includes(file.name) ? 'the model file' : file.name}: ${err.message}`);
  } finally {
    el.upload.value = ''; // so choosing the same (edited) file again loads it again
  }
}

function wireInputs() {
  el.form.addEventListener('submit', (ev) => { ev.preventDefault(); if (!app.running) run(); });
  el.cancel.addEventListener('click', cancel);
  el.upload.addEventListener('change', onUpload);
  el.chip.addEventListener('change', () => { selectChip(el.chip.value); changed(); });
  el.chipReset.addEventListener('click', () => { selectChip(el.chip.value); changed(); });
  el.chipForm.addEventListener('input', () => { noteChipEdits(); changed(); });
  el.chipForm.addEventListener('change', () => { noteChipEdits(); changed(); });
  $('#advanced').addEventListener('input', () => { noteGAEdits(); updateShare(); });
  for (const c of [el.model, el.batch, el.objective, el.seed, ...$$('input[name=method]')]) {
    c.addEventListener('change', changed);
  }
  el.download.addEventListener('click', download);
  el.exportProgram.addEventListener('click', () => exportProgram('msgpack'));
  el.exportListing.addEventListener('click', () => exportProgram('listing'));
  for (const b of $$('button.copy')) b.addEventListener('click', () => copy($(`#${b.dataset.copy}`)));
}

function changed() {
  updateShare();
  refreshInspect();
}

// ------------------------------------------------------------------- share

function pageBase() { return location.href.split(/[?#]/)[0]; }

function updateShare() {
  const s = readState();
  const q = toQuery(s, { run: true });
  el.linkCode.value = `${pageBase()}?${q}`;
  const title = `COMPASS-Go: ${s.model} on chip ${s.chip}`;
  el.embedCode.value = `<iframe src="${esc(`${pageBase()}?${toQuery(s, { run: true, embed: true })}`)}" title="${esc(title)}" ` +
    'width="100%" height="620" style="border:0" loading="lazy"></iframe>';
  el.openFull.href = `?${q}`;
  el.copyStatus.textContent = s.model.startsWith('upload:')
    ? 'The link and the snippet name an uploaded model, which never leaves this page: whoever opens them must upload the same file.'
    : '';
}

async function copy(textarea) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(textarea.value);
    ok = true;
  } catch {
    textarea.focus();
    textarea.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  el.copyStatus.textContent = ok ? 'Copied.' : 'Select the text and copy it by hand (Ctrl+C or ⌘C).';
}

function saveBlob(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function exportName(ext, method) {
  const r = app.result.view.res;
  const safe = (s) => String(s).replace(/[^A-Za-z0-9._-]+/g, '-');
  return `compass-${safe(r.model)}-${safe(r.chip)}-b${r.batch}${method ? `-${safe(method)}` : ''}.${ext}`;
}

function download() {
  if (!app.result) return;
  saveBlob(new Blob([app.result.text], { type: 'application/json' }), exportName('json'));
}

// fillExportMethods offers the last run's methods for the program export.
function fillExportMethods(res) {
  el.exportMethod.innerHTML = res.results.map((r) => `<option value="${esc(r.method)}">${esc(r.method)}</option>`).join('');
  el.exportMethod.value = res.results.some((r) => r.method === 'compass') ? 'compass' : res.results[0].method;
  el.exportProgram.disabled = false;
  el.exportListing.disabled = false;
}

// exportProgram schedules the last run with one method in the worker and
// saves the instruction program as msgpack or as a text listing.
async function exportProgram(kind) {
  if (!app.result) return;
  const method = el.exportMethod.value;
  const req = { ...app.result.request, methods: [method] };
  el.exportStatus.textContent = `Scheduling ${method}…`;
  try {
    const r = await app.engine.call('program', [JSON.stringify(req)]);
    if (!r.ok) throw new Error(r.error);
    if (kind === 'msgpack') saveBlob(new Blob([r.msgpack], { type: 'application/x-msgpack' }), exportName('msgpack', method));
    else saveBlob(new Blob([r.listing], { type: 'text/plain' }), exportName('txt', method));
    el.exportStatus.textContent = kind === 'msgpack' ? `Program saved (${int(r.msgpack.length)} bytes).` : `Listing saved (${int(r.listing.length)} characters).`;
  } catch (err) {
    el.exportStatus.textContent = err instanceof CancelledError ? 'Cancelled.' : `Export failed: ${err.message}`;
  }
}

// --------------------------------------------------------------------- run

const GA_GENERATIONS = { 'compass-paper': 30 };

async function run() {
  let req;
  const s = readState();
  try {
    req = buildRequest(s);
  } catch (err) {
    setStatus('error', `Cannot run: ${err.message}.`);
    return;
  }
  const token = ++app.runToken;
  history.replaceState(null, '', `?${toQuery(s, { run: true, embed: app.embed })}`);
  updateShare();
  stopSweep();
  clearTimeout(inspectTimer);
  setRunning(true);
  el.progress.removeAttribute('value'); // indeterminate until the GA reports
  const what = `${req.model} on chip ${req.chip} at batch ${req.batch}`;
  setStatus('running', `Compiling ${what}…`);
  const t0 = performance.now();
  const maxGen = { ...GA_GENERATIONS, compass: req.ga && req.ga.generations !== undefined ? req.ga.generations : GA_DEFAULTS.generations };
  const onProgress = (method, gen) => {
    // Methods run one after another in canonical order: progress is the
    // methods done plus the current GA's share of its generation budget.
    const i = req.methods.indexOf(method);
    const frac = (i + Math.min(1, (gen.index + 1) / ((maxGen[method] ?? 100) + 1))) / req.methods.length;
    el.progress.value = Math.round(100 * frac);
    el.status.textContent = `Compiling ${what}… ${method}: generation ${gen.index}`;
  };
  const engine = app.engine;
  let reply;
  try {
    reply = await engine.call('compile', [JSON.stringify(req)], onProgress);
  } catch (err) {
    if (err instanceof CancelledError) return; // cancel() has set the status
    setRunning(false);
    setStatus('error', `The engine failed: ${err.message}`);
    return;
  }
  setRunning(false);
  el.progress.value = 100;
  if (!reply.ok) {
    el.progress.value = 0;
    setStatus('error', reply.error);
    return;
  }
  const res = JSON.parse(reply.json);
  if (reply.validEnds) res.valid_ends = reply.validEnds; // the same numbers, as an Int32Array
  const chip = req.chip_spec || app.chips.get(req.chip);
  app.result = { text: reply.json, view: prepare(res), chip, request: req };
  window.compassLastResult = reply.json;
  el.download.disabled = false;
  fillExportMethods(res);
  const secs = ((performance.now() - t0) / 1000).toFixed(2);
  await renderResult();
  if (token !== app.runToken) return; // a newer run has started meanwhile
  setStatus('done', `Done in ${secs} s: ${res.results.length} method${res.results.length > 1 ? 's' : ''}, ${int(res.units)} units.`);
  if (!app.embed) startBatchComparison(req);
  refreshInspect();
}

function cancel() {
  if (app.running) {
    app.engine.terminate();
    startEngine();
    setRunning(false);
    el.progress.value = 0;
    setStatus('cancelled', app.result ? 'Cancelled. The plots show the previous result.' : 'Cancelled.');
    refreshInspect();
  }
  if (app.sweeping) {
    stopSweep();
    batchesNote('The batch comparison was cancelled. Run again to compute it.');
    setRunning(app.running);
  }
}

// ------------------------------------------------------------ batch sweep

function batchesNote(text) {
  const f = fig('batches');
  f.removeAttribute('data-ready');
  $('.plot-body', f).innerHTML = `<svg class="chart empty" aria-hidden="true"></svg><p class="placeholder">${esc(text)}</p>`;
  $('.readout', f).textContent = '';
}

// startBatchComparison compiles the current model and chip at batches 1-16
// in the second worker: compass.sweep for a preset chip, one compile per
// batch (same figures) for an edited chip, which sweep cannot take.
async function startBatchComparison(req) {
  const token = ++app.sweepToken;
  app.sweep = null;
  app.sim = null;
  app.sweeping = true;
  setRunning(false);
  batchesNote('Comparing batch sizes…');
  const sweeper = startSweeper();
  const onProgress = (done, total) => {
    if (token === app.sweepToken) batchesNote(`Comparing batch sizes… ${done} of ${total} done.`);
  };
  try {
    let out;
    if (req.chip_spec) {
      out = await sweeper.json('batchCompare', [JSON.stringify({
        model: req.model, chip: req.chip, chip_spec: req.chip_spec, batches: BATCHES, methods: req.methods, objective: req.objective, seed: req.seed,
      })], onProgress);
    } else {
      out = await sweeper.json('sweep', [JSON.stringify({
        models: [req.model], chips: [req.chip], batches: BATCHES, methods: req.methods, objective: req.objective, seed: req.seed,
      })], onProgress);
    }
    if (token !== app.sweepToken) return;
    app.sweep = out.value;
    await frame();
    renderBatches();
    await simulateTimeline(sweeper, req, token);
    app.sweeping = false;
    setRunning(app.running);
  } catch (err) {
    if (token !== app.sweepToken || err instanceof CancelledError) return;
    app.sweeping = false;
    setRunning(app.running);
    batchesNote(`The batch comparison failed: ${err.message}`);
  }
}

// ----------------------------------------------------------------- render

// frame resolves at the next animation frame (or task, in a hidden tab,
// where frames do not run), so each plot is its own short task.
function frame() {
  return new Promise((resolve) => {
    if (document.hidden) setTimeout(resolve, 0);
    else requestAnimationFrame(() => setTimeout(resolve, 0));
  });
}

function plotWidth(f) {
  const body = $('.plot-body', f) || f;
  return Math.max(280, Math.floor(body.clientWidth));
}

function ready(f, on = true) {
  if (on) f.dataset.ready = 'true';
  else f.removeAttribute('data-ready');
}

function defaultMethod(view, withAll = false) {
  if (withAll && app.embed) return 'all'; // the widget compares every method's cuts
  return view.byMethod.compass ? 'compass' : view.res.results[view.res.results.length - 1].method;
}

// fillMethodSelect lists the result's methods, keeping the current choice.
function fillMethodSelect(select, view, withAll = false) {
  const cur = select.value;
  const ms = view.res.results.map((r) => r.method);
  select.innerHTML = (withAll ? '<option value="all">all methods</option>' : '') +
    ms.map((m) => `<option value="${esc(m)}">${esc(m)}</option>`).join('');
  select.value = ms.includes(cur) || (withAll && cur === 'all') ? cur : defaultMethod(view, withAll);
}

function fillPartitionSelect(select, r) {
  const cur = Number(select.value) || 0;
  select.innerHTML = r.partitions.map((p) => `<option value="${p.index}">${p.index}: ${esc(p.first_layer)}` +
    `${p.first_layer === p.last_layer ? '' : ` – ${esc(p.last_layer)}`} (units ${p.first_unit}–${p.end_unit - 1})</option>`).join('');
  select.value = String(Math.min(cur, r.partitions.length - 1));
}

// fillZoomSelect lists the validity map's windows; a new model resets it.
function fillZoomSelect(select, units) {
  const wins = zoomWindows(units);
  const html = wins.map((w, i) => `<option value="${i}">${esc(w.label)}</option>`).join('');
  if (select.dataset.units !== String(units)) {
    select.innerHTML = html;
    select.dataset.units = String(units);
    select.value = '0';
  }
  select.disabled = wins.length < 2;
}

const RENDERERS = {
  summary() {
    const f = fig('summary');
    $('#summary').innerHTML = summaryHTML(app.result.view);
    ready(f);
  },
  strip() {
    const f = fig('strip');
    const sel = $('select[data-control=method]', f);
    drawStrip($('.plot-body', f), $('.readout', f), app.result.view, sel.value, plotWidth(f));
    ready(f);
  },
  validity() {
    const f = fig('validity');
    const sel = $('select[data-control=method]', f);
    const wins = zoomWindows(app.result.view.res.units);
    const win = wins[Number($('select[data-control=zoom]', f).value) || 0] || wins[0];
    drawValidity($('.plot-body', f), $('.readout', f), app.result.view, sel.value, win, plotWidth(f));
    ready(f);
  },
  phases() {
    const f = fig('phases');
    const sel = $('select[data-control=method]', f);
    drawPhases($('.plot-body', f), $('.readout', f), app.result.view, sel.value, $('select[data-control=mode]', f).value, plotWidth(f));
    ready(f);
  },
  convergence() {
    const f = fig('convergence');
    const { view } = app.result;
    const res = view.res;
    const series = res.results.filter((r) => r.ga).map((r) => ({ method: r.method, history: r.ga.history, stoppedEarly: r.ga.stopped_early }));
    if (!series.length) {
      ready(f, false);
      $('.plot-body', f).innerHTML = '<svg class="chart empty" aria-hidden="true"></svg><p class="placeholder">No genetic algorithm ran: tick compass or compass-paper to see its convergence.</p>';
      $('.readout', f).textContent = '';
      return;
    }
    const opt = view.byMethod.optimal;
    const optimum = opt ? optimumScore(opt, res.objective, res.batch) : null;
    drawConvergence($('.plot-body', f), $('.readout', f), series, optimum, res.objective, plotWidth(f));
    ready(f);
  },
  chip() {
    const f = fig('chip');
    const { view, chip } = app.result;
    const method = $('select[data-control=method]', f).value;
    const p = Number($('select[data-control=partition]', f).value) || 0;
    const r = view.byMethod[method];
    const part = r.partitions[p];
    $('[data-role=chip-note]', f).textContent = `Partition ${p} of ${r.partitions.length}: units ${part.first_unit}–${part.end_unit - 1}, ` +
      `${part.crossbars_used} of ${part.crossbars_available} crossbars used; its time ${si(part.time_s, 's')} for the batch.`;
    drawChip($('.plot-body', f), $('.readout', f), view, method, p, chip, plotWidth(f));
    ready(f);
  },
  energy() {
    const f = fig('energy');
    drawEnergy($('.plot-body', f), $('.readout', f), app.result.view, $('select[data-control=mode]', f).value, plotWidth(f));
    ready(f);
  },
};

// Plots shown in embed mode; the others are not drawn there.
const EMBED_PLOTS = ['summary', 'strip'];

function timelineNote(text) {
  const f = fig('timeline');
  f.removeAttribute('data-ready');
  $('.plot-body', f).innerHTML = `<svg class="chart empty" aria-hidden="true"></svg><p class="placeholder">${esc(text)}</p>`;
  $('.readout', f).textContent = '';
}

// simulateTimeline runs the simulator on one method's plan in the second
// worker (after the batch comparison) and draws its per-core timeline.
async function simulateTimeline(sweeper, req, token) {
  const method = req.methods.includes('compass') ? 'compass' : req.methods[req.methods.length - 1];
  timelineNote(`Simulating the ${method} plan…`);
  try {
    const r = await sweeper.call('simulate', [JSON.stringify({ ...req, methods: [method] })]);
    if (token !== app.sweepToken) return;
    if (!r.ok) throw new Error(r.error);
    app.sim = { res: JSON.parse(r.json), chip: req.chip_spec || app.chips.get(req.chip),
      trace: { core: r.traceCore, op: r.traceOp, start: r.traceStart, end: r.traceEnd } };
    await frame();
    renderTimeline();
  } catch (err) {
    if (token !== app.sweepToken || err instanceof CancelledError) return;
    timelineNote(`The simulation failed: ${err.message}`);
  }
}

function renderTimeline() {
  if (!app.sim) return;
  const f = fig('timeline');
  drawTimeline($('.plot-body', f), $('.readout', f), app.sim, app.sim.chip.cores, plotWidth(f));
  ready(f);
}

function renderBatches() {
  if (!app.sweep) return;
  const f = fig('batches');
  drawBatches($('.plot-body', f), $('.readout', f), app.sweep, $('select[data-control=metric]', f).value, plotWidth(f));
  ready(f);
}

function runInfo(res) {
  const fit = res.fits
    ? 'the whole network fits on the chip'
    : `the network needs ${(res.crossbars_needed / res.crossbars_available).toFixed(1)}× the chip's crossbars, so every method must cut it into partitions`;
  el.runInfo.textContent = `${res.model} on chip ${res.chip}, batch ${res.batch}, objective ${res.objective}, seed ${res.seed}: ` +
    `${int(res.units)} partition units in ${int(res.layers.length)} layers need ${int(res.crossbars_needed)} crossbars and the chip has ` +
    `${int(res.crossbars_available)}; ${fit}.`;
}

// renderResult draws every plot of the current result, one per frame.
async function renderResult() {
  const token = ++app.renderToken;
  const { view } = app.result;
  runInfo(view.res);
  for (const name of ['strip', 'validity', 'phases', 'chip']) {
    fillMethodSelect($('select[data-control=method]', fig(name)), view, name === 'strip');
  }
  fillZoomSelect($('select[data-control=zoom]', fig('validity')), view.res.units);
  const chipFig = fig('chip');
  fillPartitionSelect($('select[data-control=partition]', chipFig), view.byMethod[$('select[data-control=method]', chipFig).value]);
  const names = app.embed ? EMBED_PLOTS : Object.keys(RENDERERS);
  for (const name of names) {
    await frame();
    if (token !== app.renderToken) return;
    RENDERERS[name]();
  }
}

function wirePlots() {
  for (const name of ['strip', 'validity', 'phases', 'energy']) {
    for (const sel of $$('select[data-control]', fig(name))) {
      sel.addEventListener('change', () => { if (app.result) RENDERERS[name](); });
    }
  }
  const chipFig = fig('chip');
  $('select[data-control=method]', chipFig).addEventListener('change', (ev) => {
    if (!app.result) return;
    fillPartitionSelect($('select[data-control=partition]', chipFig), app.result.view.byMethod[ev.target.value]);
    RENDERERS.chip();
  });
  $('select[data-control=partition]', chipFig).addEventListener('change', () => { if (app.result) RENDERERS.chip(); });
  $('select[data-control=metric]', fig('batches')).addEventListener('change', renderBatches);
  // Redraw at the new width when the layout changes (debounced).
  let lastW = 0;
  let timer = 0;
  new ResizeObserver((entries) => {
    const w = Math.round(entries[0].contentRect.width);
    if (w === lastW) return;
    lastW = w;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (app.result) renderResult();
      if (app.sweep && !app.embed) frame().then(renderBatches);
      if (app.sim && !app.embed) frame().then(renderTimeline);
    }, 150);
  }).observe($('#results'));
}

boot();
