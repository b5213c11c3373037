package onnx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/model"
)

// node returns the IR node of the given name and its statistics.
func irNode(t *testing.T, g *model.Graph, name string) (*model.Node, model.Stats) {
	t.Helper()
	for i, n := range g.Nodes {
		if n.Name == name {
			return n, g.NodeStats(i)
		}
	}
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	t.Fatalf("no IR node %q among %v", name, names)
	return nil, model.Stats{}
}

func scalar(m *onnxModel, name string, v float64) string {
	return m.init(name, typeFloat, encRaw, []float64{v})
}

// TestLayerNormWrittenOut: a LayerNorm and a GELU written out op by op
// (exports before opset 17 and 20) import, each step an IR node with the
// element-wise cost of its mode.
func TestLayerNormWrittenOut(t *testing.T) {
	m := &onnxModel{name: "ln", opset: 13, inputs: []vinfo{img("x", "N", 7, 16)}, outputs: []vinfo{{name: "gelu"}}}
	m.add("mean", "ReduceMean", []string{"x"}, attr{"axes", i64s(-1)}, attr{"keepdims", 1})
	m.add("d", "Sub", []string{"x", "mean"})
	m.add("pow", "Pow", []string{"d", scalar(m, "two", 2)})
	m.add("var", "ReduceMean", []string{"pow"}, attr{"axes", i64s(-1)}, attr{"keepdims", 1})
	m.add("ve", "Add", []string{"var", scalar(m, "eps", 1e-5)})
	m.add("sqrt", "Sqrt", []string{"ve"})
	m.add("norm", "Div", []string{"d", "sqrt"})
	m.add("scaled", "Div", []string{"norm", scalar(m, "rt2", 1.4142)})
	m.add("erf", "Erf", []string{"scaled"})
	m.add("erf1", "Add", []string{"erf", scalar(m, "one", 1)})
	m.add("gelu", "Mul", []string{"norm", "erf1"})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, mode string
		out        string
		vecOps     int64
	}{
		{"pow", "pow", "[7,16]", 7 * 16 * 3},
		{"sqrt", "sqrt", "[7,1]", 7},
		{"erf", "erf", "[7,16]", 7 * 16},
	} {
		n, st := irNode(t, g, c.name)
		if n.Op != model.OpElementwise || n.Mode != c.mode || n.Out.String() != c.out || st.VecOps != c.vecOps {
			t.Errorf("%s: %s %q %v, %d vector ops; want Elementwise %q %s, %d", c.name, n.Op, n.Mode, n.Out, st.VecOps, c.mode, c.out, c.vecOps)
		}
	}
	if n, _ := irNode(t, g, "pow"); len(n.Inputs) != 2 || n.Inputs[1] != "two" {
		t.Errorf("pow's exponent is not a Constant operand: %v", n.Inputs)
	}
}

