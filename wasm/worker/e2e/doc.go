// Package e2e tests the API Worker (wasm/worker) end to end in workerd,
// the runtime of Cloudflare Workers: it starts scripts/worker.sh on a free
// port and compares the Worker's replies with the native handler's. It
// holds tests only; this file gives the package its documentation, which
// go doc does not read from test files.
package e2e
