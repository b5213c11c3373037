//go:build js && wasm

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall/js"
	"testing"

	"github.com/compass-go/compass/engine/isa"
)

// call invokes an exported function through JavaScript, as the page does.
func call(t *testing.T, h func([]js.Value) (any, error), args ...any) (ok bool, text, errText string) {
	t.Helper()
	f := export(h)
	defer f.Release()
	r := f.Invoke(args...)
	return r.Get("ok").Bool(), r.Get("json").String(), r.Get("error").String()
}

// The same request gives the same bytes as the native CLI. scripts/test.sh
// writes the CLI's output for these requests into COMPASS_NATIVE_DIR.
func TestSameBytesAsTheNativeCLI(t *testing.T) {
	dir := os.Getenv("COMPASS_NATIVE_DIR")
	if dir == "" {
		t.Fatal("COMPASS_NATIVE_DIR is not set: run the wasm tests through scripts/test.sh, which writes the native CLI's JSON there")
	}
	cases := []struct {
		file, request string
		handler       func([]js.Value) (any, error)
	}{
		{"compile_resnet18_M_16.json", `{"model":"resnet18","chip":"M","batch":16,"methods":["all"],"objective":"latency","seed":7}`, compile},
		{"compile_squeezenet_S_4_edp.json", `{"model":"squeezenet1_1","chip":"S","batch":4,"methods":["all"],"objective":"edp","seed":3}`, compile},
		{"inspect_mobilenet_v2_ReRAM.json", `{"model":"mobilenet_v2","chip":"ReRAM"}`, inspect},
	}
	for _, c := range cases {
		want, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		ok, got, msg := call(t, c.handler, c.request)
		if !ok {
			t.Fatalf("%s: %s", c.file, msg)
		}
		if got != string(want) {
			t.Errorf("%s: the wasm result differs from the native CLI's (%d vs %d bytes)", c.file, len(got), len(want))
		}
	}
}

