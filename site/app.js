// The playground's controller: boots the engine worker, fills and reads the
// inputs, keeps them in the URL, runs compilations, and schedules the plots.
// Rendering is spread over animation frames (one plot per frame) so the main
// thread never runs a long task.

import { CancelledError, Engine } from './engine.js';
import * as ChipForm from './chipform.js';
import { bytes, esc, int, si } from './format.js';
import {
  TIMELINE_LANES, drawBatches, drawChip, drawConvergence, drawEnergy, drawPhases, drawStrip, drawTimeline, drawValidity,
  laneOfOpcode, prepare, summaryHTML, zoomWindows,
} from './plots.js';
import { SCENARIOS } from './scenarios.js';
import { FieldError, checkBatch, checkSeed, defaultState, embedOptions, gaRequest, parseQuery, toQuery } from './state.js';
import { installPatterns } from './svg.js';
import {
  comparisonBatches, engineMeta, gaDefaults, gaGenerations, gaScore, maxBatch, methodNames, minBatch, pipelineNames, setMeta,
} from './meta.js';
import { RemoteEngine } from './remote.js';
import { initPaper, showPaper } from './paper.js';
import { frame, plotWidth } from './render.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

const el = {
  form: $('#inputs'), model: $('#model'), upload: $('#upload'), chip: $('#chip'), batch: $('#batch'),
  objective: $('#objective'), pipeline: $('#pipeline'), seed: $('#seed'), run: $('#run'), cancel: $('#cancel'), progress: $('#progress'),
  status: $('#status'), modelInfo: $('#model-info'), runInfo: $('#run-info'), chipForm: $('#chip-form'),
  chipEdits: $('#chip-edits'), chipReset: $('#chip-reset'), gaEdits: $('#ga-edits'), download: $('#download'),
  exportMethod: $('#export-method'), exportProgram: $('#export-program'), exportListing: $('#export-listing'), exportStatus: $('#export-status'),
  linkCode: $('#link-code'), embedCode: $('#embed-code'), copyStatus: $('#copy-status'), version: $('#version'),
  openFull: $('#open-full'), scenarioNote: $('#scenario-note'), modelInputs: $('#model-inputs'), apiUrl: $('#api-url'),
  remoteState: $('#remote-state'),
};
const fig = (name) => $(`figure[data-plot="${name}"]`);

