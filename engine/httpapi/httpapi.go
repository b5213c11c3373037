// Package httpapi holds the HTTP API of COMPASS-Go: one http.Handler over
// the engine's facade (engine/api) that answers GET /v1/health,
// /v1/models, /v1/chips and POST /v1/inspect, /v1/compile, /v1/simulate,
// /v1/sweep. A request body is the JSON the page and the CLI's --json use
// (or msgpack, or multipart with a model file); the reply is the CLI's
// --json document byte for byte, or the same value in msgpack. Errors are
// RFC 9457 problem documents. The handler imposes the server's limits
// (body size, deadline, concurrent requests, batch, simulated events); a
// client can lower them, never lift them.
//
// The native `compass serve` and the Cloudflare Worker (wasm/worker) serve
// this same handler. It holds no engine logic of its own: it decodes,
// checks what only a network server must check (no file paths from a
// client, bounded work), calls the facade and encodes.
package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compass-go/compass/engine/api"
)

// Config is the server's side of a request's bounds and its CORS policy.
// Zero fields take DefaultConfig's values.
type Config struct {
	// MaxBodyBytes bounds a request body (413 beyond it).
	MaxBodyBytes int64
	// Deadline bounds one request's work; the engine's searches stop
	// through the context and the reply is 504.
	Deadline time.Duration
	// MaxConcurrent bounds the POST requests at work at once; one more is
	// answered 503 with Retry-After.
	MaxConcurrent int
	// MaxBatch is the largest batch a compile, simulate or sweep may ask.
	MaxBatch int
	// MaxSimEvents bounds the events one simulation may process
	// (api.Limits.MaxSimEvents; it overrides Limits' figure when set).
	MaxSimEvents int64
	// Limits are the engine's bounds in force (zero fields:
	// api.DefaultLimits). A request's "limits" may lower them, never lift
	// them.
	Limits api.Limits
	// AllowOrigins lists the origins (scheme://host[:port]) whose pages may
	// call the API from a browser (CORS); "*" allows any. Empty: none, and
	// no CORS headers are sent.
	AllowOrigins []string
	// Version is reported by /v1/health.
	Version string
}

// Default bounds. They are server policy, not hardware figures: a request
// on the paper's grid (ResNet18 on chip M at batch 16, every method) needs
// well under a second and a few MB of body for an uploaded ResNet-sized
// JSON graph; an ONNX file with its weights is larger, hence 64 MiB.
const (
	DefaultMaxBodyBytes  = 64 << 20
	DefaultDeadline      = 60 * time.Second
	DefaultMaxBatch      = 256
	defaultRetryAfterSec = 1
)

// DefaultConfig is the configuration `compass serve` starts from: the
// defaults above, one concurrent compile per CPU, the engine's default
// limits, no CORS.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: DefaultMaxBodyBytes, Deadline: DefaultDeadline,
		MaxConcurrent: runtime.GOMAXPROCS(0), MaxBatch: DefaultMaxBatch, MaxSimEvents: api.DefaultLimits().MaxSimEvents,
		Limits: api.DefaultLimits()}
}