// TestElementwiseOnActivations: every element-wise operator on an
// activation is an Elementwise node with its mode, shape and cost per
// output element (the costs in model's table: one op per look-up, compare
// or select, pow three, mod two, n-ary one per extra operand).
func TestElementwiseOnActivations(t *testing.T) {
	cases := []struct {
		op      string
		consts  int // extra constant operands [16]
		acts    int // extra activation operands
		mode    string
		perElem int64
	}{
		{"Abs", 0, 0, "abs", 1}, {"Neg", 0, 0, "neg", 1}, {"Exp", 0, 0, "exp", 1}, {"Log", 0, 0, "log", 1},
		{"Reciprocal", 0, 0, "reciprocal", 1}, {"Sqrt", 0, 0, "sqrt", 1}, {"Erf", 0, 0, "erf", 1}, {"Not", 0, 0, "not", 1},
		{"Floor", 0, 0, "floor", 1}, {"Ceil", 0, 0, "ceil", 1}, {"Round", 0, 0, "round", 1}, {"Sign", 0, 0, "sign", 1},
		{"Pow", 1, 0, "pow", 3}, {"Mod", 1, 0, "mod", 2},
		{"Equal", 1, 0, "equal", 1}, {"Greater", 1, 0, "greater", 1}, {"GreaterOrEqual", 1, 0, "greater_or_equal", 1},
		{"Less", 1, 0, "less", 1}, {"LessOrEqual", 1, 0, "less_or_equal", 1},
		{"And", 0, 1, "and", 1}, {"Or", 0, 1, "or", 1}, {"Xor", 0, 1, "xor", 1},
		{"Max", 1, 0, "max", 1}, {"Min", 1, 0, "min", 1},
		{"Sum", 1, 2, "sum", 3}, {"Max", 1, 2, "max", 3}, {"Mean", 0, 2, "mean", 3},
		{"Where", 2, 0, "where", 1}, {"Where", 0, 2, "where", 1},
		{"Elu", 0, 0, "elu", 2}, {"Selu", 0, 0, "selu", 2}, {"Celu", 0, 0, "celu", 2}, {"Mish", 0, 0, "mish", 2},
		{"Softplus", 0, 0, "softplus", 1}, {"Softsign", 0, 0, "softsign", 2}, {"ThresholdedRelu", 0, 0, "thresholded_relu", 1},
		{"Sin", 0, 0, "sin", 1}, {"Cos", 0, 0, "cos", 1}, {"PRelu", 1, 0, "prelu", 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%d_%d", c.op, c.consts, c.acts), func(t *testing.T) {
			m := &onnxModel{name: "ew", inputs: []vinfo{img("x", "N", 4, 16), img("y", "N", 4, 16)}, outputs: []vinfo{{name: "out"}}}
			in := []string{"x"}
			for k := 0; k < c.acts; k++ {
				in = append(in, []string{"y", "x"}[k%2])
			}
			for k := 0; k < c.consts; k++ {
				in = append(in, m.init(fmt.Sprintf("k%d", k), typeFloat, encRaw, nil, 16))
			}
			m.add("out", c.op, in)
			g, err := ReadBytes(m.bytes(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			n, st := irNode(t, g, "out")
			if n.Op != model.OpElementwise || n.Mode != c.mode || n.Out.String() != "[4,16]" || len(n.Inputs) != 1+c.consts+c.acts {
				t.Fatalf("%s %q %v inputs %v", n.Op, n.Mode, n.Out, n.Inputs)
			}
			if st.VecOps != 64*c.perElem {
				t.Errorf("%d vector ops, want %d", st.VecOps, 64*c.perElem)
			}
		})
	}
}

// TestElementwiseFolds: on constants the operators fold to values that
// shape computations can use (Sqrt, Pow, Max of three, Where, Not, Equal
// building a Reshape target).
func TestElementwiseFolds(t *testing.T) {
	m := &onnxModel{name: "fold", inputs: []vinfo{img("x", "N", 3, 4)}, outputs: []vinfo{{name: "r"}}}
	i := func(name string, v ...int64) string {
		return m.init(name, typeInt64, encRaw, f64s(v...), int64(len(v)))
	}
	m.add("sq", "Sqrt", []string{m.init("nine", typeFloat, encRaw, []float64{9}, 1)}) // [3]
	m.add("p", "Pow", []string{i("two", 2), i("two2", 2)})                            // [4]
	m.add("mx", "Max", []string{i("a", 1), i("b", -5), i("c", 0)})                    // [1]
	m.add("eq", "Equal", []string{i("e1", 7), i("e2", 7)})                            // [1]
	m.add("w", "Where", []string{"eq", "mx", i("bad", 99)})                           // [1]
	m.add("sqi", "Cast", []string{"sq"}, attr{"to", int64(typeInt64)})                //
	m.add("target", "Concat", []string{"w", "p", "sqi"}, attr{"axis", 0})             // [1,4,3]
	m.add("r", "Reshape", []string{"x", "target"})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Nodes[len(g.Nodes)-1]; n.Op != model.OpReshape || n.Out.String() != "[4,3]" {
		t.Fatalf("last node %s %v", n.Op, n.Out)
	}
}

// TestFoldingKeepsValues: a rank-3 constant through Transpose, and a
// constant Split into unequal parts, keep their values, so a Pad fed by
// them gets its pads.
func TestFoldingKeepsValues(t *testing.T) {
	m := &onnxModel{name: "pads", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "a"}, {name: "b"}}}
	// [4,2,1] whose transpose (1,0,2) flattens to pads [0,0,1,2, 0,0,3,4].
	k := m.init("k", typeInt64, encRaw, f64s(0, 0, 0, 0, 1, 3, 2, 4), 4, 2, 1)
	m.add("kt", "Transpose", []string{k}, attr{"perm", i64s(1, 0, 2)})
	m.add("pads1", "Reshape", []string{"kt", m.init("eight", typeInt64, encRaw, f64s(8), 1)})
	m.add("p1", "Pad", []string{"x", "pads1"})
	m.add("a", "Relu", []string{"p1"})
	s := m.init("s", typeInt64, encRaw, f64s(0, 0, 1, 1, 0, 0, 2, 1, 7, 9), 10)
	m.nodes = append(m.nodes, node{name: "split", op: "Split", in: []string{s, m.init("sizes", typeInt64, encRaw, f64s(8, 2), 2)}, out: []string{"pads2", "rest"}, attrs: []attr{{"axis", 0}}})
	m.add("p2", "Pad", []string{"x", "pads2"})
	m.add("b", "Relu", []string{"p2"})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := irNode(t, g, "a"); n.Out.String() != "[3,12,14]" {
		t.Errorf("pad from a transposed constant: %v, want [3,12,14]", n.Out)
	}
	if n, _ := irNode(t, g, "b"); n.Out.String() != "[3,11,10]" {
		t.Errorf("pad from a split constant: %v, want [3,11,10]", n.Out)
	}
}

// ifModel: y = x W1 (8 outputs) when sr == 16000, else x W2 (4 outputs);
// the branches read x from the enclosing graph.
func ifModel() *onnxModel {
	m := &onnxModel{name: "if", inputs: []vinfo{img("x", "N", 32), {name: "sr", dims: []any{1}, elem: typeInt64}}, outputs: []vinfo{{name: "y"}}}
	m.add("is16k", "Equal", []string{"sr", m.init("k16", typeInt64, encRaw, f64s(16000), 1)})
	m.add("cond", "Squeeze", []string{"is16k"})
	then := &subgraph{inits: []*tensor{{name: "w1", dtype: typeFloat, dims: []int64{32, 8}}}, outputs: []vinfo{{name: "t"}},
		nodes: []node{{name: "mm_then", op: "MatMul", in: []string{"x", "w1"}, out: []string{"t"}}}}
	els := &subgraph{inits: []*tensor{{name: "w2", dtype: typeFloat, dims: []int64{32, 4}}}, outputs: []vinfo{{name: "e"}},
		nodes: []node{{name: "mm_else", op: "MatMul", in: []string{"x", "w2"}, out: []string{"e"}}}}
	m.nodes = append(m.nodes, node{name: "branch", op: "If", in: []string{"cond"}, out: []string{"y"}, attrs: []attr{{"then_branch", then}, {"else_branch", els}}})
	return m
}