const app = {
  view: 'playground', // or 'paper'
  embed: false,
  embedPlots: ['summary', 'strip'], // the plots an embed shows (?plots=)
  scenario: null, // the guided experiment being shown, by name
  remote: null, // a RemoteEngine when the user named an HTTP API, else null
  engine: null, // the main worker (compile, inspect, loadModel)
  sweeper: null, // a second worker for the batch comparison, so it never delays a run
  uploads: [], // [{name, bytes}] replayed into every new worker
  models: [],
  chips: new Map(), // preset name -> chip object
  running: false,
  sweeping: false,
  result: null, // {text, view, chip, request}
  sweep: null, // the batch comparison of the current result
  sim: null, // the simulated run of the current result: {res, chip, timeline}
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

const plural = (n, one, many = `${one}s`) => `${int(n)} ${n === 1 ? one : many}`;

// timed runs one main-thread step and records its length as a performance
// measure "compass:NAME" (scripts/bench-page.sh reports the longest).
function timed(name, fn) {
  const t0 = performance.now();
  const v = fn();
  try { performance.measure(`compass:${name}`, { start: t0 }); } catch { /* older browsers: no options form */ }
  return v;
}

// ------------------------------------------------------------ field errors

// fieldControl is the form control that sets a request field, given its
// JSON path ("batch", "ga.population", "chip_spec.cores", "model").
function fieldControl(path) {
  if (!path) return null;
  const direct = { batch: el.batch, seed: el.seed, model: el.model, objective: el.objective, pipeline: el.pipeline, chip: el.chip, methods: $('fieldset.methods') };
  if (direct[path]) return direct[path];
  if (path.startsWith('ga.')) return $(`[data-ga="${CSS.escape(path.slice(3))}"]`);
  if (path.startsWith('chip_spec.')) return el.chipForm.querySelector(`[data-key="${CSS.escape(path.slice(10))}"]`);
  if (path.startsWith('inputs')) {
    const name = path.slice(7);
    return (name && $(`input[data-input="${CSS.escape(name)}"]`, el.modelInputs)) || $('input.dynamic', el.modelInputs) || $('input', el.modelInputs);
  }
  return null;
}

// showFieldError puts a message next to the control of a request field
// (opening its section) and marks it invalid; false if no control sets it.
function showFieldError(path, message) {
  const c = fieldControl(path);
  if (!c) return false;
  const details = c.closest('details');
  if (details) details.open = true;
  const id = `err-${path.replace(/[^a-z0-9]+/gi, '-')}`;
  let p = document.getElementById(id);
  if (!p) {
    p = document.createElement('p');
    p.id = id;
    p.className = 'field-error';
    p.dataset.field = path;
    const holder = c.closest('.field, .control') || c;
    if (holder === c) c.after(p); else holder.append(p);
  }
  p.textContent = message;
  c.setAttribute('aria-invalid', 'true');
  const ids = new Set((c.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
  ids.add(id);
  c.setAttribute('aria-describedby', [...ids].join(' '));
  return true;
}

function clearFieldErrors() {
  for (const p of $$('.field-error')) p.remove();
  for (const c of $$('[aria-invalid=true]')) {
    c.removeAttribute('aria-invalid');
    const ids = (c.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.startsWith('err-'));
    if (ids.length) c.setAttribute('aria-describedby', ids.join(' ')); else c.removeAttribute('aria-describedby');
  }
}

// CHIP_PROBLEM matches the chip validator's lines, 'chip "M": cores = 0: rule'.
const CHIP_PROBLEM = /^chip "[^"]*": ([a-z_]+(?:\.[a-z_]+)?) = (.*)$/;

// showEngineError shows a failed engine reply in plain words: an input
// error next to its field (and in the status line), a limit as a refusal,
// a bug as a short apology. It returns the status text.
function showEngineError(reply, what) {
  const msg = String(reply.error || `${what} failed`);
  let placed = 0;
  if (reply.errorKind === 'input' && reply.field) {
    const text = msg.startsWith(`${reply.field}: `) ? msg.slice(reply.field.length + 2) : msg;
    if (showFieldError(reply.field, text)) placed++;
  }
  // The chip validator lists every problem, one per line, each naming its key.
  for (const line of msg.split('\n')) {
    const m = CHIP_PROBLEM.exec(line.replace(/^chip_spec:\s*/, '').trim());
    if (m && showFieldError(`chip_spec.${m[1]}`, `${m[1]} = ${m[2]}`)) placed++;
  }
  if (reply.errorKind === 'limit') return `The engine refused this request as too large: ${msg}`;
  if (reply.errorKind === 'internal') return `The engine hit a bug (please report it with the link below): ${msg}`;
  const first = msg.split('\n')[0];
  return placed ? `${first}${placed > 1 || msg.includes('\n') ? ' (and more: see the marked fields)' : ' (see the marked field)'}` : msg;
}

// ------------------------------------------------------------------ engine

function startEngine() {
  const e = new Engine(app.uploads.filter((u) => u.bytes));
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
  if (!app.sweeper || app.sweeper.dead) app.sweeper = new Engine(app.uploads.filter((u) => u.bytes));
  return app.sweeper;
}

function stopSweep() {
  if (app.sweeping && app.sweeper) { app.sweeper.terminate(); app.sweeper = null; }
  app.sweeping = false;
  app.sweepToken++;
}

async function boot() {
  installPatterns(document);
  const early = embedOptions(location.search);
  app.embed = early.embed;
  if (early.plots && early.plots.length) app.embedPlots = early.plots;
  document.body.classList.toggle('embed', app.embed);
  for (const name of app.embedPlots) fig(name).classList.add('embed-shown');
  if (app.embed) reportHeight();
  setStatus('loading', 'Starting the engine…');
  const engine = startEngine();
  try {
    await engine.ready;
    const [meta, models, chips] = await Promise.all([engine.json('meta'), engine.json('models'), engine.json('chips')]);
    setMeta(meta.value);
    window.compassMeta = meta.text; // for tests: the description the page runs on
    app.models = models.value;
    for (const c of chips.value) app.chips.set(c.name, c);
    if (engine.version) el.version.textContent = `${engine.version.version} (${engine.version.go})`;
  } catch (err) {
    setStatus('error', `Could not start the engine: ${err.message}`);
    return;
  }
  // The URL is read once the engine has said which methods, objectives and
  // GA settings it has.
  const { state, warnings } = parseQuery(location.search);
  fillFromMeta();
  fillModels();
  fillChips();
  el.model.disabled = false;
  el.chip.disabled = false;
  const scenario = state.scenario ? SCENARIOS[state.scenario] : null;
  if (state.scenario && !scenario) {
    warnings.push({ field: '', text: `unknown scenario ${state.scenario.slice(0, 40)} in the link (the scenarios are ${Object.keys(SCENARIOS).join(', ')})` });
  }
  const problems = [...warnings, ...applyState(state)];
  setRunning(false);
  wireInputs();
  wirePlots();
  wireScenarios();
  updateShare();
  initPaper((family) => { if (app.view === 'paper') history.replaceState(null, '', `?view=paper&family=${encodeURIComponent(family)}`); });
  wireViews();
  if (state.view === 'paper' && !app.embed) {
    // The Paper view opens on its own figures; the playground waits for Run.
    setStatus('idle', 'Ready. Choose a model and a chip, then Run.');
    setView('paper', state.family);
    return;
  }
  if (problems.length) {
    for (const p of problems) if (p.field) showFieldError(p.field, p.text);
    setStatus('error', `This link could not be applied fully: ${problems.map((p) => p.text).join('; ')}. Correct it and press Run.`);
  } else if (scenario) {
    await frame();
    startScenario(state.scenario);
    return;
  } else {
    setStatus('idle', 'Ready. Choose a model and a chip, then Run.');
    if (state.run || state.first) {
      // A link with run=1 runs on load, and so does a first visit (no query
      // string), so that the page opens on a result rather than empty plots.
      await frame(); // paint the filled form first: two short tasks, not one long one
      run({ scroll: false });
      return;
    }
  }
  refreshInspect();
}

// ------------------------------------------------------------------ views

// setView shows the playground or the Paper view (the paper's figures
// redrawn from this engine); the Paper view computes its figures on first
// showing, in a worker of its own.
function setView(name, family = '') {
  app.view = name;
  document.body.dataset.view = name;
  for (const b of $$('[data-view]')) b.setAttribute('aria-pressed', String(b.dataset.view === name));
  const paper = name === 'paper';
  $('#paper').hidden = !paper;
  for (const id of ['scenarios', 'inputs', 'results', 'share']) $(`#${id}`).hidden = paper;
  if (paper) showPaper(family || $('#paper-family').value);
  else history.replaceState(null, '', `?${toQuery(readState())}`);
}

function wireViews() {
  for (const b of $$('[data-view]')) b.addEventListener('click', () => { if (app.view !== b.dataset.view) setView(b.dataset.view); });
}

// ----------------------------------------------------------------- embed

// reportHeight tells the page that embeds this one (the snippet's few lines
// of script listen for it) how tall the content is, whenever it changes.
function reportHeight() {
  if (window.parent === window) return;
  let last = 0;
  const send = () => {
    // The root box's height (scrollHeight would never shrink below the frame).
    const h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h === last) return;
    last = h;
    window.parent.postMessage({ type: 'compass-embed-height', height: h, href: location.href }, '*');
  };
  new ResizeObserver(send).observe(document.body);
  send();
}

// ------------------------------------------------------------------ inputs

// fillFromMeta writes the engine's methods (with their one-line summaries),
// objectives, GA settings and batch bounds into the form.
function fillFromMeta() {
  const meta = engineMeta();
  const legend = $('legend', $('fieldset.methods'));
  $('fieldset.methods').innerHTML = legend.outerHTML + meta.methods.map((m) =>
    `<label><input type="checkbox" name="method" value="${esc(m.name)}" checked> ${esc(m.name)} <small>${esc(m.summary)}</small></label>`).join('');
  el.objective.innerHTML = meta.objectives.map((o) => `<option value="${esc(o.name)}">${esc(o.summary)}</option>`).join('');
  el.pipeline.innerHTML = meta.pipelines.map((p) => `<option value="${esc(p.name)}">${esc(p.summary)}</option>`).join('');
  $('[data-role=comparison-batches]').textContent = comparisonBatches().join(', ');
  el.batch.min = String(minBatch());
  el.batch.max = String(maxBatch());
  const settable = meta.methods.filter((m) => m.ga_settable);
  const fixed = meta.methods.filter((m) => m.ga && !m.ga_settable);
  const list = (ms) => ms.map((m) => `<code>${esc(m.name)}</code> (${esc(m.summary)})`).join(', ');
  const settings = (m) => meta.ga_settings.map((g) => `${g.key} ${int(m.ga[g.key])}`).join(', ');
  $('#ga-hint').innerHTML = settable.length
    ? `These apply to ${list(settable)}; each field starts at its default.` +
      fixed.map((m) => ` <code>${esc(m.name)}</code> always runs with ${settings(m)}.`).join('')
    : 'No method takes these settings.';
  $('#ga-settings').innerHTML = meta.ga_settings.map((g) => `<div class="control narrow"><label for="ga-${esc(g.key)}" title="${esc(g.summary)}">` +
    `${esc(g.key[0].toUpperCase() + g.key.slice(1))} <small>(${esc(g.summary)})</small></label>` +
    `<input id="ga-${esc(g.key)}" data-ga="${esc(g.key)}" type="number" min="0" step="1" value="${esc(String(g.default))}" inputmode="numeric"></div>`).join('');
}

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
  const model = String(s.model).slice(0, 60);
  if (hasOption(el.model, s.model)) el.model.value = s.model;
  else {
    if (hasOption(el.model, defaultState().model)) el.model.value = defaultState().model;
    problems.push({ field: 'model', text: s.model.startsWith('upload:')
      ? `the model ${model.slice(7)} was a file uploaded in another page: choose it with the upload control`
      : `model=${model} in the link is not a network of the zoo (choose one from the list, or upload a file)` });
  }
  if (app.chips.has(s.chip)) selectChip(s.chip);
  else {
    problems.push({ field: 'chip', text: `chip=${String(s.chip).slice(0, 40)} in the link is not a preset (the presets are ${[...app.chips.keys()].join(', ')})` });
    selectChip(app.chips.keys().next().value);
  }
  el.batch.value = s.batch;
  for (const cb of $$('input[name=method]')) cb.checked = s.methods.includes(cb.value);
  el.objective.value = s.objective;
  el.pipeline.value = s.pipeline;
  el.seed.value = s.seed;
  const defaults = gaDefaults();
  for (const input of $$('[data-ga]')) {
    const k = input.dataset.ga;
    input.value = k in s.ga ? s.ga[k] : defaults[k];
  }
  const unknown = ChipForm.applyEdits(el.chipForm, s.chipEdits);
  if (unknown.length) problems.push({ field: '', text: `chip ${el.chip.value} has no parameter ${unknown.join(', ').slice(0, 120)}` });
  noteChipEdits();
  noteGAEdits();
  return problems;
}

