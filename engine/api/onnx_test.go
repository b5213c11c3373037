package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/compass-go/compass/engine/model"
)

// tinyONNX builds, with protowire, a model with input x [N,3,H,W] (N, H,
// W dynamic): Conv(3->4, 3x3, pad 1) -> Relu -> GlobalAveragePool ->
// Flatten -> Gemm(4->10, transB, bias).
func tinyONNX() []byte { return tinyONNXWith(false) }

// tinyONNXWith builds tinyONNX; quantized, the Conv's weight is an int8
// initializer dequantized by a DequantizeLinear (QDQ form).
func tinyONNXWith(quantized bool) []byte {
	msg := func(b []byte, num protowire.Number, f func([]byte) []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), f(nil))
	}
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	vi := func(b []byte, num protowire.Number, name string, dims ...any) []byte {
		return msg(b, num, func(v []byte) []byte {
			v = str(v, 1, name)
			return msg(v, 2, func(t []byte) []byte {
				return msg(t, 1, func(tt []byte) []byte {
					tt = protowire.AppendVarint(protowire.AppendTag(tt, 1, protowire.VarintType), 1)
					return msg(tt, 2, func(s []byte) []byte {
						for _, d := range dims {
							s = msg(s, 1, func(dm []byte) []byte {
								if n, ok := d.(int); ok {
									return protowire.AppendVarint(protowire.AppendTag(dm, 1, protowire.VarintType), uint64(n))
								}
								return str(dm, 2, d.(string))
							})
						}
						return s
					})
				})
			})
		})
	}
	const float, int8 = 1, 3 // TensorProto data types
	typed := func(b []byte, name string, dtype uint64, dims ...uint64) []byte {
		return msg(b, 5, func(t []byte) []byte {
			n := uint64(1)
			for _, d := range dims {
				t = protowire.AppendVarint(protowire.AppendTag(t, 1, protowire.VarintType), d)
				n *= d
			}
			t = protowire.AppendVarint(protowire.AppendTag(t, 2, protowire.VarintType), dtype)
			t = str(t, 8, name)
			if dtype == float {
				n *= 4
			}
			return protowire.AppendBytes(protowire.AppendTag(t, 9, protowire.BytesType), make([]byte, n))
		})
	}
	init := func(b []byte, name string, dims ...uint64) []byte { return typed(b, name, float, dims...) }
	node := func(b []byte, name, op string, in []string, attrs ...[]byte) []byte {
		return msg(b, 1, func(n []byte) []byte {
			for _, s := range in {
				n = str(n, 1, s)
			}
			n = str(n, 2, name)
			n = str(n, 3, name)
			n = str(n, 4, op)
			for _, a := range attrs {
				n = protowire.AppendBytes(protowire.AppendTag(n, 5, protowire.BytesType), a)
			}
			return n
		})
	}
	ints := func(name string, v ...uint64) []byte {
		a := str(nil, 1, name)
		var p []byte
		for _, x := range v {
			p = protowire.AppendVarint(p, x)
		}
		a = protowire.AppendBytes(protowire.AppendTag(a, 8, protowire.BytesType), p)
		return protowire.AppendVarint(protowire.AppendTag(a, 20, protowire.VarintType), 7)
	}
	one := func(name string, v uint64) []byte {
		a := str(nil, 1, name)
		a = protowire.AppendVarint(protowire.AppendTag(a, 3, protowire.VarintType), v)
		return protowire.AppendVarint(protowire.AppendTag(a, 20, protowire.VarintType), 2)
	}
	var m []byte
	m = protowire.AppendVarint(protowire.AppendTag(m, 1, protowire.VarintType), 8)
	m = msg(m, 8, func(o []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(o, 2, protowire.VarintType), 13)
	})
	return msg(m, 7, func(g []byte) []byte {
		if quantized {
			g = node(g, "conv.w", "DequantizeLinear", []string{"conv.wq", "conv.s"})
		}
		g = node(g, "conv", "Conv", []string{"x", "conv.w"}, ints("pads", 1, 1, 1, 1))
		g = node(g, "relu", "Relu", []string{"conv"})
		g = node(g, "gap", "GlobalAveragePool", []string{"relu"})
		g = node(g, "flat", "Flatten", []string{"gap"}, one("axis", 1))
		g = node(g, "fc", "Gemm", []string{"flat", "fc.w", "fc.b"}, one("transB", 1))
		g = str(g, 2, "tiny")
		if quantized {
			g = typed(g, "conv.wq", int8, 4, 3, 3, 3)
			g = init(g, "conv.s")
		} else {
			g = init(g, "conv.w", 4, 3, 3, 3)
		}
		g = init(g, "fc.w", 10, 4)
		g = init(g, "fc.b", 10)
		g = vi(g, 11, "x", "N", 3, "H", "W")
		return vi(g, 12, "fc", "N", 10)
	})
}