// TestIfFolds: given the value of the input its condition reads, an If
// is replaced by the branch it takes; without it the error names the If,
// the input and the flag.
func TestIfFolds(t *testing.T) {
	for _, c := range []struct {
		sr    int64
		layer string
		out   string
	}{{16000, "mm_then", "[8]"}, {8000, "mm_else", "[4]"}} {
		g, err := ReadBytes(ifModel().bytes(), Options{Inputs: []InputSetting{{Name: "sr", Value: []int64{c.sr}}}})
		if err != nil {
			t.Fatalf("sr=%d: %v", c.sr, err)
		}
		if layers := g.CrossbarLayers(); len(layers) != 1 || g.Nodes[layers[0]].Name != c.layer || g.Nodes[layers[0]].Out.String() != c.out {
			t.Fatalf("sr=%d: %d layers, %v", c.sr, len(layers), g.Nodes)
		}
		for _, n := range g.Nodes {
			if n.Name == "sr" {
				t.Errorf("sr=%d: the input given a value is still an IR input", c.sr)
			}
		}
	}
	_, err := ReadBytes(ifModel().bytes(), Options{})
	for _, w := range []string{`"branch" (If)`, `"sr"`, "--input sr:value="} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("unknown condition: error %v lacks %q", err, w)
		}
	}
	// Wrong value count, and a value for an input that is not there.
	if _, err := ReadBytes(ifModel().bytes(), Options{Inputs: []InputSetting{{Name: "sr", Value: []int64{1, 2}}}}); err == nil || !strings.Contains(err.Error(), "2 values given for shape [1]") {
		t.Errorf("two values for [1]: %v", err)
	}
	if _, err := ReadBytes(ifModel().bytes(), Options{Inputs: []InputSetting{{Name: "rate", Value: []int64{1}}}}); err == nil || !strings.Contains(err.Error(), `"rate" is not a graph input`) || !strings.Contains(err.Error(), "x, sr") {
		t.Errorf("unknown input: %v", err)
	}
}

// TestUnsupportedListsAll: every unsupported operator of a file, with its
// count and first node, in one error.
func TestUnsupportedListsAll(t *testing.T) {
	m := &onnxModel{name: "many", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "d"}}}
	m.add("a", "NonMaxSuppression", []string{"x"})
	m.add("b", "TopK", []string{"a"})
	m.add("c", "NonMaxSuppression", []string{"b"})
	m.nodes = append(m.nodes, node{name: "d", op: "FusedConv", in: []string{"c"}, out: []string{"d"}})
	data := m.bytes()
	_, err := ReadBytes(data, Options{})
	var u *UnsupportedOpsError
	if !errors.As(err, &u) {
		t.Fatalf("error %v is not an UnsupportedOpsError", err)
	}
	got := fmt.Sprint(u.Ops)
	want := "[{NonMaxSuppression  2 a } {TopK  1 b } {FusedConv  1 d }]"
	if got != want {
		t.Fatalf("ops %s, want %s", got, want)
	}
	if !strings.Contains(err.Error(), `"NonMaxSuppression" (2 nodes, first "a")`) || !strings.Contains(err.Error(), "3 operators") {
		t.Errorf("message %q", err)
	}
}

// TestDynamicShapeError: a dynamic dimension after the batch is an error
// naming the input, the dimensions and the flag; a dynamic batch is 1.
func TestDynamicShapeError(t *testing.T) {
	m := &onnxModel{name: "ocr", inputs: []vinfo{img("image", "batch", 3, 48, "width")}, outputs: []vinfo{{name: "r"}}}
	m.add("r", "Relu", []string{"image"})
	_, err := ReadBytes(m.bytes(), Options{})
	var d *DynamicShapeError
	if !errors.As(err, &d) || d.Input != "image" || fmt.Sprint(d.Dims) != "[3]" || d.Flag != "--input image=1,3,48,WIDTH" {
		t.Fatalf("%+v: %v", d, err)
	}
	if !strings.Contains(err.Error(), "[batch,3,48,width]") || !strings.Contains(err.Error(), "dimension 3 (width)") {
		t.Errorf("message %q", err)
	}
	g, err := ReadBytes(m.bytes(), Options{Inputs: []InputSetting{{Name: "image", Shape: []int{2, 3, 48, 192}}}})
	if err != nil || g.Nodes[0].Out.String() != "[3,48,192]" {
		t.Fatalf("given: %v %v", err, g)
	}
	// Two dynamic inputs: one error names both.
	two := &onnxModel{name: "text", inputs: []vinfo{{name: "ids", dims: []any{"batch", "seq"}, elem: typeInt64}, {name: "mask", dims: []any{"batch", "seq"}, elem: typeInt64}}, outputs: []vinfo{{name: "s"}}}
	two.add("s", "Add", []string{"ids", "mask"})
	_, err = ReadBytes(two.bytes(), Options{})
	if !errors.As(err, &d) || d.Input != "ids" || len(d.More) != 1 || d.More[0].Input != "mask" || !strings.Contains(err.Error(), "--input ids=1,SEQ --input mask=1,SEQ") {
		t.Fatalf("two dynamic inputs: %v", err)
	}
	ins, err := Inputs(m.bytes())
	if err != nil || len(ins) != 1 || fmt.Sprint(ins[0].Shape) != "[-1 3 48 -1]" || !ins[0].Dynamic || ins[0].DType != "float" || fmt.Sprint(ins[0].DimNames) != "[batch   width]" {
		t.Fatalf("inputs %+v %v", ins, err)
	}
}

