//go:build js && wasm

// Command wasm is the WebAssembly front end of COMPASS-Go: it registers a
// `compass` object on the JavaScript global scope (a Web Worker's `self` in
// the playground) whose functions call the engine's facade (engine/api) and
// return plain objects {ok, json, error}. The JSON is byte-for-byte what the
// native CLI prints with --json for the same request. Panics become error
// results; nothing here holds logic of its own.
package main

import (
	"bytes"
	"context"
	encodingbinary "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall/js"
	"unicode/utf8"

	"github.com/compass-go/compass/engine/api"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// uploads holds models the page loaded from files, by the name returned
// to it ("upload:<file name>").
var uploads api.Uploads

func main() {
	c := js.Global().Get("Object").New()
	c.Set("version", export(func([]js.Value) (any, error) {
		return map[string]string{"version": version, "go": runtime.Version()}, nil
	}))
	c.Set("models", export(func([]js.Value) (any, error) { return api.Models() }))
	c.Set("chips", export(func([]js.Value) (any, error) { return api.Chips() }))
	c.Set("meta", export(func([]js.Value) (any, error) { return api.Meta(), nil }))
	c.Set("inspect", export(inspect))
	c.Set("compile", export(compile))
	c.Set("sweep", export(sweep))
	c.Set("loadModel", export(loadModel))
	c.Set("modelInputs", export(modelInputs))
	c.Set("program", export(program))
	c.Set("simulate", export(simulate))
	c.Set("reproduce", export(reproduce))
	c.Set("compare", export(compare))
	js.Global().Set("compass", c)
	if ready := js.Global().Get("compassReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// export wraps a handler as a JavaScript function returning {ok, json,
// error}. A panic is caught and reported as an error result, so a bug can
// not take the worker down.
func export(h func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if p := recover(); p != nil {
				// The stack goes to the console for a bug report; the page
				// gets one short sentence.
				println("compass: panic:", fmt.Sprint(p), "\n", string(debug.Stack()))
				result = reply("", &api.InternalError{Stage: "engine", Err: fmt.Errorf("%s", shorten(fmt.Sprint(p), 160))})
			}
		}()
		v, err := h(args)
		if err != nil {
			return reply("", err)
		}
		extra := map[string]any{}
		if b, ok := v.(binary); ok {
			v, extra = b.value, b.extra
		}
		out := map[string]any{"ok": true, "json": "", "error": ""}
		if v != nil {
			var buf bytes.Buffer
			if err := api.WriteJSON(&buf, v); err != nil {
				return reply("", err)
			}
			out["json"] = buf.String()
		}
		for k, x := range extra {
			out[k] = x
		}
		return out
	})
}

// binary is a handler result with fields beside the JSON: typed arrays of
// large numeric data, bytes of an export, plain strings.
type binary struct {
	value any
	extra map[string]any
}

// binaryLE is the byte order of typed arrays on every WebAssembly host.
var binaryLE = encodingbinary.LittleEndian

// int32Array copies ints into a new JavaScript Int32Array.
func int32Array(v []int) js.Value {
	a := js.Global().Get("Int32Array").New(len(v))
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binaryLE.PutUint32(buf[4*i:], uint32(int32(x)))
	}
	js.CopyBytesToJS(js.Global().Get("Uint8Array").New(a.Get("buffer")), buf)
	return a
}

