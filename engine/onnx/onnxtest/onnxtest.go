// Package onnxtest writes small ONNX files for the tests of packages
// that read models from bytes (the page's WebAssembly front end, the
// browser test): a graph of one Conv, its weight an initializer, then a
// chain of single-input operators, with input dimensions given as sizes
// or as named dynamic dimensions (ConvModel); and a two-input graph whose
// If takes its branch from an integer input's value (IfModel). It is test support, not part of the
// engine: nothing outside tests imports it. (engine/onnx's own tests have
// a fuller writer of their own.)
package onnxtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// pbVarint appends a protobuf varint.
func pbVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// pbBytes appends a length-delimited field.
func pbBytes(b []byte, field int, data []byte) []byte {
	b = pbVarint(b, uint64(field)<<3|2)
	b = pbVarint(b, uint64(len(data)))
	return append(b, data...)
}

// pbInt appends a varint field.
func pbInt(b []byte, field int, v int64) []byte {
	b = pbVarint(b, uint64(field)<<3)
	return pbVarint(b, uint64(v))
}

// ConvModel encodes a model whose input "x" has the given dims (a
// string dim is dynamic, named), a Conv of outC 3x3 filters (pad 1), and
// then each of extraOps (single-input ops on the activations, e.g. "Relu"
// or an unsupported one) in a chain.
func ConvModel(dims []any, outC int, extraOps ...string) []byte {
	inC := dims[1].(int)
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch v := d.(type) {
		case int:
			dim = pbInt(nil, 1, int64(v))
		case string:
			dim = pbBytes(nil, 2, []byte(v))
		}
		shape = pbBytes(shape, 1, dim)
	}
	valueInfo := func(name string, shape []byte) []byte {
		tensor := pbInt(nil, 1, 1) // elem_type FLOAT
		if shape != nil {
			tensor = pbBytes(tensor, 2, shape)
		}
		return pbBytes(pbBytes(nil, 1, []byte(name)), 2, pbBytes(nil, 1, tensor))
	}
	node := nodeProto
	ints := func(name string, vs ...int64) []byte {
		a := pbBytes(nil, 1, []byte(name))
		for _, v := range vs {
			a = pbInt(a, 8, v)
		}
		return pbInt(a, 20, 7) // type INTS
	}
	weights := make([]byte, 4*outC*inC*9)
	for i := 0; i < len(weights); i += 4 {
		binary.LittleEndian.PutUint32(weights[i:], math.Float32bits(float32(i%7)/7-0.4))
	}
	init := pbInt(nil, 1, int64(outC))
	for _, d := range []int64{int64(inC), 3, 3} {
		init = pbInt(init, 1, d)
	}
	init = pbInt(init, 2, 1) // FLOAT
	init = pbBytes(init, 8, []byte("w"))
	init = pbBytes(init, 9, weights)

	var graph []byte
	graph = pbBytes(graph, 1, node("Conv", "conv", []string{"x", "w"}, "c", ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)))
	last := "c"
	for i, op := range extraOps {
		out := fmt.Sprintf("e%d", i)
		graph = pbBytes(graph, 1, node(op, fmt.Sprintf("%s_%d", strings.ToLower(op), i), []string{last}, out))
		last = out
	}
	graph = pbBytes(graph, 2, []byte("dyn"))
	graph = pbBytes(graph, 5, init)
	graph = pbBytes(graph, 11, valueInfo("x", shape))
	graph = pbBytes(graph, 12, valueInfo(last, nil))

	m := pbInt(nil, 1, 7) // ir_version
	m = pbBytes(m, 7, graph)
	m = pbBytes(m, 8, pbInt(nil, 2, 13)) // opset 13
	return m
}

// ONNX enum values the writers use (onnx.proto3).
const (
	elemFloat = 1 // TensorProto.FLOAT
	elemInt64 = 7 // TensorProto.INT64
	attrGraph = 5 // AttributeProto.GRAPH
)