// TestConvTranspose: shape rule (pads, output_padding, output_shape,
// groups, 1-D), weights, MACs (each input pixel once through the matrix)
// and the vector adds of overlapping windows.
func TestConvTranspose(t *testing.T) {
	cases := []struct {
		name      string
		in        []any
		w         []int64
		attrs     []attr
		out       string
		weights   int64
		macs      int64
		vecOps    int64
		bias      bool
		outPadH   int
		padBottom int
	}{
		// (5-1)x2 - 2 + 3 + 1 = 10; 25 pixels x 16 taps x 4 channels = 1600 products on 400 outputs.
		{"k4 s2 p1", []any{"N", 8, 5, 5}, []int64{8, 4, 4, 4}, []attr{{"strides", i64s(2, 2)}, {"pads", i64s(1, 1, 1, 1)}}, "[4,10,10]", 512, 12800, 1200, true, 0, 1},
		// k2 s2: no overlap, no adds.
		{"k2 s2", []any{"N", 8, 5, 5}, []int64{8, 4, 2, 2}, []attr{{"strides", i64s(2, 2)}}, "[4,10,10]", 128, 3200, 0, false, 0, 0},
		// (5-1)x2 - 2 + 2 + 1 + 1 = 10, two groups of 4 -> 2 channels.
		{"output_padding groups", []any{"N", 8, 5, 5}, []int64{8, 2, 3, 3}, []attr{{"strides", i64s(2, 2)}, {"pads", i64s(1, 1, 1, 1)}, {"output_padding", i64s(1, 1)}, {"group", 2}}, "[4,10,10]", 144, 3600, 1 * (225 - 100) * 4, false, 1, 1},
		// output_shape 10 from 11: the larger half of the padding first.
		{"output_shape", []any{"N", 8, 5, 5}, []int64{8, 2, 3, 3}, []attr{{"strides", i64s(2, 2)}, {"output_shape", i64s(10, 10)}}, "[2,10,10]", 144, 3600, (225 - 100) * 2, false, 0, 0},
		// 1-D: 10 + 3 - 1 = 12.
		{"1-D", []any{"N", 4, 10}, []int64{4, 2, 3}, nil, "[2,12]", 24, 240, (30 - 12) * 2, false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &onnxModel{name: "up", inputs: []vinfo{img("x", c.in...)}, outputs: []vinfo{{name: "y"}}}
			in := []string{"x", m.init("w", typeFloat, encRaw, nil, c.w...)}
			if c.bias {
				in = append(in, m.init("b", typeFloat, encRaw, nil, c.w[1]))
			}
			m.add("y", "ConvTranspose", in, c.attrs...)
			g, err := ReadBytes(m.bytes(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			name := "y"
			if len(c.w) == 3 {
				name = "y" // the layer; its 1-D reshape is y/to1d
			}
			n, st := irNode(t, g, name)
			if n.Op != model.OpConvTranspose {
				t.Fatalf("%s is %s", name, n.Op)
			}
			if out := g.Nodes[len(g.Nodes)-1].Out.String(); out != c.out {
				t.Errorf("output %s, want %s", out, c.out)
			}
			if st.Weights != c.weights || st.MACs != c.macs || st.VecOps != c.vecOps || n.Conv.Bias != c.bias {
				t.Errorf("weights %d MACs %d vector ops %d bias %v; want %d %d %d %v", st.Weights, st.MACs, st.VecOps, n.Conv.Bias, c.weights, c.macs, c.vecOps, c.bias)
			}
			if n.Conv.OutPadH != c.outPadH || n.Conv.PadBottom != c.padBottom {
				t.Errorf("out pad %d, pad bottom %d; want %d, %d", n.Conv.OutPadH, n.Conv.PadBottom, c.outPadH, c.padBottom)
			}
		})
	}
	// Errors: a computed weight, an output_shape the kernel cannot reach.
	m := &onnxModel{name: "bad", inputs: []vinfo{img("x", "N", 8, 5, 5)}, outputs: []vinfo{{name: "y"}}}
	m.add("y", "ConvTranspose", []string{"x", m.init("w", typeFloat, encRaw, nil, 8, 2, 3, 3)}, attr{"output_shape", i64s(20, 20)})
	if _, err := ReadBytes(m.bytes(), Options{}); err == nil || !strings.Contains(err.Error(), "output_padding") {
		t.Errorf("unreachable output_shape: %v", err)
	}
}

// TestLRN: LRN across channels, size + 3 vector ops per element.
func TestLRN(t *testing.T) {
	m := &onnxModel{name: "lrn", inputs: []vinfo{img("x", "N", 16, 6, 6)}, outputs: []vinfo{{name: "y"}}}
	m.add("y", "LRN", []string{"x"}, attr{"size", 5}, attr{"alpha", 1e-4}, attr{"beta", 0.75})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, st := irNode(t, g, "y")
	if n.Op != model.OpLRN || n.Size != 5 || st.VecOps != 16*36*8 {
		t.Fatalf("%s size %d, %d vector ops", n.Op, n.Size, st.VecOps)
	}
	m = &onnxModel{name: "lrn", inputs: []vinfo{img("x", "N", 16, 6, 6)}, outputs: []vinfo{{name: "y"}}}
	m.add("y", "LRN", []string{"x"})
	if _, err := ReadBytes(m.bytes(), Options{}); err == nil || !strings.Contains(err.Error(), "size") {
		t.Fatalf("LRN without size: %v", err)
	}
}

// TestQuantized: a dynamically quantized ConvInteger, a QLinearConv, a
// QDQ-format Conv (DequantizeLinear of an int8 weight) and a
// MatMulInteger: the integer weights are the crossbar layers, the
// quantization steps vector work.
func TestQuantized(t *testing.T) {
	m := quantModel()
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, i := range g.CrossbarLayers() {
		layers = append(layers, fmt.Sprintf("%s:%s:%d", g.Nodes[i].Name, g.Nodes[i].Op, g.NodeStats(i).Weights))
	}
	if got := strings.Join(layers, " "); got != "ci:Conv:216 qc:Conv:32 c3:Conv:16 fc:Linear:40" {
		t.Fatalf("layers %s", got)
	}
	for name, mode := range map[string]string{"dq": "dynamic_quantize", "q1": "quantize", "qc/requantize": "quantize", "d2": "dequantize"} {
		if n, _ := irNode(t, g, name); n.Op != model.OpElementwise || n.Mode != mode {
			t.Errorf("%s: %s %q, want Elementwise %q", name, n.Op, n.Mode, mode)
		}
	}
	if n, _ := irNode(t, g, "qc"); !n.Conv.Bias {
		t.Error("QLinearConv's bias is lost")
	}
	if n, st := irNode(t, g, "dq"); st.VecOps != 5*3*64 || n.Out.String() != "[3,8,8]" {
		t.Errorf("dynamic quantize: %v, %d vector ops", n.Out, st.VecOps)
	}
}

// TestEmbedding: Gather of a constant table by computed indices is an
// Embedding lookup (not a crossbar layer): the table's elements are
// parameters, one vector op per output element.
func TestEmbedding(t *testing.T) {
	m := &onnxModel{name: "text", inputs: []vinfo{{name: "ids", dims: []any{"N", 7}, elem: typeInt64}}, outputs: []vinfo{{name: "fc"}}}
	m.add("emb", "Gather", []string{m.init("table", typeFloat, encRaw, nil, 100, 16), "ids"})
	m.add("fc", "MatMul", []string{"emb", m.init("w", typeFloat, encRaw, nil, 16, 4)})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, st := irNode(t, g, "emb")
	if n.Op != model.OpEmbedding || n.Table.String() != "[100,16]" || n.Out.String() != "[7,16]" || st.Params != 1600 || st.VecOps != 112 || st.Weights != 0 {
		t.Fatalf("%s table %v out %v %+v", n.Op, n.Table, n.Out, st)
	}
	if len(g.CrossbarLayers()) != 1 {
		t.Fatalf("%d crossbar layers", len(g.CrossbarLayers()))
	}
	// A table that is not a matrix, or gathered on axis 1, is an error.
	m = &onnxModel{name: "text", inputs: []vinfo{{name: "ids", dims: []any{"N", 7}, elem: typeInt64}}, outputs: []vinfo{{name: "emb"}}}
	m.add("emb", "Gather", []string{m.init("table", typeFloat, encRaw, nil, 100, 16), "ids"}, attr{"axis", 1})
	if _, err := ReadBytes(m.bytes(), Options{}); err == nil || !strings.Contains(err.Error(), "axis 0") {
		t.Fatalf("axis 1: %v", err)
	}
}

// TestClipByTensor: a Clip whose floor is computed from the input (the
// log-mel spectrogram's max - 80 dB) is an element-wise max, and a
// reduction over every axis at batch 1 includes the batch harmlessly.
func TestClipByTensor(t *testing.T) {
	m := &onnxModel{name: "mel", inputs: []vinfo{img("x", "N", 1, 5, 32)}, outputs: []vinfo{{name: "y"}}}
	m.add("mx", "ReduceMax", []string{"x"}, attr{"keepdims", 1})
	m.add("floor", "Sub", []string{"mx", scalar(m, "db", 80)})
	m.add("y", "Clip", []string{"x", "floor"})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, st := irNode(t, g, "y")
	if n.Op != model.OpElementwise || n.Mode != "max" || n.Out.String() != "[1,5,32]" || st.VecOps != 160 {
		t.Fatalf("%s %q %v %d", n.Op, n.Mode, n.Out, st.VecOps)
	}
	if n, _ := irNode(t, g, "mx"); n.Op != model.OpReduce || fmt.Sprint(n.Axes) != "[0 1 2]" || n.Out.String() != "[1,1,1]" {
		t.Fatalf("reduce %s axes %v out %v", n.Op, n.Axes, n.Out)
	}
	// At batch 2 the same reduction crosses inferences: an error.
	if _, err := ReadBytes(m.bytes(), Options{InputShape: []int{2, 1, 5, 32}}); err == nil || !strings.Contains(err.Error(), "batch") {
		t.Fatalf("batch 2: %v", err)
	}
}

// TestBatchAxisOfInputs: a recurrent state [directions, batch, hidden]
// has its batch on axis 1 (the one dynamic axis after a fixed first axis
// above 1, or a dimension named like a batch); an image's batch is axis 0.
func TestBatchAxisOfInputs(t *testing.T) {
	d := func(v ...any) []dim {
		var out []dim
		for _, x := range v {
			switch x := x.(type) {
			case int:
				out = append(out, dim{value: int64(x), known: true})
			case string:
				out = append(out, dim{param: x})
			}
		}
		return out
	}
	for _, c := range []struct {
		dims []dim
		want int
	}{
		{d(2, "?", 128), 1}, {d(2, -1, 64), 1}, {d(2, "batch", 64), 1}, {d("N", 3, "H", "W"), 0}, {d(1, 3, "H", "W"), 0},
		{d(1, "samples"), 0}, {d(2, "T", "batch_size"), 2}, {d(), -1}, {d(4, 3, "H", "W"), 0},
	} {
		if got := batchAxis(c.dims); got != c.want {
			t.Errorf("%+v: batch axis %d, want %d", c.dims, got, c.want)
		}
	}
	// The state's declared batch needs no size; the flag shows 1 there.
	m := &onnxModel{name: "vad", inputs: []vinfo{img("x", "N", 8), {name: "state", dims: []any{2, "?", 16}}}, outputs: []vinfo{{name: "y"}, {name: "s"}}}
	m.add("y", "Relu", []string{"x"})
	m.add("s", "Tanh", []string{"state"})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := irNode(t, g, "state"); n.Out.String() != "[2,16]" {
		t.Fatalf("state %v", n.Out)
	}
}

// quantModel: a dynamically quantized ConvInteger, a QLinearConv, a
// QDQ-format Conv and a MatMulInteger (TestQuantized).
func quantModel() *onnxModel {
	m := &onnxModel{name: "q", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "fc"}}}
	const i8, u8, i32 = 3, 2, 6
	m.nodes = append(m.nodes, node{name: "dq", op: "DynamicQuantizeLinear", in: []string{"x"}, out: []string{"xq", "xs", "xz"}})
	m.add("ci", "ConvInteger", []string{"xq", m.init("w1", i8, encRaw, nil, 8, 3, 3, 3), "xz"})
	m.add("cf", "Cast", []string{"ci"}, attr{"to", int64(typeFloat)})
	m.add("sc", "Mul", []string{"xs", scalar(m, "ws", 0.1)})
	m.add("y1", "Mul", []string{"cf", "sc"})
	m.add("q1", "QuantizeLinear", []string{"y1", scalar(m, "s1", 0.1), m.init("z1", u8, encRaw, []float64{0}, 1)})
	m.add("qc", "QLinearConv", []string{"q1", "s1", "z1", m.init("w2", i8, encRaw, nil, 4, 8, 1, 1), "ws", m.init("wz", i8, encRaw, []float64{0}, 1), "s1", "z1", m.init("b2", i32, encRaw, nil, 4)})
	m.add("d2", "DequantizeLinear", []string{"qc", "s1", "z1"})
	m.add("w3", "DequantizeLinear", []string{m.init("w3q", i8, encRaw, nil, 4, 4, 1, 1), "ws"})
	m.add("c3", "Conv", []string{"d2", "w3"})
	m.add("gap", "GlobalAveragePool", []string{"c3"})
	m.add("flat", "Flatten", []string{"gap"})
	m.nodes = append(m.nodes, node{name: "dq2", op: "DynamicQuantizeLinear", in: []string{"flat"}, out: []string{"fq", "fs", "fz"}})
	m.add("fc", "MatMulInteger", []string{"fq", m.init("w4", i8, encRaw, nil, 4, 10), "fz"})
	return m
}

