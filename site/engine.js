// The page's side of the worker protocol (site/worker.js): one Engine is one
// worker with one Go instance. Calls are queued by the worker and answered in
// order; terminate() drops the worker (that is how a run is cancelled) and
// rejects the calls still pending.

const WORKER_URL = new URL('./worker.js', import.meta.url);

export class CancelledError extends Error {
  constructor() { super('cancelled'); this.name = 'CancelledError'; }
}

export class Engine {
  // uploads: [{name, bytes, options}] model files (options: the JSON of
  // their input settings, or '') to register in this instance first
  // (a fresh worker knows nothing of files loaded into the previous one).
  constructor(uploads = []) {
    this.pending = new Map();
    this.nextId = 1;
    this.version = null;
    this.dead = false;
    this.worker = new Worker(WORKER_URL);
    this.ready = new Promise((resolve, reject) => { this._ready = resolve; this._fail = reject; });
    this.ready.catch(() => {}); // callers observe it through call()
    this.worker.onmessage = (ev) => this._message(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this._fatal(`the engine worker failed: ${ev.message || 'could not load site/worker.js or wasm_exec.js'}`);
    };
    for (const u of uploads) this.call('loadModel', [u.name, u.bytes, u.options || '']).catch(() => {});
  }

  _message(m) {
    if (m.kind === 'ready') {
      try { this.version = m.version ? JSON.parse(m.version) : null; } catch { this.version = null; }
      this._ready(this);
    } else if (m.kind === 'fatal') {
      this._fatal(m.error);
    } else if (m.kind === 'progress') {
      const p = this.pending.get(m.id);
      if (p && p.onProgress) p.onProgress(...m.args);
    } else if (m.kind === 'reply') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      const { kind, id, ...reply } = m; // ok, json, error, and any typed arrays or exports beside them
      p.resolve(reply);
    }
  }

  _fatal(error) {
    this.dead = true;
    this.fatalError = error;
    this._fail(new Error(error));
    for (const p of this.pending.values()) p.reject(new Error(error));
    this.pending.clear();
    if (this.onFatal) this.onFatal(error);
  }

  // call runs self.compass[cmd](...args) in the worker and resolves with its
  // {ok, json, error}; onProgress receives the progress callback's arguments.
  // transfer lists buffers of the arguments to move rather than copy.
  call(cmd, args = [], onProgress = null, transfer = []) {
    if (this.dead) return Promise.reject(new Error(this.fatalError || 'the engine has stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, cmd, args }, transfer);
    });
  }

  // json is call() for results the caller wants parsed: it rejects with the
  // engine's message when ok is false.
  async json(cmd, args = [], onProgress = null) {
    const r = await this.call(cmd, args, onProgress);
    if (!r.ok) throw new Error(r.error || `${cmd} failed`);
    return { text: r.json, value: JSON.parse(r.json) };
  }

  busy() { return this.pending.size > 0; }

  terminate() {
    if (this.dead) return;
    this.dead = true;
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new CancelledError());
    this.pending.clear();
    this._fail(new CancelledError());
  }
}