// valueInfo encodes a ValueInfoProto of a tensor of elem type with the
// given dims (an int is a size, a string a named dynamic dimension; nil
// dims: no shape).
func valueInfo(name string, elem int64, dims []any) []byte {
	tensor := pbInt(nil, 1, elem)
	if dims != nil {
		var shape []byte
		for _, d := range dims {
			switch v := d.(type) {
			case int:
				shape = pbBytes(shape, 1, pbInt(nil, 1, int64(v)))
			case string:
				shape = pbBytes(shape, 1, pbBytes(nil, 2, []byte(v)))
			}
		}
		tensor = pbBytes(tensor, 2, shape)
	}
	return pbBytes(pbBytes(nil, 1, []byte(name)), 2, pbBytes(nil, 1, tensor))
}

// nodeProto encodes a NodeProto with encoded AttributeProtos.
func nodeProto(op, name string, inputs []string, output string, attrs ...[]byte) []byte {
	var n []byte
	for _, in := range inputs {
		n = pbBytes(n, 1, []byte(in))
	}
	n = pbBytes(n, 2, []byte(output))
	n = pbBytes(n, 3, []byte(name))
	n = pbBytes(n, 4, []byte(op))
	for _, a := range attrs {
		n = pbBytes(n, 5, a)
	}
	return n
}

// floatMatrix encodes a rows x cols FLOAT initializer with small varied values.
func floatMatrix(name string, rows, cols int) []byte {
	data := make([]byte, 4*rows*cols)
	for i := 0; i < len(data); i += 4 {
		binary.LittleEndian.PutUint32(data[i:], math.Float32bits(float32(i%11)/11-0.5))
	}
	t := pbInt(pbInt(nil, 1, int64(rows)), 1, int64(cols))
	t = pbInt(t, 2, elemFloat)
	t = pbBytes(t, 8, []byte(name))
	return pbBytes(t, 9, data)
}

// IfModel encodes a model of two inputs, x (FLOAT, [N, in], N dynamic)
// and sr (INT64, [1]): y = x·W1 (thenOut columns, layer "mm_then") when
// sr == 16000, else x·W2 (elseOut columns, layer "mm_else"). The If reads
// its condition from sr, so the model compiles only once sr is given a
// value; the branches read x from the enclosing graph.
func IfModel(in, thenOut, elseOut int) []byte {
	k16 := pbInt(nil, 1, 1)
	k16 = pbInt(k16, 2, elemInt64)
	k16 = pbBytes(k16, 8, []byte("k16"))
	var sixteen [8]byte
	binary.LittleEndian.PutUint64(sixteen[:], 16000)
	k16 = pbBytes(k16, 9, sixteen[:])
	branch := func(name, weight, out string, cols int) []byte {
		var g []byte
		g = pbBytes(g, 1, nodeProto("MatMul", name, []string{"x", weight}, out))
		g = pbBytes(g, 2, []byte(name))
		g = pbBytes(g, 5, floatMatrix(weight, in, cols))
		return pbBytes(g, 12, valueInfo(out, elemFloat, nil))
	}
	graphAttr := func(name string, g []byte) []byte {
		return pbInt(pbBytes(pbBytes(nil, 1, []byte(name)), 6, g), 20, attrGraph)
	}
	var graph []byte
	graph = pbBytes(graph, 1, nodeProto("Equal", "is16k", []string{"sr", "k16"}, "is16k"))
	graph = pbBytes(graph, 1, nodeProto("Squeeze", "cond", []string{"is16k"}, "cond"))
	graph = pbBytes(graph, 1, nodeProto("If", "branch", []string{"cond"}, "y",
		graphAttr("then_branch", branch("mm_then", "w1", "t", thenOut)),
		graphAttr("else_branch", branch("mm_else", "w2", "e", elseOut))))
	graph = pbBytes(graph, 2, []byte("if"))
	graph = pbBytes(graph, 5, k16)
	graph = pbBytes(graph, 11, valueInfo("x", elemFloat, []any{"N", in}))
	graph = pbBytes(graph, 11, valueInfo("sr", elemInt64, []any{1}))
	graph = pbBytes(graph, 12, valueInfo("y", elemFloat, nil))

	m := pbInt(nil, 1, 7) // ir_version
	m = pbBytes(m, 7, graph)
	m = pbBytes(m, 8, pbInt(nil, 2, 13)) // opset 13
	return m
}