// vectorModel: ConvTranspose, LRN, written-out LayerNorm steps, n-ary
// Sum, Where on a comparison, a tensor-bounded Clip, and a constant If
// (fuzz seed).
func vectorModel() *onnxModel {
	m := &onnxModel{name: "vec", inputs: []vinfo{img("x", "N", 8, 5, 5)}, outputs: []vinfo{{name: "out"}}}
	m.add("up", "ConvTranspose", []string{"x", m.init("w", typeFloat, encRaw, nil, 8, 4, 4, 4)}, attr{"strides", i64s(2, 2)}, attr{"pads", i64s(1, 1, 1, 1)})
	m.add("lrn", "LRN", []string{"up"}, attr{"size", 3})
	m.add("p", "Pow", []string{"lrn", scalar(m, "two", 2)})
	m.add("s", "Sqrt", []string{"p"})
	m.add("sum", "Sum", []string{"s", "lrn", "p"})
	m.add("gt", "Greater", []string{"sum", scalar(m, "zero", 0)})
	m.add("wh", "Where", []string{"gt", "sum", "zero"})
	m.add("mx", "ReduceMax", []string{"wh"}, attr{"keepdims", 1})
	m.add("cl", "Clip", []string{"wh", "mx"})
	then := &subgraph{outputs: []vinfo{{name: "t"}}, nodes: []node{{name: "t", op: "Erf", in: []string{"cl"}, out: []string{"t"}}}}
	els := &subgraph{outputs: []vinfo{{name: "e"}}, nodes: []node{{name: "e", op: "Neg", in: []string{"cl"}, out: []string{"e"}}}}
	m.nodes = append(m.nodes, node{name: "out", op: "If", in: []string{m.init("yes", typeBool, encRaw, []float64{1})}, out: []string{"out"}, attrs: []attr{{"then_branch", then}, {"else_branch", els}}})
	return m
}