// uint8Array copies bytes into a new JavaScript Uint8Array.
func uint8Array(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// reply is a handler's result as the page receives it. A failure carries
// its kind ("input": the request's field is wrong, named in "field" as its
// JSON path such as "chip_spec.cores"; "limit": the request asks for more
// work than a bound allows; "internal": a bug; "" otherwise) so the page
// can show it next to the field or as a refusal, and in "node" the
// model's node at fault ("" when no one node is: an api.NodeError's).
func reply(text string, err error) map[string]any {
	if err == nil {
		return map[string]any{"ok": true, "json": text, "error": ""}
	}
	kind, field := classify(err)
	out := map[string]any{"ok": false, "json": "", "error": shorten(err.Error(), 4000), "kind": kind, "field": field, "node": ""}
	var node *api.NodeError
	if errors.As(err, &node) {
		out["node"] = shorten(node.Node, 200)
	}
	// A model that cannot be read lists every blocker, one sentence each,
	// and a dynamic input names itself, so the page can show them apart.
	var ops *api.UnsupportedOpsError
	if errors.As(err, &ops) {
		list := make([]any, 0, len(ops.Ops))
		for _, o := range ops.Ops {
			list = append(list, blockerText(o))
		}
		out["blockers"] = list
	}
	var dyn *api.DynamicShapeError
	if errors.As(err, &dyn) {
		out["field"] = "inputs"
		out["input"] = dyn.Input
	}
	return out
}

// blockerText says one unsupported operator in plain words.
func blockerText(o api.UnsupportedOp) string {
	s := o.Op
	if o.Domain != "" {
		s += " (" + o.Domain + ")"
	}
	times := "once"
	if o.Count != 1 {
		times = fmt.Sprintf("%d times", o.Count)
	}
	s += " is used " + times + ", first by node " + strconv.Quote(shorten(o.FirstNode, 80))
	if o.Why != "" {
		s += ": " + o.Why
	}
	return s
}

// classify names the kind of a failure and, for a bad input, its field.
func classify(err error) (kind, field string) {
	var in *api.InputError
	var lim *api.LimitError
	var internal *api.InternalError
	switch {
	case errors.As(err, &in):
		return "input", in.Field
	case errors.As(err, &lim):
		return "limit", ""
	case errors.As(err, &internal):
		return "internal", ""
	}
	return "", ""
}

// shorten cuts a message to at most n bytes (at a rune boundary), so no
// runaway text (a dump, a huge value) reaches the page.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// decode reads a request's JSON strictly: an unknown field is an error
// naming it.
func decode(args []js.Value, i int, v any) error {
	if len(args) <= i || args[i].Type() != js.TypeString {
		return fmt.Errorf("argument %d must be a JSON string", i+1)
	}
	dec := json.NewDecoder(strings.NewReader(args[i].String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError turns encoding/json's messages ("cannot unmarshal number 2.5
// into Go struct field Chip.chip_spec.cores of type int") into an
// *api.InputError naming the field and what it must be.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field := typ.Field
		if field == "" {
			field = "request"
		}
		got := strings.TrimPrefix(strings.TrimPrefix(typ.Value, "number "), "string ")
		if typ.Value == "number" || typ.Value == "string" || typ.Value == "array" || typ.Value == "object" || typ.Value == "bool" {
			got = "a " + typ.Value
		}
		return &api.InputError{Field: field, Err: fmt.Errorf("%s is not allowed here: it must be %s", shorten(got, 40), kindWords(typ.Type))}
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &api.InputError{Field: "request", Err: fmt.Errorf("not valid JSON at byte %d", syn.Offset)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &api.InputError{Field: name, Err: fmt.Errorf("is not a field of this request: remove it or check its spelling")}
	}
	return &api.InputError{Field: "request", Err: err}
}

// kindWords says in plain words what a Go type accepts.
func kindWords(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

func inspect(args []js.Value) (any, error) {
	var req api.InspectRequest
	if err := decode(args, 0, &req); err != nil {
		return nil, err
	}
	g, err := uploads.Resolve(req.Model)
	if err != nil {
		return nil, err
	}
	req.Graph = g
	return api.InspectModel(req)
}

// compileRequest decodes a compile request and resolves an uploaded model.
func compileRequest(args []js.Value) (api.CompileRequest, error) {
	var req api.CompileRequest
	if err := decode(args, 0, &req); err != nil {
		return req, err
	}
	g, err := uploads.Resolve(req.Model)
	req.Graph = g
	return req, err
}

func compile(args []js.Value) (any, error) {
	req, err := compileRequest(args)
	if err != nil {
		return nil, err
	}
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		cb := args[1]
		req.Progress = func(method string, gen api.Generation) {
			cb.Invoke(method, map[string]any{"index": gen.Index, "best_score": gen.BestScore, "mean_score": gen.MeanScore,
				"best_partitions": gen.BestPartitions, "mean_partitions": gen.MeanPartitions})
		}
	}
	res, err := api.Compile(context.Background(), req)
	if err != nil {
		return nil, err
	}
	// The validity map also comes as a typed array, for the heat map.
	return binary{res, map[string]any{"validEnds": int32Array(res.ValidEnds)}}, nil
}

// simulate compiles, schedules and simulates a request; the per-core
// timeline of the first method comes as typed arrays (one entry per busy
// interval: core, opcode, partition, start and end in ns), not in the JSON.
func simulate(args []js.Value) (any, error) {
	req, err := compileRequest(args)
	if err != nil {
		return nil, err
	}
	res, err := api.Simulate(context.Background(), req, true, nil)
	if err != nil {
		return nil, err
	}
	tr := res.Results[0].Trace
	core, part := make([]int, len(tr)), make([]int, len(tr))
	op := make([]byte, len(tr))
	start, end := make([]float64, len(tr)), make([]float64, len(tr))
	for i, ev := range tr {
		core[i], part[i], op[i], start[i], end[i] = int(ev.Core), int(ev.Partition), byte(ev.Op), ev.StartNs, ev.EndNs
	}
	for i := range res.Results {
		res.Results[i].Trace = nil
	}
	return binary{res, map[string]any{"traceCore": int32Array(core), "tracePartition": int32Array(part),
		"traceOp": uint8Array(op), "traceStart": float64Array(start), "traceEnd": float64Array(end)}}, nil
}

// float64Array copies floats into a new JavaScript Float64Array.
func float64Array(v []float64) js.Value {
	a := js.Global().Get("Float64Array").New(len(v))
	buf := make([]byte, 8*len(v))
	for i, x := range v {
		binaryLE.PutUint64(buf[8*i:], math.Float64bits(x))
	}
	js.CopyBytesToJS(js.Global().Get("Uint8Array").New(a.Get("buffer")), buf)
	return a
}

// program schedules a compile request with one method and returns the
// program as msgpack bytes and as a text listing.
func program(args []js.Value) (any, error) {
	req, err := compileRequest(args)
	if err != nil {
		return nil, err
	}
	p, err := api.Program(context.Background(), req)
	if err != nil {
		return nil, err
	}
	var pack, listing bytes.Buffer
	if err := p.WriteMsgpack(&pack); err != nil {
		return nil, err
	}
	if err := p.WriteListing(&listing); err != nil {
		return nil, err
	}
	return binary{nil, map[string]any{"msgpack": uint8Array(pack.Bytes()), "listing": listing.String()}}, nil
}

// sweepReply is the sweep's JSON with its summary, as `compass sweep --json`.
type sweepReply struct {
	*api.SweepResult
	Summary []api.NetworkSummary `json:"summary"`
}

func sweep(args []js.Value) (any, error) {
	var req api.SweepRequest
	if err := decode(args, 0, &req); err != nil {
		return nil, err
	}
	for _, name := range req.Models {
		g, err := uploads.Resolve(name)
		if err != nil {
			return nil, err
		}
		req.Graphs = append(req.Graphs, g)
	}
	req.Workers = 1 // one thread in a worker
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		cb := args[1]
		req.Progress = func(done, total int) { cb.Invoke(done, total) }
	}
	res, err := api.Sweep(context.Background(), req)
	if err != nil {
		return nil, err
	}
	return sweepReply{res, res.Summarise()}, nil
}

// compare compares the methods of a compile result (its JSON, from this
// engine or from an HTTP API) with the baselines and the optimum run
// beside them: api.CompileResult.Compare.
func compare(args []js.Value) (any, error) {
	if len(args) < 1 || args[0].Type() != js.TypeString {
		return nil, fmt.Errorf("compare(resultJSON): argument 1 must be a compile result's JSON")
	}
	var res api.CompileResult
	if err := json.Unmarshal([]byte(args[0].String()), &res); err != nil {
		return nil, &api.InputError{Field: "result", Err: fmt.Errorf("not a compile result: %v", err)}
	}
	return res.Compare(), nil
}

// reproduce computes the COMPASS paper's figures for a chip family
// (api.ReproduceRequest), the paper's values beside; a second argument,
// a function, receives the configurations done and their total.
func reproduce(args []js.Value) (any, error) {
	var req api.ReproduceRequest
	if err := decode(args, 0, &req); err != nil {
		return nil, err
	}
	if len(args) > 1 && args[1].Type() == js.TypeFunction {
		cb := args[1]
		req.Progress = func(done, total int) { cb.Invoke(done, total) }
	}
	return api.Reproduce(context.Background(), req)
}

// fileArgs reads (fileName, Uint8Array) arguments.
func fileArgs(fn string, args []js.Value) (string, []byte, error) {
	if len(args) < 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeObject {
		return "", nil, fmt.Errorf("%s(fileName, Uint8Array): wrong arguments", fn)
	}
	name := args[0].String()
	n := args[1].Get("length").Int()
	if n > maxUploadBytes {
		return "", nil, &api.InputError{Field: "model", Err: fmt.Errorf("model file %q is %d bytes; the page accepts up to %d", name, n, maxUploadBytes)}
	}
	data := make([]byte, n)
	js.CopyBytesToGo(data, args[1])
	return name, data, nil
}

// modelInputs lists a model file's graph inputs with their declared shapes
// (-1 where dynamic), for the page's input-size fields.
func modelInputs(args []js.Value) (any, error) {
	name, data, err := fileArgs("modelInputs", args)
	if err != nil {
		return nil, err
	}
	ins, err := api.ModelInputs(name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ins, nil
}

// loadModel registers an uploaded model file (bytes in a Uint8Array) and
// returns its summary; a third argument, the JSON of api.ModelOptions,
// sets the shapes and values of its inputs. The file never leaves the page.
func loadModel(args []js.Value) (any, error) {
	name, data, err := fileArgs("loadModel", args)
	if err != nil {
		return nil, err
	}
	var opt api.ModelOptions
	if len(args) > 2 && args[2].Type() == js.TypeString && args[2].String() != "" {
		if err := decode(args, 2, &opt); err != nil {
			return nil, err
		}
	}
	return uploads.Load(name, data, opt)
}

// maxUploadBytes bounds an uploaded model (512 MiB).
const maxUploadBytes = 512 << 20
