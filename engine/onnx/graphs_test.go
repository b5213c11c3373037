package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/model"
)

// Small hand-written graphs, each with the IR graph it must import as.

func img(name string, dims ...any) vinfo { return vinfo{name: name, dims: dims} }

// convChain: Conv(3->8, 3x3, pad 1) -> Relu -> Conv(8->16, 3x3, stride 2,
// SAME_UPPER) -> Relu, the weights as float initializers.
func convChain(enc int) (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "chain", inputs: []vinfo{img("x", "N", 3, 32, 32)}, outputs: []vinfo{{name: "r2"}}}
	w1 := m.init("w1", typeFloat, enc, nil, 8, 3, 3, 3)
	b1 := m.init("b1", typeFloat, enc, nil, 8)
	m.add("c1", "Conv", []string{"x", w1, b1}, attr{"pads", i64s(1, 1, 1, 1)}, attr{"kernel_shape", i64s(3, 3)})
	m.add("r1", "Relu", []string{"c1"})
	w2 := m.init("w2", typeFloat, enc, nil, 16, 8, 3, 3)
	m.add("c2", "Conv", []string{"r1", w2}, attr{"strides", i64s(2, 2)}, attr{"auto_pad", "SAME_UPPER"})
	m.add("r2", "Relu", []string{"c2"})

	b := model.NewBuilder("chain")
	x := b.Input("x", 3, 32, 32)
	x = b.Unary(model.OpReLU, "r1", b.Conv("c1", x, model.Conv2D(8, 3, 1, 1).WithBias()))
	s := model.Conv2D(16, 3, 2, 0)
	s.PadBottom, s.PadRight = 1, 1 // SAME_UPPER: 31 total -> 0 before, 1 after
	b.Unary(model.OpReLU, "r2", b.Conv("c2", x, s))
	return m, b
}

func residual() (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "res", inputs: []vinfo{img("x", 1, 16, 8, 8)}, outputs: []vinfo{{name: "out"}}}
	bn := func(name string) []string {
		return []string{m.init(name+".s", typeFloat, encTyped, nil, 16), m.init(name+".b", typeFloat, encTyped, nil, 16),
			m.init(name+".m", typeFloat, encTyped, nil, 16), m.init(name+".v", typeFloat, encTyped, nil, 16)}
	}
	m.add("conv1", "Conv", []string{"x", m.init("w1", 10, encRaw, nil, 16, 16, 3, 3)}, attr{"pads", i64s(1, 1, 1, 1)})
	m.add("bn1", "BatchNormalization", append([]string{"conv1"}, bn("bn1")...))
	m.add("relu1", "Relu", []string{"bn1"})
	m.add("conv2", "Conv", []string{"relu1", m.init("w2", 10, encRaw, nil, 16, 16, 3, 3)}, attr{"pads", i64s(1, 1, 1, 1)})
	m.add("bn2", "BatchNormalization", append([]string{"conv2"}, bn("bn2")...))
	m.add("add", "Add", []string{"bn2", "x"})
	m.add("out", "Relu", []string{"add"})

	b := model.NewBuilder("res")
	x := b.Input("x", 16, 8, 8)
	y := b.Unary(model.OpBatchNorm, "bn1", b.Conv("conv1", x, model.Conv2D(16, 3, 1, 1)))
	y = b.Unary(model.OpReLU, "relu1", y)
	y = b.Unary(model.OpBatchNorm, "bn2", b.Conv("conv2", y, model.Conv2D(16, 3, 1, 1)))
	b.Unary(model.OpReLU, "out", b.Binary(model.OpAdd, "add", y, x))
	return m, b
}

