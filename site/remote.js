// RemoteEngine sends the page's heavy calls (compile, simulate, sweep,
// inspect) to a COMPASS-Go HTTP API the user named (engine/httpapi: POST
// /v1/compile etc., the same request JSON as the in-page engine, replying
// with the same JSON document). It answers like Engine.call: {ok, json,
// error, errorKind, field}, with the simulated trace as typed arrays. It is
// off by default: the page builds one only when the user types an API URL,
// so by default nothing leaves the page's origin.

import { CancelledError } from './engine.js';

const ROUTES = { compile: 'compile', simulate: 'simulate', sweep: 'sweep', inspect: 'inspect' };

export class RemoteEngine {
  // base: the API's base URL as the user typed it (http or https; a path
  // such as "/" names the page's own origin, where `compass serve` has it).
  constructor(base) {
    const u = new URL(base, location.href);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`the API URL must start with https:// or http://, not ${u.protocol}`);
    this.base = u.href.replace(/\/+$/, '');
    this.controllers = new Set();
  }

  // handles reports whether the API answers this call (the others stay in
  // the page: uploads, programs, the edited-chip batch comparison).
  handles(cmd) { return cmd in ROUTES; }

  async call(cmd, args = []) {
    if (!this.handles(cmd)) return { ok: false, json: '', error: `the HTTP API does not answer ${cmd}`, errorKind: '', field: '' };
    let body = args[0];
    if (cmd === 'simulate') body = JSON.stringify({ ...JSON.parse(args[0]), trace: true });
    const ctl = new AbortController();
    this.controllers.add(ctl);
    let resp;
    let text;
    try {
      resp = await fetch(`${this.base}/v1/${ROUTES[cmd]}`, {
        method: 'POST', body, signal: ctl.signal, mode: 'cors', credentials: 'omit',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      });
      text = await resp.text();
    } catch (err) {
      if (err && err.name === 'AbortError') throw new CancelledError();
      return { ok: false, json: '', error: `could not reach the HTTP API at ${this.base} (${err && err.message ? err.message : err}); check the URL, or clear it to run in this page`, errorKind: '', field: '' };
    } finally {
      this.controllers.delete(ctl);
    }
    if (!resp.ok) return problem(resp, text);
    const reply = { ok: true, json: text, error: '', errorKind: '', field: '' };
    if (cmd === 'simulate') {
      // The in-page engine sends the trace as typed arrays beside the JSON;
      // the API sends it inside the JSON. Move it out, so both look alike.
      const res = JSON.parse(text);
      const tr = (res.results && res.results[0] && res.results[0].trace) || [];
      reply.traceCore = Int32Array.from(tr, (e) => e.core);
      reply.tracePartition = Int32Array.from(tr, (e) => e.partition);
      reply.traceOp = Uint8Array.from(tr, (e) => e.op);
      reply.traceStart = Float64Array.from(tr, (e) => e.start_ns);
      reply.traceEnd = Float64Array.from(tr, (e) => e.end_ns);
      for (const r of res.results || []) delete r.trace;
      reply.json = JSON.stringify(res);
    }
    return reply;
  }

  async json(cmd, args = []) {
    const r = await this.call(cmd, args);
    if (!r.ok) throw new Error(r.error);
    return { text: r.json, value: JSON.parse(r.json) };
  }

  busy() { return this.controllers.size > 0; }

  // terminate aborts the requests in flight (a cancel).
  terminate() {
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }
}

// problem turns an RFC 9457 problem document into a failed reply.
function problem(resp, text) {
  let p = null;
  try { p = JSON.parse(text); } catch { p = null; }
  const detail = p && (p.detail || p.title) ? String(p.detail || p.title) : `HTTP ${resp.status} ${resp.statusText}`;
  let kind = '';
  if (p && p.limit) kind = 'limit';
  else if (p && p.field) kind = 'input';
  else if (resp.status >= 500 && resp.status !== 503 && resp.status !== 504) kind = 'internal';
  return { ok: false, json: '', error: `the HTTP API answered ${resp.status}: ${detail.slice(0, 1000)}`, errorKind: kind, field: (p && p.field) || '', node: (p && p.node) || '' };
}
