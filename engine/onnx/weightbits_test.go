package onnx

import (
	"fmt"
	"strings"
	"testing"
)

// ONNX TensorProto data types the quantized weights come in.
const (
	tUint8  = 2
	tInt8   = 3
	tUint16 = 4
	tInt16  = 5
	tInt32  = 6
	tUint4  = 21
	tInt4   = 22
	tFP8    = 17 // float8e4m3fn
)

// TestQuantizedWeightBits: every quantized form of a crossbar layer's
// weight gives the layer the bit width of the weight's integer type, and
// a float weight (or an int32 one, wider than a crossbar weight may be)
// gives none, so the chip's weight_bits applies.
func TestQuantizedWeightBits(t *testing.T) {
	img4 := func() *onnxModel {
		return &onnxModel{name: "q", opset: 21, inputs: []vinfo{img("x", "N", 4, 6, 6)}, outputs: []vinfo{{name: "y"}}}
	}
	vec12 := func() *onnxModel {
		return &onnxModel{name: "q", opset: 21, inputs: []vinfo{img("x", "N", 12)}, outputs: []vinfo{{name: "y"}}}
	}
	// dq adds DequantizeLinear of an integer initializer of type dt and
	// the given dims, and returns the dequantized value's name.
	dq := func(m *onnxModel, dt int32, dims ...int64) string {
		return m.add("wd", "DequantizeLinear", []string{m.init("wq", dt, encRaw, nil, dims...), scalar(m, "ws", 0.05)})
	}
	cases := []struct {
		name  string
		model func() *onnxModel
		layer string
		bits  int
	}{
		{"ConvInteger int8", func() *onnxModel {
			m := img4()
			m.add("y", "ConvInteger", []string{"x", m.init("w", tInt8, encRaw, nil, 8, 4, 3, 3)})
			return m
		}, "y", 8},
		{"ConvInteger uint8", func() *onnxModel {
			m := img4()
			m.add("y", "ConvInteger", []string{"x", m.init("w", tUint8, encRaw, nil, 8, 4, 3, 3)})
			return m
		}, "y", 8},
		{"MatMulInteger int8", func() *onnxModel {
			m := vec12()
			m.add("y", "MatMulInteger", []string{"x", m.init("w", tInt8, encRaw, nil, 12, 5)})
			return m
		}, "y", 8},
		{"MatMulInteger uint8", func() *onnxModel {
			m := vec12()
			m.add("y", "MatMulInteger", []string{"x", m.init("w", tUint8, encRaw, nil, 12, 5)})
			return m
		}, "y", 8},
		{"QLinearConv int8", func() *onnxModel {
			m := img4()
			s, z := scalar(m, "s", 0.1), m.init("z", tUint8, encRaw, nil, 1)
			m.add("y", "QLinearConv", []string{"x", s, z, m.init("w", tInt8, encRaw, nil, 8, 4, 1, 1), s, m.init("wz", tInt8, encRaw, nil, 1), s, z})
			return m
		}, "y", 8},
		{"QLinearMatMul uint8", func() *onnxModel {
			m := vec12()
			s, z := scalar(m, "s", 0.1), m.init("z", tUint8, encRaw, nil, 1)
			m.add("y", "QLinearMatMul", []string{"x", s, z, m.init("w", tUint8, encRaw, nil, 12, 5), s, z, s, z})
			return m
		}, "y", 8},
		{"QDQ int4 Conv", func() *onnxModel {
			m := img4()
			m.add("y", "Conv", []string{"x", dq(m, tInt4, 8, 4, 3, 3)})
			return m
		}, "y", 4},
		{"QDQ uint4 ConvTranspose", func() *onnxModel {
			m := img4()
			m.add("y", "ConvTranspose", []string{"x", dq(m, tUint4, 4, 8, 2, 2)}, attr{"strides", i64s(2, 2)})
			return m
		}, "y", 4},
		{"QDQ int16 MatMul", func() *onnxModel {
			m := vec12()
			m.add("y", "MatMul", []string{"x", dq(m, tInt16, 12, 5)})
			return m
		}, "y", 16},
		{"QDQ uint16 Gemm", func() *onnxModel {
			m := vec12()
			m.add("y", "Gemm", []string{"x", dq(m, tUint16, 12, 5)})
			return m
		}, "y", 16},
		{"QDQ int8 Gemm transB (folded Transpose)", func() *onnxModel {
			m := vec12()
			m.add("y", "Gemm", []string{"x", dq(m, tInt8, 5, 12)}, attr{"transB", 1})
			return m
		}, "y", 8},
		{"QDQ int4 through Reshape and Transpose", func() *onnxModel {
			m := vec12()
			r := m.add("wr", "Reshape", []string{dq(m, tInt4, 60), m.init("shape", typeInt64, encRaw, []float64{5, 12}, 2)})
			tr := m.add("wt", "Transpose", []string{r}, attr{"perm", i64s(1, 0)})
			m.add("y", "MatMul", []string{"x", tr})
			return m
		}, "y", 4},
		{"QDQ int8 constant on the left of MatMul", func() *onnxModel {
			m := &onnxModel{name: "q", inputs: []vinfo{img("x", "N", 12, 3)}, outputs: []vinfo{{name: "y"}}}
			m.add("y", "MatMul", []string{dq(m, tInt8, 5, 12), "x"})
			return m
		}, "y", 8},
		{"QDQ int8 from a Constant node", func() *onnxModel {
			m := vec12()
			m.nodes = append(m.nodes, node{name: "cw", op: "Constant", out: []string{"cw"}, attrs: []attr{{"value", &tensor{dtype: tInt8, dims: []int64{12, 5}, enc: encRaw}}}})
			d := m.add("wd", "DequantizeLinear", []string{"cw", scalar(m, "ws", 0.05)})
			m.add("y", "MatMul", []string{"x", d})
			return m
		}, "y", 8},
		{"QDQ int8 through Flatten", func() *onnxModel {
			m := vec12()
			m.add("y", "Gemm", []string{"x", m.add("wf", "Flatten", []string{dq(m, tInt8, 5, 3, 4)})}, attr{"transB", 1})
			return m
		}, "y", 8},
		{"QDQ int4 through Slice", func() *onnxModel {
			m := vec12()
			i64 := func(name string, v float64) string { return m.init(name, typeInt64, encRaw, []float64{v}, 1) }
			sl := m.add("wsl", "Slice", []string{dq(m, tInt4, 12, 9), i64("st", 2), i64("en", 7), i64("ax", 1)})
			m.add("y", "MatMul", []string{"x", sl})
			return m
		}, "y", 4},
		{"QDQ uint8 through Split", func() *onnxModel {
			m := vec12()
			m.nodes = append(m.nodes, node{name: "sp", op: "Split", in: []string{dq(m, tUint8, 12, 10), m.init("parts", typeInt64, encRaw, []float64{4, 6}, 2)}, out: []string{"w0", "w1"}, attrs: []attr{{"axis", 1}}})
			m.add("y", "MatMul", []string{"x", "w1"})
			return m
		}, "y", 8},
		{"Concat of QDQ int4 and int8: the wider", func() *onnxModel {
			m := vec12()
			a := m.add("da", "DequantizeLinear", []string{m.init("qa", tInt4, encRaw, nil, 12, 2), scalar(m, "sa", 0.1)})
			b := m.add("db", "DequantizeLinear", []string{m.init("qb", tInt8, encRaw, nil, 12, 3), scalar(m, "sb", 0.1)})
			m.add("y", "MatMul", []string{"x", m.add("cat", "Concat", []string{a, b}, attr{"axis", 1})})
			return m
		}, "y", 8},
		{"Concat of QDQ int8 and float: the chip's", func() *onnxModel {
			m := vec12()
			b := m.add("db", "DequantizeLinear", []string{m.init("qb", tInt8, encRaw, nil, 12, 3), scalar(m, "sb", 0.1)})
			m.add("y", "MatMul", []string{"x", m.add("cat", "Concat", []string{b, m.init("wf", typeFloat, encRaw, nil, 12, 2)}, attr{"axis", 1})})
			return m
		}, "y", 0},
		{"QuantizeLinear to int8 then DequantizeLinear", func() *onnxModel {
			m := img4()
			s, z := scalar(m, "s", 0.1), m.init("z", tInt8, encRaw, nil)
			q := m.add("wq", "QuantizeLinear", []string{m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3), s, z})
			m.add("y", "Conv", []string{"x", m.add("wd", "DequantizeLinear", []string{q, s, z})})
			return m
		}, "y", 8},
		{"QuantizeLinear to int4 then DequantizeLinear", func() *onnxModel {
			m := img4()
			s, z := scalar(m, "s", 0.1), m.init("z", tInt4, encRaw, nil)
			q := m.add("wq", "QuantizeLinear", []string{m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3), s, z})
			m.add("y", "Conv", []string{"x", m.add("wd", "DequantizeLinear", []string{q, s, z})})
			return m
		}, "y", 4},
		{"QuantizeLinear output_dtype int16", func() *onnxModel {
			m := img4()
			s := scalar(m, "s", 0.1)
			q := m.add("wq", "QuantizeLinear", []string{m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3), s}, attr{"output_dtype", tInt16})
			m.add("y", "Conv", []string{"x", m.add("wd", "DequantizeLinear", []string{q, s})})
			return m
		}, "y", 16},
		{"QuantizeLinear without a zero point (uint8)", func() *onnxModel {
			m := img4()
			s := scalar(m, "s", 0.1)
			q := m.add("wq", "QuantizeLinear", []string{m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3), s})
			m.add("y", "Conv", []string{"x", m.add("wd", "DequantizeLinear", []string{q, s})})
			return m
		}, "y", 8},
		{"QDQ int32 (wider than a crossbar weight): the chip's", func() *onnxModel {
			m := img4()
			m.add("y", "Conv", []string{"x", dq(m, tInt32, 8, 4, 3, 3)})
			return m
		}, "y", 0},
		{"QDQ float8 (not an integer): the chip's", func() *onnxModel {
			m := img4()
			m.add("y", "Conv", []string{"x", dq(m, tFP8, 8, 4, 3, 3)})
			return m
		}, "y", 0},
		{"float Conv: the chip's", func() *onnxModel {
			m := img4()
			m.add("y", "Conv", []string{"x", m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3)})
			return m
		}, "y", 0},
		{"float Gemm: the chip's", func() *onnxModel {
			m := vec12()
			m.add("y", "Gemm", []string{"x", m.init("w", typeFloat, encRaw, nil, 5, 12)}, attr{"transB", 1})
			return m
		}, "y", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := ReadBytes(c.model().bytes(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, i := range g.CrossbarLayers() {
				got = append(got, fmt.Sprintf("%s:%d", g.Nodes[i].Name, g.Nodes[i].WeightBits))
			}
			if want := fmt.Sprintf("%s:%d", c.layer, c.bits); strings.Join(got, " ") != want {
				t.Errorf("crossbar layers %v, want %s", got, want)
			}
		})
	}
}