// withDefaults fills zero fields; a negative one is an error naming it.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	for _, f := range []struct {
		name string
		v    int64
	}{{"MaxBodyBytes", c.MaxBodyBytes}, {"Deadline", int64(c.Deadline)}, {"MaxConcurrent", int64(c.MaxConcurrent)},
		{"MaxBatch", int64(c.MaxBatch)}, {"MaxSimEvents", c.MaxSimEvents}} {
		if f.v < 0 {
			return c, fmt.Errorf("httpapi: Config.%s = %d is negative: give a positive bound, or 0 for the default", f.name, f.v)
		}
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.Deadline == 0 {
		c.Deadline = d.Deadline
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = d.MaxConcurrent
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.MaxSimEvents > 0 {
		c.Limits.MaxSimEvents = c.MaxSimEvents
	}
	limits, err := c.Limits.WithDefaults()
	if err != nil {
		return c, fmt.Errorf("httpapi: Config.Limits: %w", err)
	}
	c.Limits, c.MaxSimEvents = limits, limits.MaxSimEvents
	if c.Version == "" {
		c.Version = "dev"
	}
	return c, nil
}

// handler is the API's http.Handler.
type handler struct {
	cfg   Config
	slots chan struct{} // one token per request at work
}

// New returns the API handler. It serves paths under /v1/ and answers any
// other path 404; mount it at the root or under a mux's "/v1/". A
// negative bound in cfg is an error.
func New(cfg Config) (http.Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &handler{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

// route is one endpoint: its method and what it does.
type route struct {
	method string
	serve  func(h *handler, w http.ResponseWriter, r *http.Request)
}

var routes = map[string]route{
	"/v1/health":   {http.MethodGet, (*handler).health},
	"/v1/models":   {http.MethodGet, (*handler).models},
	"/v1/chips":    {http.MethodGet, (*handler).chips},
	"/v1/inspect":  {http.MethodPost, (*handler).inspect},
	"/v1/compile":  {http.MethodPost, (*handler).compile},
	"/v1/simulate": {http.MethodPost, (*handler).simulate},
	"/v1/sweep":    {http.MethodPost, (*handler).sweep},
}

// Paths lists the API's endpoints, sorted.
func Paths() []string {
	out := make([]string, 0, len(routes))
	for p := range routes {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			h.fail(w, r, &api.InternalError{Stage: "http handler", Err: fmt.Errorf("panic: %v", p)})
		}
	}()
	h.cors(w, r)
	rt, ok := routes[r.URL.Path]
	if !ok {
		h.problem(w, r, problem{Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no endpoint %s: the API serves %s", r.URL.Path, strings.Join(Paths(), ", "))})
		return
	}
	if r.Method == http.MethodOptions {
		h.preflight(w, r, rt)
		return
	}
	allowed := rt.method
	if rt.method == http.MethodGet {
		allowed += ", " + http.MethodHead
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", allowed+", OPTIONS")
		h.problem(w, r, problem{Status: http.StatusMethodNotAllowed,
			Detail: fmt.Sprintf("%s takes %s, not %s", r.URL.Path, rt.method, r.Method)})
		return
	}
	rt.serve(h, w, r)
}

// cors sets the CORS headers for an allowed origin.
func (h *handler) cors(w http.ResponseWriter, r *http.Request) {
	if len(h.cfg.AllowOrigins) == 0 {
		return
	}
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !h.originAllowed(origin) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", "Retry-After, Content-Length")
}

func (h *handler) originAllowed(origin string) bool {
	for _, o := range h.cfg.AllowOrigins {
		if o == "*" || strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}

// preflight answers a CORS preflight: 204 with the allowed method and
// headers for an allowed origin, 403 otherwise.
func (h *handler) preflight(w http.ResponseWriter, r *http.Request, rt route) {
	origin := r.Header.Get("Origin")
	if origin == "" || !h.originAllowed(origin) {
		h.problem(w, r, problem{Status: http.StatusForbidden,
			Detail: fmt.Sprintf("origin %q may not call this API from a browser: the server allows %s (compass serve --cors-origin)", origin, allowedList(h.cfg.AllowOrigins))})
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", rt.method+", OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func allowedList(origins []string) string {
	if len(origins) == 0 {
		return "no origin"
	}
	return strings.Join(origins, ", ")
}

// healthReply is GET /v1/health's document.
type healthReply struct {
	Status        string     `json:"status"`
	Version       string     `json:"version"`
	Go            string     `json:"go"`
	MaxBodyBytes  int64      `json:"max_body_bytes"`
	DeadlineS     float64    `json:"deadline_s"`
	MaxConcurrent int        `json:"max_concurrent"`
	MaxBatch      int        `json:"max_batch"`
	Limits        api.Limits `json:"limits"`
}

func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	h.reply(w, r, healthReply{Status: "ok", Version: h.cfg.Version, Go: runtime.Version(),
		MaxBodyBytes: h.cfg.MaxBodyBytes, DeadlineS: h.cfg.Deadline.Seconds(), MaxConcurrent: h.cfg.MaxConcurrent,
		MaxBatch: h.cfg.MaxBatch, Limits: h.cfg.Limits})
}

func (h *handler) models(w http.ResponseWriter, r *http.Request) {
	ms, err := api.Models()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, ms)
}

func (h *handler) chips(w http.ResponseWriter, r *http.Request) {
	cs, err := api.Chips()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, cs)
}

// work runs fn under the concurrency bound and the deadline and replies
// with its result. fn runs on its own goroutine so that the reply goes out
// at the deadline even where the engine does not watch the context; its
// slot is held until it really returns, so the bound counts real work.
func (h *handler) work(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) (any, error)) {
	select {
	case h.slots <- struct{}{}:
	default:
		w.Header().Set("Retry-After", strconv.Itoa(defaultRetryAfterSec))
		h.problem(w, r, problem{Status: http.StatusServiceUnavailable,
			Detail: fmt.Sprintf("the server is at its bound of %d concurrent requests: retry in a moment (compass serve --max-concurrent)", h.cfg.MaxConcurrent)})
		return
	}
	timed, cancel := context.WithTimeout(r.Context(), h.cfg.Deadline)
	defer cancel()
	deadline, _ := timed.Deadline()
	ctx := clockContext{timed, deadline}
	type outcome struct {
		v   any
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() { <-h.slots }()
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{nil, &api.InternalError{Stage: "engine", Err: fmt.Errorf("panic: %v", p)}}
			}
		}()
		v, err := fn(ctx)
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			h.fail(w, r, o.err)
			return
		}
		h.reply(w, r, o.v)
	case <-ctx.Done():
		h.fail(w, r, ctx.Err())
	}
}

