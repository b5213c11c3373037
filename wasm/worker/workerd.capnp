# workerd configuration: the COMPASS-Go API Worker on 127.0.0.1.
# scripts/worker.sh builds compass-worker.wasm beside this file, copies
# worker.mjs and Go's wasm_exec.js here, and runs
#   workerd serve workerd.capnp --socket-addr http=127.0.0.1:PORT
# The bindings set the API handler's limits (wasm/worker/main.go); an
# empty text keeps the handler's default. scripts/worker.sh replaces a
# binding's text with the environment variable of the same name when set.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "compass", worker = .compassWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "compass") ],
);

const compassWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "wasm_exec.js", esModule = embed "wasm_exec.js"),
    (name = "compass-worker.wasm", wasm = embed "compass-worker.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  bindings = [
    (name = "COMPASS_MAX_BODY_BYTES", text = "8388608"),
    (name = "COMPASS_DEADLINE", text = "60s"),
    (name = "COMPASS_MAX_BATCH", text = "256"),
    (name = "COMPASS_MAX_SIM_EVENTS", text = ""),
    (name = "COMPASS_CORS_ORIGINS", text = ""),
  ],
);