// embeddingModel: a token embedding and a linear layer (fuzz seed).
func embeddingModel() *onnxModel {
	m := &onnxModel{name: "text", inputs: []vinfo{{name: "ids", dims: []any{"N", 7}, elem: typeInt64}}, outputs: []vinfo{{name: "fc"}}}
	m.add("emb", "Gather", []string{m.init("table", typeFloat, encRaw, nil, 100, 16), "ids"})
	m.add("fc", "MatMul", []string{"emb", m.init("w", typeFloat, encRaw, nil, 16, 4)})
	return m
}

// TestSeedModels: the fuzz seeds of the new operators import.
func TestSeedModels(t *testing.T) {
	for _, m := range []*onnxModel{quantModel(), vectorModel(), embeddingModel()} {
		g, err := ReadBytes(m.bytes(), Options{})
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if len(g.CrossbarLayers()) == 0 {
			t.Fatalf("%s: no crossbar layer", m.name)
		}
	}
	g, _ := ReadBytes(vectorModel().bytes(), Options{})
	if n, _ := irNode(t, g, "t"); n.Mode != "erf" || n.Out.String() != "[4,10,10]" {
		t.Fatalf("the constant If did not take its then branch: %s %q %v", n.Op, n.Mode, n.Out)
	}
}

// TestExpandOnActivation: an attention mask [N,1,1,T] expanded to
// [N,1,T,T] is an Elementwise expand, one copy per output element.
func TestExpandOnActivation(t *testing.T) {
	m := &onnxModel{name: "mask", inputs: []vinfo{{name: "mask", dims: []any{"N", 1, 1, 6}, elem: typeInt64}}, outputs: []vinfo{{name: "e"}}}
	m.add("e", "Expand", []string{"mask", m.init("to", typeInt64, encRaw, f64s(1, 1, 6, 6), 4)})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, st := irNode(t, g, "e")
	if n.Op != model.OpElementwise || n.Mode != "expand" || n.Out.String() != "[1,6,6]" || st.VecOps != 36 {
		t.Fatalf("%s %q %v %d", n.Op, n.Mode, n.Out, st.VecOps)
	}
}