func TestCompileReportsProgress(t *testing.T) {
	var gens []int
	cb := js.FuncOf(func(this js.Value, args []js.Value) any {
		if args[0].String() == "compass" {
			gens = append(gens, args[1].Get("index").Int())
		}
		return nil
	})
	defer cb.Release()
	ok, text, msg := call(t, compile, `{"model":"squeezenet1_1","chip":"S","batch":2,"methods":["compass"],"seed":1}`, cb)
	if !ok {
		t.Fatal(msg)
	}
	var res struct {
		Results []struct {
			GA struct {
				History []json.RawMessage `json:"history"`
			} `json:"ga"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(text), &res); err != nil {
		t.Fatal(err)
	}
	if len(gens) == 0 || len(gens) != len(res.Results[0].GA.History) || gens[0] != 0 {
		t.Errorf("progress indices %v for a history of %d generations", gens, len(res.Results[0].GA.History))
	}
}

func TestErrorsAreResultsNotCrashes(t *testing.T) {
	cases := []struct {
		h    func([]js.Value) (any, error)
		args []any
		want string
	}{
		{compile, []any{`{"model":"resnet18","chip":"M","batch":0}`}, "batch = 0"},
		{compile, []any{`{"model":"resnet18","chip":"M","batch":1,"bogus":1}`}, "bogus"},
		{compile, []any{`not json`}, "request"},
		{compile, []any{42}, "JSON string"},
		{inspect, []any{`{"model":"upload:ghost.onnx","chip":"M"}`}, "not loaded"},
		{loadModel, []any{"junk.onnx", js.Global().Get("Uint8Array").New(4)}, "junk.onnx"},
		{func([]js.Value) (any, error) { panic("boom") }, nil, "boom"},
	}
	for _, c := range cases {
		ok, _, msg := call(t, c.h, c.args...)
		if ok || !strings.Contains(msg, c.want) {
			t.Errorf("%v: ok=%v error %q, want an error mentioning %q", c.args, ok, msg, c.want)
		}
	}
}

func TestLoadModelThenCompile(t *testing.T) {
	graph := `{"name":"tiny","nodes":[{"name":"x","op":"Input","shape":[8]},{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":4}}]}`
	arr := js.Global().Get("Uint8Array").New(len(graph))
	js.CopyBytesToJS(arr, []byte(graph))
	ok, text, msg := call(t, loadModel, "tiny.json", arr)
	if !ok || !strings.Contains(text, `"upload:tiny.json"`) {
		t.Fatalf("loadModel: ok=%v %s %s", ok, text, msg)
	}
	ok, _, msg = call(t, compile, `{"model":"upload:tiny.json","chip":"S","batch":1,"methods":["optimal"]}`)
	if !ok {
		t.Fatal(msg)
	}
	bad := js.Global().Get("Uint8Array").New(3)
	if ok, _, msg := call(t, loadModel, "broken.json", bad); ok || !strings.Contains(msg, "broken.json") {
		t.Errorf("a broken file: ok=%v %q", ok, msg)
	}
}

// BenchmarkCompileResNet18M16 times the page's main request in WebAssembly
// (compare with engine/api's BenchmarkCompileResNet18M16, natively).
func BenchmarkCompileResNet18M16(b *testing.B) {
	req := js.ValueOf(`{"model":"resnet18","chip":"M","batch":16,"methods":["all"],"objective":"latency","seed":1}`)
	f := export(compile)
	defer f.Release()
	for b.Loop() {
		if r := f.Invoke(req); !r.Get("ok").Bool() {
			b.Fatal(r.Get("error").String())
		}
	}
}

func TestTypedArraysAndProgramExport(t *testing.T) {
	f := export(compile)
	defer f.Release()
	r := f.Invoke(`{"model":"resnet18","chip":"M","batch":1,"methods":["greedy"]}`)
	if !r.Get("ok").Bool() {
		t.Fatal(r.Get("error").String())
	}
	var res struct {
		ValidEnds []int `json:"valid_ends"`
	}
	if err := json.Unmarshal([]byte(r.Get("json").String()), &res); err != nil {
		t.Fatal(err)
	}
	arr := r.Get("validEnds")
	if arr.Get("length").Int() != len(res.ValidEnds) {
		t.Fatalf("typed array of %d, JSON has %d", arr.Get("length").Int(), len(res.ValidEnds))
	}
	for i, v := range res.ValidEnds {
		if arr.Index(i).Int() != v {
			t.Fatalf("validEnds[%d] = %d, JSON %d", i, arr.Index(i).Int(), v)
		}
	}
	pf := export(program)
	defer pf.Release()
	pr := pf.Invoke(`{"model":"squeezenet1_1","chip":"S","batch":2,"methods":["compass"],"seed":1}`)
	if !pr.Get("ok").Bool() {
		t.Fatal(pr.Get("error").String())
	}
	n := pr.Get("msgpack").Get("length").Int()
	data := make([]byte, n)
	js.CopyBytesToGo(data, pr.Get("msgpack"))
	p, err := isa.ReadMsgpack(bytes.NewReader(data))
	if err != nil || len(p.Partitions) == 0 {
		t.Fatalf("msgpack program: %v", err)
	}
	if !strings.Contains(pr.Get("listing").String(), "MVMUL") {
		t.Error("listing lacks MVMUL")
	}
}

// A bad field of a request comes back with its kind and its JSON path, in
// plain words (no Go type names), and a panic as one short sentence
// without a stack.
func TestErrorsNameTheirField(t *testing.T) {
	cases := []struct {
		request, field, want string
		reject               []string
	}{
		{`{"model":"resnet18","chip":"M","batch":1,"chip_spec":{"cores":2.5}}`, "chip_spec.cores", "must be a whole number",
			[]string{"Go struct", "unmarshal", "of type"}},
		{`{"model":"resnet18","chip":"M","batch":"four"}`, "batch", "must be a whole number", []string{"Go struct", "unmarshal"}},
		{`{"model":"resnet18","chip":"M","batch":1,"bogus":1}`, "bogus", "not a field", []string{"json:"}},
		{`{"model":"resnet18","chip":"M","batch":1,"chip_spec":{"cores":8,"clock_hz":"fast"}}`, "chip_spec.clock_hz", "must be a number", nil},
	}
	for _, c := range cases {
		f := export(compile)
		r := f.Invoke(c.request)
		f.Release()
		if r.Get("ok").Bool() {
			t.Errorf("%s: accepted", c.request)
			continue
		}
		msg := r.Get("error").String()
		if kind := r.Get("kind").String(); kind != "input" {
			t.Errorf("%s: kind %q, want input (%s)", c.request, kind, msg)
		}
		if field := r.Get("field").String(); field != c.field {
			t.Errorf("%s: field %q, want %q (%s)", c.request, field, c.field, msg)
		}
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: message %q lacks %q", c.request, msg, c.want)
		}
		for _, bad := range c.reject {
			if strings.Contains(msg, bad) {
				t.Errorf("%s: message %q shows Go's wording %q", c.request, msg, bad)
			}
		}
	}
	f := export(func([]js.Value) (any, error) { panic(strings.Repeat("a very long panic value ", 100)) })
	defer f.Release()
	r := f.Invoke()
	msg := r.Get("error").String()
	if r.Get("ok").Bool() || r.Get("kind").String() != "internal" || len(msg) > 400 || strings.Contains(msg, "goroutine") || strings.Contains(msg, ".go:") {
		t.Errorf("a panic reached the page as %d characters, kind %q: %.200q", len(msg), r.Get("kind").String(), msg)
	}
}
