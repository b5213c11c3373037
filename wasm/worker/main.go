//go:build js && wasm

// Command worker is the HTTP API (engine/httpapi) compiled to WebAssembly
// for a Cloudflare Worker, run in workerd here and on Cloudflare's edge
// (docs/deploy.md). It is this project's own bridge between a Worker's
// fetch handler and a Go http.Handler, through syscall/js:
//
// worker.mjs starts one Go instance per request (an instance's memory and
// goroutines are never shared between requests, so concurrent requests
// cannot disturb each other). Before it runs the instance it sets
// globalThis.__compassRegister; main calls it, synchronously, with a
// function serve(method, url, headers, body, env, resolve) that answers
// the one request by calling resolve({status, headers, body}). Then main
// returns and the instance exits. (serve takes resolve rather than
// returning a Promise made in Go: an exit inside a nested Go callback,
// the Promise's executor, would leave Go's loader without its instance.)
//
// env holds the Worker's text bindings; these set the handler's limits:
// COMPASS_MAX_BODY_BYTES, COMPASS_DEADLINE (a Go duration, e.g. 30s),
// COMPASS_MAX_BATCH, COMPASS_MAX_SIM_EVENTS and COMPASS_CORS_ORIGINS
// (comma-separated origins).
package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"github.com/compass-go/compass/engine/httpapi"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	done := make(chan struct{})
	serve := js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) < 6 || args[5].Type() != js.TypeFunction {
			panic("worker: serve(method, url, headers, body, env, resolve) called without resolve")
		}
		resolve := args[5]
		go func() {
			defer close(done)
			resolve.Invoke(answer(args[:5]))
		}()
		return nil
	})
	register := js.Global().Get("__compassRegister")
	if register.Type() != js.TypeFunction {
		panic("worker: globalThis.__compassRegister is not set: start this module through worker.mjs")
	}
	register.Invoke(serve)
	<-done // the reply is out: return, and the instance exits
	serve.Release()
}

// answer serves one request and returns the reply as a JavaScript object
// {status, headers: [[name, value], ...], body: Uint8Array}. Any failure
// of the bridge itself is a 500 problem document.
func answer(args []js.Value) (reply any) {
	defer func() {
		if p := recover(); p != nil {
			reply = problemReply(http.StatusInternalServerError, fmt.Sprintf("internal error in the Worker's bridge (a bug, please report it): %v", p))
		}
	}()
	if len(args) < 5 {
		return problemReply(http.StatusInternalServerError, "worker.mjs called serve with too few arguments")
	}
	method, url, headers, body, env := args[0].String(), args[1].String(), args[2], args[3], args[4]
	cfg, err := configFrom(env)
	if err != nil {
		return problemReply(http.StatusInternalServerError, "the Worker's configuration: "+err.Error())
	}
	h, err := httpapi.New(cfg)
	if err != nil {
		return problemReply(http.StatusInternalServerError, "the Worker's configuration: "+err.Error())
	}
	var data []byte
	if body.Type() == js.TypeObject {
		data = make([]byte, body.Get("length").Int())
		js.CopyBytesToGo(data, body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(data))
	if err != nil {
		return problemReply(http.StatusBadRequest, "the request line does not parse: "+err.Error())
	}
	req.ContentLength = int64(len(data))
	for i := range headers.Length() {
		pair := headers.Index(i)
		req.Header.Add(pair.Index(0).String(), pair.Index(1).String())
	}
	w := &responseWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	return w.reply()
}

// responseWriter collects a reply in memory.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// reply is the JavaScript object worker.mjs turns into a Response.
func (w *responseWriter) reply() map[string]any {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var pairs []any
	for name, values := range w.header {
		if strings.EqualFold(name, "Content-Length") {
			continue // the Response sets it from the body
		}
		for _, v := range values {
			pairs = append(pairs, []any{name, v})
		}
	}
	out := map[string]any{"status": w.status, "headers": pairs, "body": nil}
	if w.body.Len() > 0 {
		b := js.Global().Get("Uint8Array").New(w.body.Len())
		js.CopyBytesToJS(b, w.body.Bytes())
		out["body"] = b
	}
	return out
}

// problemReply is a reply from the bridge itself, as an RFC 9457 problem.
func problemReply(status int, detail string) map[string]any {
	w := &responseWriter{header: http.Header{}}
	w.header.Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(&w.body, `{"type":"about:blank","title":%q,"status":%d,"detail":%q}`+"\n", http.StatusText(status), status, detail)
	return w.reply()
}

// configFrom reads the handler's limits from the Worker's text bindings;
// an unset binding keeps httpapi's default. MaxConcurrent stays at its
// default: every request has its own instance, so the platform, not
// this bound, sets the concurrency.
func configFrom(env js.Value) (httpapi.Config, error) {
	cfg := httpapi.Config{Version: version}
	get := func(name string) string {
		if env.Type() != js.TypeObject {
			return ""
		}
		if v := env.Get(name); v.Type() == js.TypeString {
			return strings.TrimSpace(v.String())
		}
		return ""
	}
	ints := []struct {
		name string
		dst  *int64
	}{{"COMPASS_MAX_BODY_BYTES", &cfg.MaxBodyBytes}, {"COMPASS_MAX_SIM_EVENTS", &cfg.MaxSimEvents}}
	for _, f := range ints {
		if s := get(f.name); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v <= 0 {
				return cfg, fmt.Errorf("binding %s = %q: must be a positive integer", f.name, s)
			}
			*f.dst = v
		}
	}
	if s := get("COMPASS_MAX_BATCH"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			return cfg, fmt.Errorf("binding COMPASS_MAX_BATCH = %q: must be a positive integer", s)
		}
		cfg.MaxBatch = v
	}
	if s := get("COMPASS_DEADLINE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("binding COMPASS_DEADLINE = %q: must be a positive duration such as 30s", s)
		}
		cfg.Deadline = d
	}
	if s := get("COMPASS_CORS_ORIGINS"); s != "" {
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				cfg.AllowOrigins = append(cfg.AllowOrigins, o)
			}
		}
	}
	return cfg, nil
}