// depthwise: a MobileNet block, ReLU6 as Clip with attributes (opset 6).
func depthwise() (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "dw", opset: 9, inputs: []vinfo{img("x", "batch", 32, 16, 16)}, outputs: []vinfo{{name: "proj"}}}
	m.add("expand", "Conv", []string{"x", m.init("we", 3, encRaw, nil, 64, 32, 1, 1)})
	m.add("relu6a", "Clip", []string{"expand"}, attr{"min", 0.0}, attr{"max", 6.0})
	m.add("dw", "Conv", []string{"relu6a", m.init("wd", 3, encRaw, nil, 64, 1, 3, 3)}, attr{"group", 64}, attr{"strides", i64s(2, 2)}, attr{"pads", i64s(1, 1, 1, 1)})
	m.add("relu6b", "Clip", []string{"dw"}, attr{"min", 0.0}, attr{"max", 6.0})
	m.add("proj", "Conv", []string{"relu6b", m.init("wp", 3, encRaw, nil, 24, 64, 1, 1)})

	b := model.NewBuilder("dw")
	x := b.Input("x", 32, 16, 16)
	x = b.Clip("relu6a", b.Conv("expand", x, model.Conv2D(64, 1, 1, 0)), 0, 6)
	x = b.Clip("relu6b", b.Conv("dw", x, model.Conv2D(64, 3, 2, 1).WithGroups(64)), 0, 6)
	b.Conv("proj", x, model.Conv2D(24, 1, 1, 0))
	return m, b
}

// gemmHead: GlobalAveragePool -> Flatten -> Gemm (transB) with bias, then
// Softmax on axis 1.
func gemmHead() (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "head", inputs: []vinfo{img("x", "N", 64, 7, 7)}, outputs: []vinfo{{name: "prob"}}}
	m.add("gap", "GlobalAveragePool", []string{"x"})
	m.add("flat", "Flatten", []string{"gap"}, attr{"axis", 1})
	m.add("fc", "Gemm", []string{"flat", m.init("fc.w", 1, encUnpacked, nil, 10, 64), m.init("fc.b", 1, encUnpacked, nil, 10)}, attr{"transB", 1}, attr{"alpha", 0.5})
	m.add("prob", "Softmax", []string{"fc"}, attr{"axis", 1})

	b := model.NewBuilder("head")
	x := b.Input("x", 64, 7, 7)
	x = b.Flatten("flat", b.Unary(model.OpGlobalAvgPool, "gap", x), 0)
	b.Softmax("prob", b.Linear("fc", x, 10, true), 0)
	return m, b
}

// constantWeights: convChain with every weight in a Constant node, as
// Paddle2ONNX writes them.
func constantWeights() (*onnxModel, *model.Builder) {
	m, b := convChain(encRaw)
	var nodes []node
	for _, t := range m.inits {
		nodes = append(nodes, node{name: "const_" + t.name, op: "Constant", out: []string{t.name}, attrs: []attr{{"value", t}}})
	}
	m.nodes = append(nodes, m.nodes...)
	m.inits = nil
	return m, b
}

// splitGraph: Conv -> Split(axis 1, [8, 24]) -> Relu on each -> Concat.
func splitGraph() (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "split", opset: 13, inputs: []vinfo{img("x", "N", 3, 16, 16)}, outputs: []vinfo{{name: "cat"}}}
	m.add("conv", "Conv", []string{"x", m.init("w", 1, encRaw, nil, 32, 3, 1, 1)})
	m.nodes = append(m.nodes, node{name: "split", op: "Split", in: []string{"conv", m.init("sizes", typeInt64, encTyped, f64s(8, 24), 2)}, out: []string{"lo", "hi"}, attrs: []attr{{"axis", -3}}})
	m.add("rlo", "Relu", []string{"lo"})
	m.add("rhi", "Sigmoid", []string{"hi"})
	m.add("cat", "Concat", []string{"rhi", "rlo"}, attr{"axis", 1})

	b := model.NewBuilder("split")
	x := b.Conv("conv", b.Input("x", 3, 16, 16), model.Conv2D(32, 1, 1, 0))
	lo := b.Slice("lo", x, 0, 0, 8)
	hi := b.Slice("hi", x, 0, 8, 32)
	rlo := b.Unary(model.OpReLU, "rlo", lo)
	b.Concat("cat", 0, b.Unary(model.OpSigmoid, "rhi", hi), rlo)
	return m, b
}

