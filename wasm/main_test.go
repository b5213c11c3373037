//go:build js && wasm

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall/js"
	"testing"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/onnx/onnxtest"
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
		{"compile_squeezenet_Mfit_4_edp_optimal_sim.json", `{"model":"squeezenet1_1","chip":"M-fit","batch":4,"methods":["all","optimal-sim"],"objective":"edp","seed":3,"refine":4}`, compile},
		{"simulate_resnet18_M_2_crossbar.json", `{"model":"resnet18","chip":"M","batch":2,"methods":["greedy","optimal"],"seed":1,"placement":"crossbar"}`, simulate},
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

// A model whose one node is at fault comes back naming that node beside
// its field (a JSON graph's node and an ONNX node alike), and a fault of
// no node with node "".
func TestErrorsNameTheirNode(t *testing.T) {
	f := export(loadModel)
	defer f.Release()
	dangling := `{"name":"bad","nodes":[{"name":"x","op":"Input","shape":[8]},{"name":"fc","op":"Linear","inputs":["nope"],"linear":{"out_features":4}}]}`
	cases := []struct {
		name string
		data []byte
		node string
	}{
		{"bad.json", []byte(dangling), "fc"},
		{"bad.onnx", onnxtest.ConvModel([]any{1, 3, 8, 8}, 4, "Reshape"), "reshape_0"},
		{"junk.onnx", []byte("not a protobuf at all"), ""},
	}
	for _, c := range cases {
		r := f.Invoke(c.name, jsBytes(c.data))
		if r.Get("ok").Bool() {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		if kind, field := r.Get("kind").String(), r.Get("field").String(); kind != "input" || field != "model" {
			t.Errorf("%s: kind %q field %q, want input on model", c.name, kind, field)
		}
		if node := r.Get("node"); node.Type() != js.TypeString || node.String() != c.node {
			t.Errorf("%s: node %v, want %q (%s)", c.name, node, c.node, r.Get("error").String())
		}
	}
	// A bad request field names no node.
	fc := export(compile)
	defer fc.Release()
	r := fc.Invoke(`{"model":"resnet18","chip":"M","batch":"four"}`)
	if node := r.Get("node"); node.Type() != js.TypeString || node.String() != "" {
		t.Errorf("a bad batch: node %v, want \"\"", node)
	}
}

// jsBytes copies bytes into a new Uint8Array.
func jsBytes(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// An ONNX file with dynamic sizes: modelInputs reports the declared shape,
// loading it without sizes fails naming the input, with sizes it loads and
// compiles; a file with unsupported operators lists every one of them.
func TestUploadInputsAndBlockers(t *testing.T) {
	file := onnxtest.ConvModel([]any{"N", 3, "H", "W"}, 8, "Relu")
	ok, text, msg := call(t, modelInputs, "dyn.onnx", jsBytes(file))
	if !ok {
		t.Fatal(msg)
	}
	var ins []struct {
		Name     string   `json:"name"`
		Shape    []int    `json:"shape"`
		DimNames []string `json:"dim_names"`
		Dynamic  bool     `json:"dynamic"`
	}
	if err := json.Unmarshal([]byte(text), &ins); err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Name != "x" || fmt.Sprint(ins[0].Shape) != "[-1 3 -1 -1]" || !ins[0].Dynamic || len(ins[0].DimNames) != 4 || ins[0].DimNames[2] != "H" {
		t.Fatalf("modelInputs: %s", text)
	}

	f := export(loadModel)
	defer f.Release()
	r := f.Invoke("dyn.onnx", jsBytes(file))
	if r.Get("ok").Bool() || r.Get("field").String() != "inputs" || r.Get("input").String() != "x" {
		t.Errorf("loading without sizes: ok=%v field %q input %q: %s", r.Get("ok").Bool(), r.Get("field").String(), r.Get("input").String(), r.Get("error").String())
	}
	r = f.Invoke("dyn.onnx", jsBytes(file), `{"inputs":[{"name":"x","shape":[1,3,16,16]}]}`)
	if !r.Get("ok").Bool() {
		t.Fatalf("loading with sizes: %s", r.Get("error").String())
	}
	ok, text, msg = call(t, compile, `{"model":"upload:dyn.onnx","chip":"S","batch":1,"methods":["optimal"]}`)
	if !ok {
		t.Fatal(msg)
	}
	var res struct {
		Layers []struct {
			Name string `json:"name"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(text), &res); err != nil || len(res.Layers) != 1 {
		t.Errorf("the uploaded conv compiled to %d layers (%v)", len(res.Layers), err)
	}
	r = f.Invoke("dyn.onnx", jsBytes(file), `{"inputs":[{"name":"x","shape":"big"}]}`)
	if r.Get("ok").Bool() || r.Get("kind").String() != "input" || !strings.HasPrefix(r.Get("field").String(), "inputs") {
		t.Errorf("a bad options JSON: ok=%v kind %q field %q", r.Get("ok").Bool(), r.Get("kind").String(), r.Get("field").String())
	}

	bad := onnxtest.ConvModel([]any{1, 3, 8, 8}, 4, "NoSuchOpA", "Relu", "NoSuchOpB", "NoSuchOpA")
	r = f.Invoke("bad.onnx", jsBytes(bad))
	if r.Get("ok").Bool() {
		t.Fatal("a model with unknown operators loaded")
	}
	blockers := r.Get("blockers")
	if blockers.Type() != js.TypeObject || blockers.Length() != 2 {
		t.Fatalf("blockers %v for %s", blockers, r.Get("error").String())
	}
	if a := blockers.Index(0).String(); !strings.Contains(a, "NoSuchOpA") || !strings.Contains(a, "2 times") {
		t.Errorf("first blocker %q: want NoSuchOpA used 2 times", a)
	}
	if b := blockers.Index(1).String(); !strings.Contains(b, "NoSuchOpB") || !strings.Contains(b, "once") {
		t.Errorf("second blocker %q: want NoSuchOpB used once", b)
	}
}

// A minimal ONNX (protobuf) writer for tests: a graph of one Conv (its
// weight an initializer) and an optional extra operator, with input dims
// given as sizes or named dynamic dimensions.

// The sweep takes an edited chip as chip_specs through the strict JSON
// decoder, and its rows name the edited chip.
func TestSweepTakesAnEditedChip(t *testing.T) {
	chip, err := api.LoadChip("S")
	if err != nil {
		t.Fatal(err)
	}
	chip.Name = "S, 2 cores"
	chip.Cores = 2
	spec, err := json.Marshal(chip)
	if err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf(`{"models":["squeezenet1_1"],"chips":[],"chip_specs":[%s],"batches":[1,2],"methods":["greedy","optimal"],"objective":"latency","seed":1}`, spec)
	ok, text, msg := call(t, sweep, req)
	if !ok {
		t.Fatal(msg)
	}
	var res struct {
		Rows []struct {
			Chip  string `json:"chip"`
			Batch int    `json:"batch"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(text), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0].Chip != chip.Name || res.Rows[1].Batch != 2 {
		t.Errorf("rows %+v, want two rows of chip %q at batches 1 and 2", res.Rows, chip.Name)
	}
}

// compass.reproduce reports each configuration done, ends at the total,
// and names a bad family as the request's field.
func TestReproduceReportsProgressAndFields(t *testing.T) {
	var done []int
	total := 0
	cb := js.FuncOf(func(this js.Value, args []js.Value) any {
		done = append(done, args[0].Int())
		total = args[1].Int()
		return nil
	})
	defer cb.Release()
	ok, text, msg := call(t, reproduce, `{"family":"sourced","seed":1}`, cb)
	if !ok {
		t.Fatal(msg)
	}
	if len(done) == 0 || done[len(done)-1] != total || len(done) != total {
		t.Errorf("progress %v of %d: want 1 to the total, once each", done, total)
	}
	var res struct {
		Family  string `json:"family"`
		Figures []struct {
			ID string `json:"id"`
		} `json:"figures"`
	}
	if err := json.Unmarshal([]byte(text), &res); err != nil || res.Family != "sourced" || len(res.Figures) == 0 {
		t.Errorf("reproduce: family %q, %d figures (%v)", res.Family, len(res.Figures), err)
	}
	f := export(reproduce)
	defer f.Release()
	r := f.Invoke(`{"family":"no-such"}`)
	if r.Get("ok").Bool() || r.Get("kind").String() != "input" || r.Get("field").String() != "family" {
		t.Errorf("a bad family: ok=%v kind %q field %q (%s)", r.Get("ok").Bool(), r.Get("kind").String(), r.Get("field").String(), r.Get("error").String())
	}
}