function readGA() {
  const ga = {};
  const defaults = gaDefaults();
  for (const input of $$('[data-ga]')) {
    const k = input.dataset.ga;
    if (input.value !== String(defaults[k])) ga[k] = input.value;
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
  s.pipeline = el.pipeline.value;
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
  if (!s.methods.length) throw new FieldError('methods', 'choose at least one method');
  const req = { model: s.model, chip: s.chip };
  if (Object.keys(s.chipEdits).length) req.chip_spec = ChipForm.spec(preset(), s.chipEdits);
  req.batch = checkBatch(s.batch);
  req.methods = methodNames().filter((m) => s.methods.includes(m));
  req.objective = s.objective;
  if (s.pipeline !== pipelineNames()[0]) req.pipeline = s.pipeline;
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
      el.modelInfo.textContent = `${r.model}${zoo && zoo.description ? ` (${zoo.description})` : ''}: ${int(r.params)} parameters, ${bytes(r.weight_bytes)} of weights at each layer's precision, ` +
        `${plural(r.layers.length, 'crossbar layer')} in ${plural(r.units, 'partition unit')} needing ${plural(need, 'crossbar')}. ` +
        `Chip ${r.chip} has ${int(have)} crossbars (${bytes(r.chip_weight_bytes)}): ` +
        (r.fits ? 'the whole network fits, so one partition can hold it.' : `the network needs ${(need / have).toFixed(1)}× the chip, so it must be cut into partitions.`);
    } catch (err) {
      if (token !== inspectToken || err instanceof CancelledError) return;
      el.modelInfo.classList.add('error');
      el.modelInfo.textContent = err.message;
    }
  }, 250);
}