// padConv: an explicit Pad (opset 11, pads as an input) before a Conv
// folds into the Conv's padding; a Pad before a ReLU stays a Pad.
func padConv() (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "pad", opset: 11, inputs: []vinfo{img("x", "N", 4, 10, 10)}, outputs: []vinfo{{name: "conv"}, {name: "relu"}}}
	pads := m.init("pads", typeInt64, encRaw, f64s(0, 0, 1, 2, 0, 0, 3, 1), 8)
	m.add("pad", "Pad", []string{"x", pads})
	m.add("conv", "Conv", []string{"pad", m.init("w", 1, encRaw, nil, 8, 4, 3, 3)}, attr{"pads", i64s(1, 1, 1, 1)})
	m.add("pad2", "Pad", []string{"x", m.init("pads2", typeInt64, encRaw, f64s(0, 0, 0, 1, 0, 0, 0, 1), 8)})
	m.add("relu", "Relu", []string{"pad2"})

	b := model.NewBuilder("pad")
	x := b.Input("x", 4, 10, 10)
	s := model.Conv2D(8, 3, 1, 1)
	s.PadTop, s.PadLeft, s.PadBottom, s.PadRight = 2, 3, 4, 2
	b.Conv("conv", x, s)
	p := b.Node(&model.Node{Name: "pad2", Op: model.OpPad, Inputs: []string{x}, Pads: []int{0, 0, 1, 0, 0, 1}})
	b.Unary(model.OpReLU, "relu", p)
	return m, b
}

// shapeFold: x.view(x.size(0), -1) as older PyTorch exports it:
// Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape, then a
// MatMul with a constant (a Linear) and an Add of its bias.
func shapeFold() (*onnxModel, *model.Builder) {
	m := &onnxModel{name: "fold", opset: 11, inputs: []vinfo{img("x", "N", 8, 4, 4)}, outputs: []vinfo{{name: "fc"}}}
	m.add("shape", "Shape", []string{"x"})
	m.add("n", "Gather", []string{"shape", m.init("zero", typeInt64, encRaw, f64s(0))}, attr{"axis", 0})
	m.add("n1", "Unsqueeze", []string{"n"}, attr{"axes", i64s(0)})
	m.nodes = append(m.nodes, node{name: "minus1", op: "Constant", out: []string{"m1"}, attrs: []attr{{"value", &tensor{dtype: typeInt64, dims: []int64{1}, enc: encTyped, vals: []float64{-1}}}}})
	m.add("target", "Concat", []string{"n1", "m1"}, attr{"axis", 0})
	m.add("cast", "Cast", []string{"target"}, attr{"to", int64(typeInt64)})
	m.add("flat", "Reshape", []string{"x", "cast"})
	m.nodes = append(m.nodes, node{name: "fc", op: "MatMul", in: []string{"flat", m.init("w", 1, encRaw, nil, 128, 10)}, out: []string{"mm"}})
	m.nodes = append(m.nodes, node{name: "fc/bias", op: "Add", in: []string{m.init("b", 1, encRaw, nil, 10), "mm"}, out: []string{"fc"}})

	b := model.NewBuilder("fold")
	x := b.Input("x", 8, 4, 4)
	b.Linear("fc", b.Reshape("flat", x, 128), 10, true)
	return m, b
}

func TestSmallGraphs(t *testing.T) {
	cases := []struct {
		name  string
		build func() (*onnxModel, *model.Builder)
		opt   Options
	}{
		{"conv chain", func() (*onnxModel, *model.Builder) { return convChain(encRaw) }, Options{}},
		{"conv chain typed", func() (*onnxModel, *model.Builder) { return convChain(encTyped) }, Options{}},
		{"residual block", residual, Options{}},
		{"depthwise block", depthwise, Options{}},
		{"gemm head", gemmHead, Options{}},
		{"weights as Constant nodes", constantWeights, Options{}},
		{"dynamic batch given", func() (*onnxModel, *model.Builder) { return convChain(encRaw) }, Options{InputShape: []int{4, 3, 32, 32}}},
		{"split", splitGraph, Options{}},
		{"pad before conv", padConv, Options{}},
		{"shape gather folding", shapeFold, Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, b := c.build()
			want, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadBytes(m.bytes(), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			sameGraph(t, want, got)
		})
	}
}

// TestInitializersAsInputs: old exporters list initializers among the
// graph inputs; they are not inputs.
func TestInitializersAsInputs(t *testing.T) {
	m, b := convChain(encRaw)
	m.inputsInclude = true
	want, _ := b.Build()
	got, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameGraph(t, want, got)
}

