// The engine's Web Worker: it owns one Go (WebAssembly) instance of
// COMPASS-Go so the page never blocks. Classic worker script.
//
// Protocol (see site/README.md):
//   page -> worker  {id, cmd, args}            cmd: a function of self.compass, or "binTimeline"
//   worker -> page  {kind: "ready", version}   the engine is up (version = its JSON text)
//                   {kind: "fatal", error}     the engine could not start or has stopped
//                   {kind: "progress", id, args}   a progress callback's arguments
//                   {kind: "reply", id, ok, json, error}
// Calls run one at a time, in order. A call blocks the worker until it
// returns, so the page cancels by terminating the worker.

/* global Go */
'use strict';

importScripts('../wasm_exec.js');

let ready = false;
const queue = [];

// The Go side calls this after it has set self.compass.
self.compassReady = function compassReady() {
  if (ready) return;
  ready = true;
  const v = self.compass.version();
  self.postMessage({ kind: 'ready', version: v && v.ok ? v.json : '' });
  while (queue.length) handle(queue.shift());
};

self.onmessage = (ev) => {
  if (ready) handle(ev.data);
  else queue.push(ev.data);
};

function handle(msg) {
  const { id, cmd, args = [] } = msg;
  let reply;
  try {
    reply = run(id, cmd, args);
  } catch (err) {
    reply = { ok: false, json: '', error: `engine call ${cmd} failed: ${err && err.message ? err.message : err}` };
  }
  if (!reply || typeof reply !== 'object') {
    // Go returned nothing: it has stopped (most often out of memory).
    reply = { ok: false, json: '', error: `the engine stopped during ${cmd} (most likely it ran out of memory); reload the page`, kind: 'internal' };
  }
  // Typed arrays and byte exports travel beside the JSON; their buffers are
  // transferred, not copied. A failure carries its kind, field and node.
  const out = { kind: 'reply', id, ok: !!reply.ok, json: reply.json || '', error: reply.error || '', errorKind: reply.kind || '', field: reply.field || '', node: reply.node || '' };
  const transfer = [];
  for (const k of ['validEnds', 'msgpack', 'traceCore', 'tracePartition', 'traceOp', 'traceStart', 'traceEnd', 'timelineBusy']) {
    if (reply[k]) { out[k] = reply[k]; transfer.push(reply[k].buffer); }
  }
  if (typeof reply.listing === 'string') out.listing = reply.listing;
  if (reply.blockers) out.blockers = Array.from(reply.blockers, String);
  if (reply.input) out.input = String(reply.input);
  if (typeof reply.drawnEndNs === 'number') out.drawnEndNs = reply.drawnEndNs;
  self.postMessage(out, transfer);
}

function run(id, cmd, args) {
  const progress = (...a) => self.postMessage({ kind: 'progress', id, args: a });
  switch (cmd) {
    case 'version': case 'models': case 'chips': case 'meta':
      return self.compass[cmd]();
    case 'inspect':
      return self.compass.inspect(args[0]);
    case 'compile': case 'sweep': case 'reproduce':
      return self.compass[cmd](args[0], progress);
    case 'loadModel':
      return self.compass.loadModel(args[0], args[1], args[2] || '');
    case 'modelInputs':
      return self.compass.modelInputs(args[0], args[1]);
    case 'program': case 'simulate': case 'compare':
      return self.compass[cmd](args[0]);
    case 'binTimeline':
      return binTimeline(args[0]);
    default:
      return { ok: false, json: '', error: `unknown engine call ${cmd}` };
  }
}

// binTimeline folds a simulated trace (typed arrays core, op, start, end in
// ns) into `fine` columns per (row, lane) of the timeline plot: busy[(row *
// lanes + lane) * fine + column] = 1 when anything of that kind runs there.
// Row `cores` is the bus (SEND, opcode 13). It runs here, not in the page,
// because a trace holds up to a million events; the page folds the columns
// onto its pixels. Returns the last drawn end too (a truncated trace ends
// before the run).
function binTimeline({ trace, cores, latencyNs, laneOf, lanes, fine }) {
  const rows = cores + 1;
  const busy = new Uint8Array(rows * lanes * fine);
  let drawnEndNs = 0;
  const n = trace.core.length;
  const k = fine / latencyNs;
  for (let i = 0; i < n; i++) {
    const op = trace.op[i];
    let lane = op < laneOf.length ? laneOf[op] : -1;
    let row = trace.core[i];
    if (op === 13) { lane = 3; row = cores; } // SEND: the bus row
    if (lane < 0 || row < 0 || row > cores) continue;
    if (trace.end[i] > drawnEndNs) drawnEndNs = trace.end[i];
    const b0 = Math.min(fine - 1, Math.floor(trace.start[i] * k));
    const b1 = Math.min(fine - 1, Math.floor(trace.end[i] * k));
    const base = (row * lanes + lane) * fine;
    busy.fill(1, base + b0, base + b1 + 1);
  }
  return { ok: true, json: '', error: '', timelineBusy: busy, drawnEndNs };
}

async function boot() {
  const go = new Go();
  const url = '../compass.wasm';
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(fetch(url), go.importObject));
  } catch (streamErr) {
    // Streaming needs the application/wasm content type; fall back to bytes.
    const resp = await fetch(url);
    if (!resp.ok) throw new Error(`could not fetch compass.wasm (HTTP ${resp.status})`);
    ({ instance } = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject));
  }
  // go.run resolves only when Go exits, which it should not: do not await it.
  go.run(instance).then(
    () => self.postMessage({ kind: 'fatal', error: 'the engine stopped unexpectedly; reload the page' }),
    (err) => self.postMessage({ kind: 'fatal', error: `the engine crashed: ${err && err.message ? err.message : err}` }),
  );
  if (self.compass && !ready) self.compassReady();
}

boot().catch((err) => {
  self.postMessage({ kind: 'fatal', error: `could not start the engine: ${err && err.message ? err.message : err}` });
});