// ----------------------------------------------------------------- uploads

// onUpload reads a chosen model file in the page: it lists the file's
// inputs with their declared shapes (the #input-shape fields), and loads
// it at once unless an input has dynamic sizes the user must type first.
async function onUpload() {
  const file = el.upload.files && el.upload.files[0];
  if (!file) return;
  setStatus('loading', `Reading ${file.name}…`);
  clearFieldErrors();
  try {
    const data = new Uint8Array(await file.arrayBuffer());
    const { value: inputs } = await app.engine.json('modelInputs', [file.name, data]);
    app.pendingUpload = { name: file.name, bytes: data, inputs, options: null };
    showModelInputs(inputs);
    if (inputs.some((x) => x.dynamic)) {
      addUploadOption(file.name);
      el.model.value = `upload:${file.name}`;
      const first = $('input.dynamic', el.modelInputs);
      setStatus('idle', `${file.name} has inputs of dynamic size: type the highlighted sizes, then Run.`);
      if (first) first.focus();
      updateShare();
      return;
    }
    try {
      await loadUpload(app.pendingUpload, '');
    } catch (err) {
      // A file that reads once its inputs are set (an If that takes its
      // branch from an integer input's value): keep it chosen, so that Run
      // loads it with what the user types in its input fields.
      if (err instanceof UploadError && !(err.reply.blockers && err.reply.blockers.length)) {
        addUploadOption(file.name);
        el.model.value = `upload:${file.name}`;
        el.modelInputs.hidden = false;
        updateShare();
        const first = $('input[data-input-value]', el.modelInputs) || $('input[data-input]', el.modelInputs);
        if (first) first.focus();
        setStatus('error', `${uploadError(file.name, err)} Set its inputs in the fields below (the value of an integer input where a branch depends on it), then Run.`);
        return;
      }
      throw err;
    }
  } catch (err) {
    if (err instanceof CancelledError) setStatus('cancelled', `Loading ${file.name} was cancelled with the run: choose the file again.`);
    else setStatus('error', uploadError(file.name, err));
  } finally {
    el.upload.value = ''; // so choosing the same (edited) file again loads it again
  }
}

// UploadError carries a failed load's reply (blockers, field) to its message.
class UploadError extends Error {
  constructor(reply) { super(reply.error); this.reply = reply; }
}

// uploadError says why a file could not be read; a model with unsupported
// operators lists every one of them.
function uploadError(name, err) {
  const r = err.reply || {};
  if (r.blockers && r.blockers.length) {
    return `Could not read ${name}: it uses ${plural(r.blockers.length, 'operator')} this reader does not support yet. ` +
      `${r.blockers.map((b, i) => `(${i + 1}) ${b}`).join(' ')} Re-export the model without them (or with a newer opset), or ask for them to be supported.`;
  }
  if (r.field === 'inputs') {
    const text = showEngineError(r, 'reading the model');
    return `Could not read ${name}: ${text}`;
  }
  return `Could not load ${err.message.includes(name) ? 'the model file' : name}: ${err.message}`;
}

function addUploadOption(name) {
  if (!app.uploads.some((u) => u.name === name)) app.uploads.push({ name, bytes: null, options: '' });
  fillModels();
}

// loadUpload registers a file in the engine with its input settings.
async function loadUpload(up, options) {
  const reply = await app.engine.call('loadModel', [up.name, up.bytes, options]);
  if (!reply.ok) throw new UploadError(reply);
  const info = JSON.parse(reply.json);
  up.options = options;
  app.uploads = app.uploads.filter((u) => u.name !== up.name).concat({ name: up.name, bytes: up.bytes, options });
  if (app.sweeper && !app.sweeping) { app.sweeper.terminate(); app.sweeper = null; } // it lacks the file
  fillModels();
  el.model.value = info.name;
  setStatus('idle', `Loaded ${up.name}: ${plural(info.layers, 'crossbar layer')}, ${plural(info.params, 'parameter')}. Run to compile it.`);
  updateShare();
  refreshInspect();
  return info;
}