func (h *handler) inspect(w http.ResponseWriter, r *http.Request) {
	body := inspectBody{InspectRequest: defaultInspect()}
	if err := h.decode(w, r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := body.request(h.cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.work(w, r, func(context.Context) (any, error) { return api.InspectModel(req) })
}

func (h *handler) compile(w http.ResponseWriter, r *http.Request) {
	body := compileBody{CompileRequest: defaultCompile()}
	if err := h.decode(w, r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := body.request(h.cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.work(w, r, func(ctx context.Context) (any, error) { return api.Compile(ctx, req) })
}

func (h *handler) simulate(w http.ResponseWriter, r *http.Request) {
	body := simulateBody{compileBody: compileBody{CompileRequest: defaultCompile()}}
	if err := h.decode(w, r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := body.request(h.cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.work(w, r, func(ctx context.Context) (any, error) { return api.Simulate(ctx, req, body.Trace, nil) })
}

// sweepReply is the sweep's document with its summary, as `compass sweep
// --json` prints it.
type sweepReply struct {
	*api.SweepResult
	Summary []api.NetworkSummary `json:"summary"`
}

func (h *handler) sweep(w http.ResponseWriter, r *http.Request) {
	body := sweepBody{SweepRequest: defaultSweep()}
	if err := h.decode(w, r, &body); err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := body.request(h.cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.work(w, r, func(ctx context.Context) (any, error) {
		res, err := api.Sweep(ctx, req)
		if err != nil {
			return nil, err
		}
		return sweepReply{res, res.Summarise()}, nil
	})
}

// clockContext is a context whose Err reads the clock: past the deadline
// it reports context.DeadlineExceeded even before the context's timer has
// fired. Under GOOS=js (the Worker, the browser) Go has no preemption, so
// that timer cannot fire while a search computes without blocking; the
// searches poll Err, and this makes their deadline hold there too. (On
// Cloudflare's edge the clock itself stands still while code runs, so
// there the platform's CPU limit bounds a request instead.)
type clockContext struct {
	context.Context
	deadline time.Time
}

func (c clockContext) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}