// TestQuantizedModelWeightBits: in the mixed quantized model every
// crossbar layer's int8 weight keeps 8 bits, and a float layer added
// after it keeps none.
func TestQuantizedModelWeightBits(t *testing.T) {
	m := quantModel()
	m.outputs = []vinfo{{name: "out"}}
	m.add("out", "Gemm", []string{"fc", m.init("wf", typeFloat, encRaw, nil, 3, 10)}, attr{"transB", 1})
	// MatMulInteger's output is int32: Gemm reads it as it is (the reader
	// does not check operand types).
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range g.CrossbarLayers() {
		got = append(got, fmt.Sprintf("%s:%d", g.Nodes[i].Name, g.Nodes[i].WeightBits))
	}
	if s := strings.Join(got, " "); s != "ci:8 qc:8 c3:8 fc:8 out:0" {
		t.Errorf("layers %s, want ci:8 qc:8 c3:8 fc:8 out:0", s)
	}
}

// TestQuantizeLinearBadOutputType: an output_dtype that is no ONNX type
// is an error naming the attribute and the types to use.
func TestQuantizeLinearBadOutputType(t *testing.T) {
	for _, to := range []int64{99, -3, 1<<32 + 3} {
		m := &onnxModel{name: "q", opset: 21, inputs: []vinfo{img("x", "N", 4, 6, 6)}, outputs: []vinfo{{name: "y"}}}
		s := scalar(m, "s", 0.1)
		q := m.add("wq", "QuantizeLinear", []string{m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3), s}, attr{"output_dtype", to})
		m.add("y", "Conv", []string{"x", m.add("wd", "DequantizeLinear", []string{q, s})})
		_, err := ReadBytes(m.bytes(), Options{})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("output_dtype = %d", to)) || !strings.Contains(err.Error(), "int8 (3)") {
			t.Errorf("output_dtype %d: %v", to, err)
		}
	}
}