// showModelInputs draws one shape field per graph input, pre-filled with
// the declared sizes; dynamic sizes show the file's name for them (or ?)
// and are highlighted and required. The first field is #input-shape.
function showModelInputs(inputs) {
  el.modelInputs.innerHTML = inputs.map((x, i) => {
    const id = i === 0 ? 'input-shape' : `input-shape-${i + 1}`;
    const dims = x.shape.map((d, k) => (d >= 0 ? String(d) : k === 0 ? '1' : (x.dim_names && x.dim_names[k]) || '?'));
    const declared = x.shape.map((d, k) => (d >= 0 ? String(d) : (x.dim_names && x.dim_names[k]) || '?')).join(' × ');
    return `<div class="control"><label for="${id}">Input ${esc(x.name)} <span class="shape-note">(${esc(x.dtype)}, declared ${esc(declared)}` +
      `${x.dynamic ? '; type the highlighted sizes' : ''})</span></label>` +
      `<input id="${id}" type="text" data-input="${esc(x.name)}" value="${esc(dims.join(','))}" spellcheck="false"` +
      `${x.dynamic ? ' class="dynamic" required aria-required="true"' : ''}></div>` +
      // A small integer input (a sample rate, a mode flag) may be given a
      // value, so that branches and shapes depending on it fold.
      (/^u?int/.test(x.dtype) ? `<div class="control narrow"><label for="${id}-value">Value of ${esc(x.name)} <span class="shape-note">(optional)</span></label>` +
        `<input id="${id}-value" type="text" data-input-value="${esc(x.name)}" placeholder="e.g. 16000" spellcheck="false"></div>` : '');
  }).join('');
}

// inputOptions reads the input fields as api.ModelOptions JSON ('' when
// every input keeps its declared shape). Throws a FieldError naming the
// input and dimension that is not a size.
function inputOptions() {
  const up = app.pendingUpload;
  if (!up) return '';
  const settings = [];
  for (const f of $$('input[data-input]', el.modelInputs)) {
    const name = f.dataset.input;
    const decl = up.inputs.find((x) => x.name === name);
    const parts = f.value.split(/[,x×\s]+/).filter(Boolean);
    if (decl && parts.length !== decl.shape.length) {
      throw new FieldError(`inputs.${name}`, `input ${name} has ${decl.shape.length} dimensions; type ${decl.shape.length} sizes separated by commas`);
    }
    const shape = parts.map((p, k) => {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n < 1 || n > 1 << 20) {
        const dn = decl && decl.dim_names && decl.dim_names[k] ? ` (${decl.dim_names[k]})` : '';
        throw new FieldError(`inputs.${name}`, `input ${name}: dimension ${k}${dn} = ${p.slice(0, 20)} is not a size: type a whole number from 1 to ${1 << 20}`);
      }
      return n;
    });
    const vf = $(`input[data-input-value="${CSS.escape(name)}"]`, el.modelInputs);
    const value = vf && vf.value.trim() ? vf.value.split(/[,\s]+/).filter(Boolean).map((p) => {
      if (!/^-?\d+$/.test(p) || !Number.isSafeInteger(Number(p))) throw new FieldError(`inputs.${name}`, `input ${name}: value ${p.slice(0, 20)} is not a whole number`);
      return Number(p);
    }) : null;
    if (!value && decl && shape.every((d, k) => d === decl.shape[k] || (k === 0 && decl.shape[0] < 0 && d === 1))) continue;
    settings.push(value ? { name, shape, value } : { name, shape });
  }
  return settings.length ? JSON.stringify({ inputs: settings }) : '';
}