// TestDataTypes decodes a Reshape target stored in every integer type and
// encoding, and checks raw_data sizes of every numeric type.
func TestDataTypes(t *testing.T) {
	for dt, d := range dtypes {
		if d.bits == 0 || d.kind == kindString || d.kind == kindComplex || d.kind == kindFloat8 {
			continue
		}
		for _, enc := range []int{encRaw, encTyped, encUnpacked} {
			m := &onnxModel{name: "dt", inputs: []vinfo{img("x", "N", 2, 3, 4)}, outputs: []vinfo{{name: "r"}}}
			vals := []float64{1, 6, 4}
			if d.bits == 4 && d.kind == kindUint {
				vals = []float64{1, 3, 8}
			}
			if d.bits == 4 && d.kind == kindInt {
				vals = []float64{1, 4, 6} // int4 holds -8..7
			}
			if d.kind == kindBool {
				continue
			}
			target := m.init("shape", int32(dt), enc, vals, 3)
			m.add("r", "Reshape", []string{"x", target})
			got, err := ReadBytes(m.bytes(), Options{})
			if err != nil {
				t.Fatalf("%s enc %d: %v", d.name, enc, err)
			}
			want := model.Shape{int(vals[1]), int(vals[2])}
			if out := got.Nodes[len(got.Nodes)-1].Out; !out.Equal(want) {
				t.Errorf("%s enc %d: shape %v, want %v", d.name, enc, out, want)
			}
		}
	}
}

// TestExternalData: weights in an external file are read from a path (the
// CLI) and refused without a filesystem (the browser).
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	m, b := convChain(encRaw)
	for _, tn := range m.inits {
		tn.enc, tn.ext = encExternal, "weights.bin"
	}
	if err := os.WriteFile(filepath.Join(dir, "chain.onnx"), m.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// No data file yet: a clear error naming it.
	if _, err := ReadFile(filepath.Join(dir, "chain.onnx"), Options{}); err == nil || !strings.Contains(err.Error(), "weights.bin") {
		t.Fatalf("missing external file: %v", err)
	}
	f, err := os.Create(filepath.Join(dir, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16 * 8 * 3 * 3 * 4); err != nil { // the largest tensor; metadata only
		t.Fatal(err)
	}
	f.Close()
	got, err := ReadFile(filepath.Join(dir, "chain.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := b.Build()
	want.Name = "chain"
	sameGraph(t, want, got)
	_, err = ReadBytes(m.bytes(), Options{})
	if err == nil || !strings.Contains(err.Error(), "no filesystem") {
		t.Fatalf("browser read of external data: %v", err)
	}
	// A location outside the model's directory is refused.
	m.inits[0].ext = "../../etc/passwd"
	os.WriteFile(filepath.Join(dir, "evil.onnx"), m.bytes(), 0o644)
	if _, err := ReadFile(filepath.Join(dir, "evil.onnx"), Options{}); err == nil || !strings.Contains(err.Error(), "outside the model's directory") {
		t.Fatalf("path traversal: %v", err)
	}
}

// TestReadFileMatchesReadBytes: the file-backed reader (windowed reads)
// gives the same graph as the in-memory one, also for a file larger than
// the window.
func TestReadFileMatchesReadBytes(t *testing.T) {
	m, b := residual()
	data := m.bytes()
	path := filepath.Join(t.TempDir(), "res.onnx")
	os.WriteFile(path, data, 0o644)
	got, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := b.Build()
	sameGraph(t, want, got)
	if got.Name != "res" {
		t.Errorf("name %q", got.Name)
	}
}

func TestInputShapeOption(t *testing.T) {
	m, _ := convChain(encRaw)
	m.inputs[0].dims = []any{"N", 3, "H", "W"}
	g, err := ReadBytes(m.bytes(), Options{InputShape: []int{1, 3, 64, 48}})
	if err != nil {
		t.Fatal(err)
	}
	if out := g.Nodes[len(g.Nodes)-1].Out; !out.Equal(model.Shape{16, 32, 24}) {
		t.Fatalf("output %v", out)
	}
	m2, _ := residual() // fixed input [1,16,8,8]
	for _, bad := range [][]int{{1, 16, 9, 8}, {1, 16, 8}} {
		if _, err := ReadBytes(m2.bytes(), Options{InputShape: bad}); err == nil {
			t.Errorf("input shape %v accepted", bad)
		}
	}
}

func TestReadFromReader(t *testing.T) {
	m, b := residual()
	got, err := Read(strings.NewReader(string(m.bytes())), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := b.Build()
	sameGraph(t, want, got)
	if _, err := Read(strings.NewReader(string(m.bytes())), Options{MaxBytes: 64}); err == nil || !strings.Contains(err.Error(), "larger than 64 bytes") {
		t.Fatalf("size cap: %v", err)
	}
}