// TestTinyBERT: a BERT-style text classifier (token and position
// embeddings, an attention mask input, one attention head written out
// with MatMuls, Softmax and a written-out LayerNorm, a classifier on the
// first token) imports; its crossbar layers are the four projections and
// the classifier, its embedding tables lookups.
func TestTinyBERT(t *testing.T) {
	const T, D = 6, 8
	m := &onnxModel{name: "bert", inputs: []vinfo{{name: "ids", dims: []any{"batch", T}, elem: typeInt64}, {name: "mask", dims: []any{"batch", T}, elem: typeInt64}}, outputs: []vinfo{{name: "logits"}}}
	w := func(name string, dims ...int64) string { return m.init(name, typeFloat, encRaw, nil, dims...) }
	m.add("tok", "Gather", []string{w("tok_table", 50, D), "ids"})
	m.add("emb", "Add", []string{"tok", w("pos", T, D)})
	m.add("mu", "ReduceMean", []string{"emb"}, attr{"axes", i64s(-1)})
	m.add("dev", "Sub", []string{"emb", "mu"})
	m.add("sq", "Pow", []string{"dev", scalar(m, "two", 2)})
	m.add("var", "ReduceMean", []string{"sq"}, attr{"axes", i64s(-1)})
	m.add("std", "Sqrt", []string{"var"})
	m.add("h", "Div", []string{"dev", "std"})
	m.add("q", "MatMul", []string{"h", w("wq", D, D)})
	m.add("k", "MatMul", []string{"h", w("wk", D, D)})
	m.add("v", "MatMul", []string{"h", w("wv", D, D)})
	m.add("kt", "Transpose", []string{"k"}, attr{"perm", i64s(0, 2, 1)})
	m.add("scores", "MatMul", []string{"q", "kt"})
	m.add("m1", "Unsqueeze", []string{"mask"}, attr{"axes", i64s(1)})
	m.add("mf", "Cast", []string{"m1"}, attr{"to", int64(typeFloat)})
	m.add("inv", "Sub", []string{scalar(m, "one", 1), "mf"})
	m.add("bias", "Mul", []string{"inv", scalar(m, "neg", -10000)})
	m.add("masked", "Add", []string{"scores", "bias"})
	m.add("p", "Softmax", []string{"masked"}, attr{"axis", -1})
	m.add("ctx", "MatMul", []string{"p", "v"})
	m.add("o", "MatMul", []string{"ctx", w("wo", D, D)})
	m.add("cls", "Gather", []string{"o", m.init("zero", typeInt64, encRaw, f64s(0))}, attr{"axis", 1})
	m.add("logits", "Gemm", []string{"cls", w("wc", 2, D), w("bc", 2)}, attr{"transB", 1})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, i := range g.CrossbarLayers() {
		layers = append(layers, g.Nodes[i].Name)
	}
	if got := strings.Join(layers, " "); got != "q k v o logits" {
		t.Fatalf("crossbar layers %s", got)
	}
	n, st := irNode(t, g, "tok")
	if n.Op != model.OpEmbedding || n.Out.String() != "[6,8]" || st.Params != 400 {
		t.Fatalf("embedding %s %v %+v", n.Op, n.Out, st)
	}
	if tot := g.Totals(); tot.Weights != 4*D*D+2*D {
		t.Fatalf("weights %d", tot.Weights)
	}
}