func TestLoadONNX(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.onnx")
	if err := os.WriteFile(path, tinyONNX(), 0o644); err != nil {
		t.Fatal(err)
	}
	// H and W are dynamic: an error that names them and the flag to set.
	_, err := LoadModel(path)
	var dyn *DynamicShapeError
	var inErr *InputError
	if !errors.As(err, &dyn) || !errors.As(err, &inErr) || inErr.Field != "model" {
		t.Fatalf("dynamic H, W: %v", err)
	}
	if fmt.Sprint(dyn.Dims) != "[2 3]" || fmt.Sprint(dyn.Declared) != "[-1 3 -1 -1]" || dyn.Flag != "--input x=1,3,H,W" || !strings.Contains(err.Error(), "[N,3,H,W]") {
		t.Fatalf("dynamic H, W: %+v: %v", dyn, err)
	}
	g, err := LoadModelWith(path, ModelOptions{InputShape: []int{1, 3, 32, 32}})
	if err != nil {
		t.Fatal(err)
	}
	if tot := g.Totals(); tot.MACs != 4*3*9*32*32+40 || g.Nodes[0].Out.String() != "[3,32,32]" {
		t.Fatalf("32x32: totals %+v, input %v", tot, g.Nodes[0].Out)
	}
	// In memory, as the page reads a picked file.
	g2, err := LoadModelBytesWith("models/tiny.onnx", tinyONNX(), ModelOptions{InputShape: []int{1, 3, 32, 32}})
	if err != nil {
		t.Fatal(err)
	}
	if g2.Totals() != g.Totals() || g2.Name != "tiny" {
		t.Fatalf("bytes: %+v %q", g2.Totals(), g2.Name)
	}
	// The whole pipeline takes it.
	res, err := Compile(context.Background(), CompileRequest{Graph: g, Chip: "M", Batch: 2, Methods: []string{MethodGreedy, MethodOptimal}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 2 || res.Model != "tiny" {
		t.Fatalf("compile: %+v", res)
	}
	ins, err := InspectModel(InspectRequest{Graph: g, Chip: "S"})
	if err != nil || len(ins.Layers) != 2 || ins.Layers[1].Name != "fc" {
		t.Fatalf("inspect: %v %+v", err, ins)
	}
}

func TestLoadModelBytesJSONAndErrors(t *testing.T) {
	js := []byte(`{"name":"j","nodes":[{"name":"x","op":"Input","shape":[4]},{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":2}}]}`)
	for _, name := range []string{"net.json", "upload"} {
		g, err := LoadModelBytes(name, js)
		if err != nil || g.Name != "j" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := LoadModelBytesWith("net.json", js, ModelOptions{InputShape: []int{1, 4}}); err == nil {
		t.Error("an input shape for a JSON graph was accepted")
	}
	if _, err := LoadModelWith("resnet18", ModelOptions{InputShape: []int{1, 3, 224, 224}}); err == nil || !strings.Contains(err.Error(), "ONNX models only") {
		t.Errorf("input shape for a zoo network: %v", err)
	}
	if _, err := LoadModelBytes("x.onnx", []byte("not a model")); err == nil || !strings.HasPrefix(err.Error(), "model: onnx: ") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := LoadModel("/nonexistent/x.onnx"); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestParseInputShape(t *testing.T) {
	for in, want := range map[string]string{"1,3,224,224": "[1 3 224 224]", " 1x3x32x32 ": "[1 3 32 32]", "": "[]"} {
		got, err := ParseInputShape(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%q: %v, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"1,3,-1", "a,b", "1,,0"} {
		if _, err := ParseInputShape(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestInputsByName: ModelInputs lists the declared inputs; settings by
// name give the shape (the same graph as --input-shape), and a wrong name
// or a JSON graph is an input error on "model".
func TestInputsByName(t *testing.T) {
	ins, err := ModelInputs("tiny.onnx", tinyONNX())
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Name != "x" || fmt.Sprint(ins[0].Shape) != "[-1 3 -1 -1]" || fmt.Sprint(ins[0].DimNames) != "[N  H W]" || !ins[0].Dynamic || ins[0].DType != "float" {
		t.Fatalf("inputs %+v", ins)
	}
	byShape, err := LoadModelBytesWith("tiny.onnx", tinyONNX(), ModelOptions{InputShape: []int{1, 3, 20, 24}})
	if err != nil {
		t.Fatal(err)
	}
	byName, err := LoadModelBytesWith("tiny.onnx", tinyONNX(), ModelOptions{Inputs: []InputSetting{{Name: "x", Shape: []int{1, 3, 20, 24}}}})
	if err != nil {
		t.Fatal(err)
	}
	if byName.Totals() != byShape.Totals() || byName.Nodes[0].Out.String() != "[3,20,24]" {
		t.Fatalf("by name %+v %v, by shape %+v", byName.Totals(), byName.Nodes[0].Out, byShape.Totals())
	}
	_, err = LoadModelBytesWith("tiny.onnx", tinyONNX(), ModelOptions{Inputs: []InputSetting{{Name: "y", Shape: []int{1, 3, 2, 2}}}})
	var inErr *InputError
	if !errors.As(err, &inErr) || inErr.Field != "model" || !strings.Contains(err.Error(), `"y" is not a graph input`) || !strings.Contains(err.Error(), "inputs are x") {
		t.Fatalf("unknown input: %v", err)
	}
	js := []byte(`{"name":"j","nodes":[{"name":"x","op":"Input","shape":[4]},{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":2}}]}`)
	jins, err := ModelInputs("net.json", js)
	if err != nil || len(jins) != 1 || jins[0].Name != "x" || fmt.Sprint(jins[0].Shape) != "[1 4]" || jins[0].Dynamic {
		t.Fatalf("JSON inputs %+v %v", jins, err)
	}
	if _, err := LoadModelBytesWith("net.json", js, ModelOptions{Inputs: []InputSetting{{Name: "x", Shape: []int{1, 4}}}}); !errors.As(err, &inErr) {
		t.Fatalf("settings for a JSON graph: %v", err)
	}
}

func TestParseInputSetting(t *testing.T) {
	for in, want := range map[string]string{
		"x=1,3,48,192":       "{x [1 3 48 192] []}",
		"audio:0=1x16000":    "{audio:0 [1 16000] []}",
		"sr:value=16000":     "{sr [] [16000]}",
		"mode:value=1,-2, 3": "{mode [] [1 -2 3]}",
	} {
		got, err := ParseInputSetting(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if s := fmt.Sprintf("{%s %v %v}", got.Name, got.Shape, got.Value); s != want {
			t.Errorf("%q: %s, want %s", in, s, want)
		}
	}
	for _, bad := range []string{"x", "=1,2", "x=", "x=1,a", ":value=3", "sr:value=abc", "x=0,3"} {
		if _, err := ParseInputSetting(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	merged, err := MergeInputSettings([]InputSetting{{Name: "sr", Shape: []int{1}}, {Name: "x", Shape: []int{1, 2}}, {Name: "sr", Value: []int64{8000}}})
	if err != nil || len(merged) != 2 || fmt.Sprint(merged[0]) != "{sr [1] [8000]}" {
		t.Fatalf("merge %v %v", merged, err)
	}
	if _, err := MergeInputSettings([]InputSetting{{Name: "x", Shape: []int{1}}, {Name: "x", Shape: []int{2}}}); err == nil {
		t.Fatal("an input set twice was accepted")
	}
}

// TestQuantizedONNXInspect: a QDQ-format Conv (int8 weight) keeps 8-bit
// weights through the import, the graph JSON and ReadGraphJSON, and
// inspect shows its 8 columns a weight on chip M (4-bit weights, 1-bit
// cells) beside the float Gemm's 4; the same Conv in float takes 4.
func TestQuantizedONNXInspect(t *testing.T) {
	opt := ModelOptions{InputShape: []int{1, 3, 8, 8}}
	q, err := LoadModelBytesWith("q.onnx", tinyONNXWith(true), opt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := LoadModelBytesWith("f.onnx", tinyONNX(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if c, fc := q.Nodes[q.Index("conv")], q.Nodes[q.Index("fc")]; c.WeightBits != 8 || fc.WeightBits != 0 {
		t.Fatalf("imported weight_bits: conv %d, fc %d; want 8 and 0", c.WeightBits, fc.WeightBits)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, q); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `"weight_bits":8`); n != 1 || strings.Count(buf.String(), `"weight_bits"`) != 1 {
		t.Fatalf("graph JSON has %d weight_bits 8 keys: %s", n, buf.String())
	}
	back, err := ReadGraphJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		g          *model.Graph
		chip       string
		conv, gemm int // columns a weight
	}{
		{"quantized on M", q, "M", 8, 4},
		{"quantized, from JSON, on M", back, "M", 8, 4},
		{"float on M", f, "M", 4, 4},
		// 2-bit cells and 8-bit weights: int8 is the chip's width.
		{"quantized on ReRAM", q, "ReRAM", 4, 4},
	} {
		res, err := InspectModel(InspectRequest{Graph: c.g, Chip: c.chip})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(res.Layers) != 2 || res.Layers[0].ColsPerWeight != c.conv || res.Layers[1].ColsPerWeight != c.gemm {
			t.Errorf("%s: layers %+v, want %d and %d columns a weight", c.name, res.Layers, c.conv, c.gemm)
		}
	}
	// Twice the columns, twice the cells: the conv's utilisation (27 rows
	// x 4 outputs x columns a weight over one 256x256 crossbar) doubles.
	rq, err := InspectModel(InspectRequest{Graph: q, Chip: "M"})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := InspectModel(InspectRequest{Graph: f, Chip: "M"})
	if err != nil {
		t.Fatal(err)
	}
	if uq, uf := rq.Layers[0].Utilisation, rf.Layers[0].Utilisation; uq != 27*4*8/65536.0 || uf != 27*4*4/65536.0 {
		t.Errorf("conv utilisation %v quantized, %v float; want %v and %v", uq, uf, 27*4*8/65536.0, 27*4*4/65536.0)
	}
}

// TestInputSettingEmptyDimension: an empty dimension ("1,,3", a trailing
// comma) is refused naming the input, not dropped, so x=1,,3 never reads
// as the shape [1 3].
func TestInputSettingEmptyDimension(t *testing.T) {
	for _, bad := range []string{"x=1,,3", "x=1,3,", "x=,1,3", "x=1x,3"} {
		s, err := ParseInputSetting(bad)
		if err == nil {
			t.Errorf("%q accepted as %v", bad, s.Shape)
			continue
		}
		if !strings.Contains(err.Error(), "--input x:") || !strings.Contains(err.Error(), "empty dimension") {
			t.Errorf("%q: error %q does not name the input and the empty dimension", bad, err)
		}
	}
	if _, err := ParseInputShape("1,3,99999999999999"); err == nil || !strings.Contains(err.Error(), "must be from 1 to 1099511627776") {
		t.Errorf("a dimension above the cap: %v", err)
	}
}

// TestInputShapeConflict: the HTTP API's input_shape and a differing
// shape in inputs for the same (first) input are refused, naming both;
// the same shape given both ways reads as either alone.
func TestInputShapeConflict(t *testing.T) {
	_, err := LoadModelBytesWith("tiny.onnx", tinyONNX(), ModelOptions{
		InputShape: []int{1, 3, 48, 999},
		Inputs:     []InputSetting{{Name: "x", Shape: []int{1, 3, 48, 192}}},
	})
	var inErr *InputError
	if !errors.As(err, &inErr) || inErr.Field != "model" {
		t.Fatalf("two shapes for x: %v", err)
	}
	for _, w := range []string{`"x"`, "[1 3 48 999]", "[1 3 48 192]", "input_shape", "inputs"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	both, err := LoadModelBytesWith("tiny.onnx", tinyONNX(), ModelOptions{
		InputShape: []int{1, 3, 20, 24},
		Inputs:     []InputSetting{{Name: "x", Shape: []int{1, 3, 20, 24}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if both.Nodes[0].Out.String() != "[3,20,24]" {
		t.Fatalf("the same shape given twice: %v", both.Nodes[0].Out)
	}
}
