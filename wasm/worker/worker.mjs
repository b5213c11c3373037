// The Cloudflare Worker (and workerd) front of COMPASS-Go's HTTP API: each
// request starts its own Go instance of compass-worker.wasm (the API
// handler, wasm/worker/main.go) and hands it the request; the instance
// answers and exits. Nothing is shared between requests but the compiled
// module, so concurrent requests cannot disturb each other.
import "./wasm_exec.js"; // Go's loader: defines globalThis.Go
import compassModule from "./compass-worker.wasm"; // a WebAssembly.Module

// problem is a reply from this file itself (the Go instance failed to
// start or crashed), as an RFC 9457 problem document.
function problem(status, detail) {
  const body = JSON.stringify({ type: "about:blank", title: status === 503 ? "Service Unavailable" : "Internal Server Error", status, detail }) + "\n";
  return new Response(body, { status, headers: { "Content-Type": "application/problem+json", "X-Content-Type-Options": "nosniff" } });
}

// textBindings keeps the Worker's string bindings (the COMPASS_* limits).
function textBindings(env) {
  const out = {};
  for (const [k, v] of Object.entries(env || {})) {
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

async function serve(request, env) {
  const body = request.method === "GET" || request.method === "HEAD" ? null : new Uint8Array(await request.arrayBuffer());
  const headers = [...request.headers.entries()];
  const go = new Go();
  go.argv = ["compass-worker"];
  go.env = {};
  const instance = await WebAssembly.instantiate(compassModule, go.importObject);
  // From here to the call of serve nothing awaits: main registers its
  // function synchronously inside go.run, so another request cannot take
  // this instance's function.
  let handle = null;
  globalThis.__compassRegister = (fn) => { handle = fn; };
  const exited = go.run(instance);
  delete globalThis.__compassRegister;
  if (handle === null) {
    await exited;
    return problem(500, "the Go instance exited before it registered its handler");
  }
  try {
    const reply = await new Promise((resolve) => handle(request.method, request.url, headers, body, textBindings(env), resolve));
    const nullBody = reply.status === 204 || reply.status === 304 || request.method === "HEAD";
    return new Response(nullBody ? null : reply.body, { status: reply.status, headers: reply.headers });
  } finally {
    // The instance has exited (main returns once the reply is resolved);
    // drop any timer its runtime left scheduled.
    for (const id of go._scheduledTimeouts.values()) clearTimeout(id);
    go._scheduledTimeouts.clear();
  }
}

export default {
  async fetch(request, env) {
    try {
      return await serve(request, env);
    } catch (err) {
      return problem(500, "the Go instance failed: " + (err && err.message ? err.message : String(err)));
    }
  },
};