// ensureUploadLoaded (re)loads the chosen uploaded file when its input
// fields differ from what the engine holds.
async function ensureUploadLoaded(model) {
  const up = app.pendingUpload;
  if (!up || model !== `upload:${up.name}`) return;
  const options = inputOptions();
  if (up.options === options) return;
  try {
    await loadUpload(up, options);
  } catch (err) {
    if (err instanceof UploadError) {
      const r = err.reply;
      if (r.field && !r.blockers) showFieldError(r.field === 'inputs' || r.field === 'model' ? `inputs.${r.input || ''}` : r.field, r.error);
      throw new Error(uploadError(up.name, err));
    }
    throw err;
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
  for (const c of [el.model, el.batch, el.objective, el.pipeline, el.seed, ...$$('input[name=method]')]) {
    c.addEventListener('change', changed);
  }
  el.download.addEventListener('click', download);
  el.apiUrl.addEventListener('change', setRemote);
  el.exportProgram.addEventListener('click', () => exportProgram('msgpack'));
  el.exportListing.addEventListener('click', () => exportProgram('listing'));
  for (const b of $$('button.copy')) b.addEventListener('click', () => copy($(`#${b.dataset.copy}`)));
}

function changed() {
  el.modelInputs.hidden = !app.pendingUpload || el.model.value !== `upload:${app.pendingUpload.name}`;
  updateShare();
  refreshInspect();
}

// setRemote switches heavy calls to the HTTP API the user typed, or back
// to the page's own worker when the field is empty.
function setRemote() {
  const v = el.apiUrl.value.trim();
  clearFieldErrors();
  if (!v) {
    app.remote = null;
    el.remoteState.textContent = '';
    return;
  }
  try {
    app.remote = new RemoteEngine(v);
    el.remoteState.textContent = `(work runs on ${app.remote.base})`;
  } catch (err) {
    app.remote = null;
    el.remoteState.textContent = '';
    const p = document.createElement('p');
    p.className = 'field-error';
    p.textContent = `Not a usable URL: ${err.message}. Clear the field to run in this page.`;
    el.apiUrl.after(p);
    el.apiUrl.setAttribute('aria-invalid', 'true');
  }
}

// ------------------------------------------------------------------- share

function pageBase() { return location.href.split(/[?#]/)[0]; }

function updateShare() {
  const s = readState();
  const q = toQuery(s, { run: true });
  el.linkCode.value = `${pageBase()}?${q}`;
  const title = `COMPASS-Go: ${s.model} on chip ${s.chip}`;
  el.embedCode.value = `<iframe id="compass-embed" src="${esc(`${pageBase()}?${toQuery(s, { run: true, embed: true, plots: app.embedPlots })}`)}" title="${esc(title)}" ` +
    'width="100%" height="620" style="border:0" loading="lazy"></iframe>\n' +
    '<script>addEventListener("message", function (e) { var f = document.getElementById("compass-embed");\n' +
    '  if (f && e.source === f.contentWindow && e.data && e.data.type === "compass-embed-height") f.style.height = e.data.height + "px"; });</script>';
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

// target is where a call runs: the HTTP API when the user named one and it
// answers the call (not for an uploaded model, which stays in the page),
// else the in-page worker.
function target(cmd, req, worker) {
  if (app.remote && app.remote.handles(cmd) && !String(req.model || (req.models || [])[0] || '').startsWith('upload:')) return app.remote;
  return worker;
}

// run compiles the form's request. opts.scroll brings the results into view
// when done (a user's Run; not a first visit's automatic run).
async function run(opts = {}) {
  const scroll = opts.scroll !== false && !app.embed;
  let req;
  const s = readState();
  clearFieldErrors();
  try {
    req = buildRequest(s);
    await ensureUploadLoaded(s.model);
  } catch (err) {
    if (err instanceof FieldError) showFieldError(err.field, err.message);
    setStatus('error', `Cannot run: ${err.message}.`);
    return false;
  }
  const token = ++app.runToken;
  if (!opts.scenario) endScenario();
  history.replaceState(null, '', opts.scenario ? `?scenario=${encodeURIComponent(opts.scenario)}`
    : `?${toQuery(s, { run: true, embed: app.embed, plots: app.embed ? app.embedPlots : null })}`);
  updateShare();
  stopSweep();
  clearTimeout(inspectTimer);
  setRunning(true);
  el.progress.removeAttribute('value'); // indeterminate until the GA reports
  const what = `${req.model} on chip ${req.chip} at batch ${req.batch}`;
  const engine = target('compile', req, app.engine);
  setStatus('running', `Compiling ${what}${engine === app.remote ? ` on ${app.remote.base}` : ''}…`);
  const t0 = performance.now();
  const onProgress = (method, gen) => {
    // Methods run one after another in canonical order: progress is the
    // methods done plus the current GA's share of its generation budget.
    const i = req.methods.indexOf(method);
    const frac = (i + Math.min(1, (gen.index + 1) / ((gaGenerations(method, req.ga) ?? 100) + 1))) / req.methods.length;
    el.progress.value = Math.round(100 * frac);
    el.status.textContent = `Compiling ${what}… ${method}: generation ${gen.index}`;
  };
  let reply;
  try {
    reply = await engine.call('compile', [JSON.stringify(req)], onProgress);
  } catch (err) {
    if (err instanceof CancelledError) return false; // cancel() has set the status
    setRunning(false);
    setStatus('error', `The engine failed: ${err.message}`);
    return false;
  }
  if (token !== app.runToken) return false;
  setRunning(false);
  el.progress.value = 100;
  if (!reply.ok) {
    el.progress.value = 0;
    setStatus('error', showEngineError(reply, 'the compilation'));
    return false;
  }
  // Parsing, preparing and drawing each take their own task (a frame
  // apart), so no one main-thread task holds all of them.
  const res = timed('parse-result', () => JSON.parse(reply.json));
  if (reply.validEnds) res.valid_ends = reply.validEnds; // the same numbers, as an Int32Array
  // The methods' speed-ups, EDP gain and gap to the optimum are the
  // engine's comparison of this result (the page's worker computes it for
  // a result from an HTTP API too).
  let comparisons;
  try {
    comparisons = (await app.engine.json('compare', [reply.json])).value;
  } catch (err) {
    if (err instanceof CancelledError || token !== app.runToken) return false;
    setStatus('error', `The engine failed: ${err.message}`);
    return false;
  }
  await frame();
  if (token !== app.runToken) return false;
  const chip = req.chip_spec || app.chips.get(req.chip);
  const view = timed('prepare', () => prepare(res, comparisons));
  await frame();
  if (token !== app.runToken) return false;
  app.result = { text: reply.json, view, chip, request: req };
  window.compassLastResult = reply.json;
  el.download.disabled = false;
  fillExportMethods(res);
  const secs = ((performance.now() - t0) / 1000).toFixed(2);
  await renderResult();
  if (token !== app.runToken) return false; // a newer run has started meanwhile
  setStatus('done', `Done in ${secs} s: ${plural(res.results.length, 'method')}, ${plural(res.units, 'unit')}.`);
  if (scroll) $('#results').scrollIntoView({ behavior: 'smooth', block: 'start' });
  if (!app.embed || app.embedPlots.includes('batches') || app.embedPlots.includes('timeline')) startBatchComparison(req);
  refreshInspect();
  return true;
}

function cancel() {
  if (app.remote) app.remote.terminate();
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

// -------------------------------------------------------------- scenarios

function wireScenarios() {
  for (const b of $$('[data-scenario]')) b.addEventListener('click', () => { if (!app.running) startScenario(b.dataset.scenario); });
}

function scenarioNote(html) { el.scenarioNote.innerHTML = html; }

function endScenario() {
  app.scenario = null;
  for (const b of $$('[data-scenario]')) b.setAttribute('aria-pressed', 'false');
  for (const f of $$('figure.plot.highlight')) f.classList.remove('highlight');
  scenarioNote('');
}

// startScenario sets a guided experiment's inputs, runs it, and then shows
// its takeaway (from the run's numbers) and the plot to look at.
async function startScenario(name) {
  const sc = SCENARIOS[name];
  if (!sc) return;
  endScenario();
  app.scenario = name;
  for (const b of $$('[data-scenario]')) b.setAttribute('aria-pressed', String(b.dataset.scenario === name));
  const question = `<p class="question">${esc(sc.question)}</p>`;
  if (!sc.state) {
    scenarioNote(`${question}<p class="takeaway" data-takeaway="${esc(name)}">${esc(sc.takeaway({}))}</p>`);
    history.replaceState(null, '', `?scenario=${encodeURIComponent(name)}`);
    el.upload.focus();
    el.upload.scrollIntoView({ block: 'center' });
    return;
  }
  scenarioNote(`${question}<p class="takeaway">Running it…</p>`);
  const st = { ...defaultState(), ...sc.state, ga: {}, chipEdits: {} };
  applyState(st);
  updateShare();
  const ok = await run({ scenario: name, scroll: false });
  if (!ok || app.scenario !== name) return;
  for (const [plot, controls] of Object.entries(sc.controls || {})) setPlotControls(plot, controls);
  const extra = [];
  try {
    for (const x of sc.extra || []) extra.push((await app.engine.json(x.cmd, [JSON.stringify(x.build ? x.build(app.chips) : x.request)])).value);
  } catch (err) {
    if (err instanceof CancelledError) return;
    scenarioNote(`${question}<p class="takeaway">Could not compute the comparison: ${esc(err.message)}</p>`);
    return;
  }
  if (app.scenario !== name) return;
  app.scenarioExtra = extra;
  if (sc.needsSweep && !app.sweep) scenarioNote(`${question}<p class="takeaway">Comparing batch sizes for the takeaway…</p>`);
  else showTakeaway();
  if (sc.plot) {
    const f = fig(sc.plot);
    f.classList.add('highlight');
    f.scrollIntoView({ behavior: 'smooth', block: 'center' });
  }
}

// showTakeaway writes the current scenario's takeaway from the result (and
// the batch comparison when it needs it).
function showTakeaway() {
  const name = app.scenario;
  const sc = SCENARIOS[name];
  if (!sc || !app.result || (sc.needsSweep && !app.sweep)) return;
  const html = sc.takeaway({ res: app.result.view.res, sweep: app.sweep, extra: app.scenarioExtra || [] });
  const title = sc.plot ? $('h3', fig(sc.plot)).textContent : '';
  scenarioNote(`<p class="question">${esc(sc.question)}</p><p class="takeaway" data-takeaway="${esc(name)}">${html}</p>` +
    (title ? `<p class="hint">Look at the highlighted plot: <a href="#plot-${esc(sc.plot)}">${esc(title)}</a>.</p>` : ''));
}

function scenarioAfterSweep() {
  if (app.scenario && SCENARIOS[app.scenario].needsSweep) showTakeaway();
}

// setPlotControls sets a plot's selects (method, partition, metric) and
// redraws it.
function setPlotControls(plot, controls) {
  const f = fig(plot);
  for (const [k, v] of Object.entries(controls)) {
    const sel = $(`select[data-control=${k}]`, f);
    if (!sel || !hasOption(sel, v)) continue;
    sel.value = v;
    if (plot === 'chip' && k === 'method') fillPartitionSelect($('select[data-control=partition]', f), app.result.view.byMethod[v]);
  }
  if (plot === 'batches') renderBatches();
  else if (RENDERERS[plot]) RENDERERS[plot]();
}

// ------------------------------------------------------------ batch sweep

function batchesNote(text) {
  const f = fig('batches');
  f.removeAttribute('data-ready');
  $('.plot-body', f).innerHTML = `<svg class="chart empty" aria-hidden="true"></svg><p class="placeholder">${esc(text)}</p>`;
  $('.readout', f).textContent = '';
}

// startBatchComparison compiles the current model and chip (a preset, or
// the edited chip as the sweep's chip_specs) again at the engine's
// comparison batches, in the second worker or on the HTTP API.
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
    const sweep = { models: [req.model], chips: req.chip_spec ? [] : [req.chip], batches: comparisonBatches(), methods: req.methods, objective: req.objective, seed: req.seed };
    if (req.pipeline) sweep.pipeline = req.pipeline;
    if (req.chip_spec) sweep.chip_specs = [req.chip_spec];
    const out = await target('sweep', sweep, sweeper).json('sweep', [JSON.stringify(sweep)], onProgress);
    if (token !== app.sweepToken) return;
    app.sweep = out.value;
    window.compassLastSweep = out.text;
    await frame();
    timed('batches', renderBatches);
    scenarioAfterSweep();
    await simulateTimeline(target('simulate', req, sweeper), req, token);
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
      const gas = engineMeta().methods.filter((m) => m.ga).map((m) => m.name);
      $('.plot-body', f).innerHTML = `<svg class="chart empty" aria-hidden="true"></svg><p class="placeholder">No genetic algorithm ran: tick ${esc(gas.join(' or '))} to see its convergence.</p>`;
      $('.readout', f).textContent = '';
      return;
    }
    const opt = view.byMethod.optimal;
    const optimum = opt ? gaScore(opt, res.objective, res.batch) : null;
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

function timelineNote(text, kind = '') {
  const f = fig('timeline');
  f.removeAttribute('data-ready');
  $('.plot-body', f).innerHTML = `<svg class="chart empty" aria-hidden="true"></svg><p class="placeholder${kind ? ' plot-note warn' : ''}"${kind ? ` data-role="timeline-${kind}"` : ''}>${esc(text)}</p>`;
  $('.readout', f).textContent = '';
}

// PAGE_SIM_LIMITS bound the page's own simulation below the engine's
// defaults, so that the engine refuses at once (it counts the program's
// instructions before it runs) what would keep a phone busy for minutes:
// 4 Mi events is about 10 s in WebAssembly on a laptop and covers every zoo
// network at batch 16 (the largest, ViT-B/16 on chip M, runs 0.58 M) and
// SqueezeNet on chip S up to batch 4096 (2.5 M); batch 65536 (40 M) is
// refused. The trace kept for drawing is bounded to 32 MiB.
const PAGE_SIM_LIMITS = { max_sim_events: 1 << 22, max_trace_bytes: 32 << 20 };

// TIMELINE_FINE is how many columns per core and lane the worker bins the
// trace into; the plot folds them onto its pixels (at most about 1,200
// wide, so a column is never wider than a pixel).
const TIMELINE_FINE = 2048;

// simulateTimeline runs the simulator on one method's plan (in the second
// worker, after the batch comparison, or on the HTTP API), has the worker
// bin its trace, and draws the per-core timeline.
async function simulateTimeline(engine, req, token) {
  const method = req.methods.includes('compass') ? 'compass' : req.methods[req.methods.length - 1];
  timelineNote(`Simulating the ${method} plan…`);
  try {
    const r = await engine.call('simulate', [JSON.stringify({ ...req, methods: [method], limits: PAGE_SIM_LIMITS })]);
    if (token !== app.sweepToken) return;
    if (!r.ok) {
      if (r.errorKind === 'limit') {
        timelineNote(`Not simulated: ${r.error}. The page simulates at most ${int(PAGE_SIM_LIMITS.max_sim_events)} events to stay responsive; ` +
          'the command line (compass simulate) runs larger batches. The figures above come from the estimator and cover this batch.', 'limit');
        return;
      }
      throw new Error(r.error);
    }
    const res = JSON.parse(r.json);
    const chip = req.chip_spec || app.chips.get(req.chip);
    if (!r.traceCore) throw new Error('the simulation returned no trace to draw');
    const trace = { core: r.traceCore, op: r.traceOp, start: r.traceStart, end: r.traceEnd };
    const bins = await startSweeper().call('binTimeline', [{ trace, cores: chip.cores, latencyNs: res.results[0].latency_s * 1e9,
      laneOf: laneOfOpcode(), lanes: TIMELINE_LANES.length, fine: TIMELINE_FINE }], null, Object.values(trace).map((a) => a.buffer));
    if (token !== app.sweepToken) return;
    if (!bins.ok) throw new Error(bins.error);
    app.sim = { res, chip, timeline: { busy: bins.timelineBusy, fine: TIMELINE_FINE, drawnEnd: bins.drawnEndNs } };
    await frame();
    timed('timeline', renderTimeline);
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
  el.runInfo.textContent = `${res.model} on chip ${res.chip}, batch ${res.batch}, objective ${res.objective}, ${res.pipeline ? `pipeline ${res.pipeline}, ` : ''}seed ${res.seed}: ` +
    `${plural(res.units, 'partition unit')} in ${plural(res.layers.length, 'layer')} need ${plural(res.crossbars_needed, 'crossbar')} and the chip has ` +
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
  const names = app.embed ? Object.keys(RENDERERS).filter((n) => app.embedPlots.includes(n)) : Object.keys(RENDERERS);
  for (const name of names) {
    await frame();
    if (token !== app.renderToken) return;
    timed(name, RENDERERS[name]);
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