// TestMovementOps: Tile as Concats of copies, DepthToSpace (DCR, CRD) and
// SpaceToDepth as Reshape/Transpose/Reshape, ArgMax as a max Reduce; a
// constant Tile keeps its values, an operator the folder does not
// evaluate leaves them unknown (never zeros).
func TestMovementOps(t *testing.T) {
	m := &onnxModel{name: "mv", inputs: []vinfo{img("x", "N", 8, 4, 6)}, outputs: []vinfo{{name: "tile"}, {name: "d2s"}, {name: "crd"}, {name: "s2d"}, {name: "am"}, {name: "r"}}}
	m.add("tile", "Tile", []string{"x", m.init("reps", typeInt64, encRaw, f64s(1, 1, 2, 3), 4)})
	m.add("d2s", "DepthToSpace", []string{"x"}, attr{"blocksize", 2})
	m.add("crd", "DepthToSpace", []string{"x"}, attr{"blocksize", 2}, attr{"mode", "CRD"})
	m.add("s2d", "SpaceToDepth", []string{"x"}, attr{"blocksize", 2})
	m.add("am", "ArgMax", []string{"x"}, attr{"axis", 1}, attr{"keepdims", 0})
	// Tile of [2] by 2 = [a b a b] as a Reshape target's last two entries.
	m.add("t2", "Tile", []string{m.init("hw", typeInt64, encRaw, f64s(4, 6), 2), m.init("two", typeInt64, encRaw, f64s(2), 1)})
	m.add("tgt", "Slice", []string{"t2", m.init("s0", typeInt64, encRaw, f64s(1), 1), m.init("s1", typeInt64, encRaw, f64s(3), 1)}) // [6 4]
	m.add("full", "Concat", []string{m.init("n8", typeInt64, encRaw, f64s(1, 8), 2), "tgt"}, attr{"axis", 0})
	m.add("r", "Reshape", []string{"x", "full"})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"tile": "[8,8,18]", "d2s": "[2,8,12]", "crd": "[2,8,12]", "s2d": "[32,2,3]", "am": "[4,6]", "r": "[8,6,4]"} {
		if n, _ := irNode(t, g, name); n.Out.String() != want {
			t.Errorf("%s: %s %v, want %s", name, n.Op, n.Out, want)
		}
	}
	if n, _ := irNode(t, g, "d2s/perm"); fmt.Sprint(n.Perm) != "[2 3 0 4 1]" {
		t.Errorf("DCR perm %v", n.Perm)
	}
	if n, _ := irNode(t, g, "crd/perm"); fmt.Sprint(n.Perm) != "[0 3 1 4 2]" {
		t.Errorf("CRD perm %v", n.Perm)
	}
	if n, st := irNode(t, g, "am"); n.Op != model.OpReduce || n.Mode != "max" || st.VecOps != 192 {
		t.Errorf("argmax %s %q %d", n.Op, n.Mode, st.VecOps)
	}
	if n, _ := irNode(t, g, "tile/tile2"); n.Op != model.OpConcat || len(n.Inputs) != 2 {
		t.Errorf("tile on H: %s %v", n.Op, n.Inputs)
	}
	if foldUnary("Softplus", &values{f: []float64{1}}) != nil || foldBinary("PRelu", &values{f: []float64{1}}, &values{f: []float64{1}}, []int{1}, []int{1}, []int{1}) != nil {
		t.Error("an operator the folder does not evaluate gave values")
	}
}

// TestInstanceNormAndReductions: InstanceNormalization written out (two
// spatial means, centring, square, root, divide, a per-channel affine of
// 2 x C parameters) and the L1/L2/LogSumExp/Prod/SumSquare reductions as
// sums, one op per input element.
func TestInstanceNormAndReductions(t *testing.T) {
	m := &onnxModel{name: "in", inputs: []vinfo{img("x", "N", 4, 3, 5)}, outputs: []vinfo{{name: "y"}, {name: "l2"}, {name: "lse"}}}
	m.add("y", "InstanceNormalization", []string{"x", m.init("s", typeFloat, encRaw, nil, 4), m.init("b", typeFloat, encRaw, nil, 4)})
	m.add("l2", "ReduceL2", []string{"x"}, attr{"axes", i64s(1)}, attr{"keepdims", 0})
	m.add("lse", "ReduceLogSumExp", []string{"x"}, attr{"axes", i64s(-1)})
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vec, params int64
	for _, name := range []string{"y/mean", "y/center", "y/square", "y/var", "y/std", "y/norm", "y"} {
		_, st := irNode(t, g, name)
		vec += st.VecOps
		params += st.Params
	}
	// 60 elements, 4 channels: mean 60+4, centre 60, square 60, var 60+4,
	// sqrt 4, divide 60, scale and shift 120.
	if vec != 64+60+60+64+4+60+120 || params != 8 {
		t.Fatalf("instance norm: %d vector ops, %d params", vec, params)
	}
	if n, _ := irNode(t, g, "y/mean"); fmt.Sprint(n.Axes) != "[1 2]" || n.Out.String() != "[4,1,1]" {
		t.Fatalf("mean over %v: %v", n.Axes, n.Out)
	}
	if n, st := irNode(t, g, "l2"); n.Op != model.OpReduce || n.Mode != "sum" || n.Out.String() != "[3,5]" || st.VecOps != 60 {
		t.Fatalf("ReduceL2: %s %q %v %d", n.Op, n.Mode, n.Out, st.VecOps)
	}
	if n, _ := irNode(t, g, "lse"); n.Mode != "sum" || n.Out.String() != "[4,3,1]" {
		t.Fatalf("ReduceLogSumExp: %q %v", n.Mode, n.Out)
	}
}
