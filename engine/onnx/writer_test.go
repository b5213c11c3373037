package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/compass-go/compass/engine/model"
)

// A small ONNX writer for tests: it builds model files with protowire, so
// the tests need no files and no generated protobuf code.

type pb struct{ b []byte }

func (p *pb) varint(num protowire.Number, v uint64) {
	p.b = protowire.AppendTag(p.b, num, protowire.VarintType)
	p.b = protowire.AppendVarint(p.b, v)
}

func (p *pb) bytes(num protowire.Number, b []byte) {
	p.b = protowire.AppendTag(p.b, num, protowire.BytesType)
	p.b = protowire.AppendBytes(p.b, b)
}

func (p *pb) str(num protowire.Number, s string) { p.bytes(num, []byte(s)) }

func (p *pb) fixed32(num protowire.Number, v uint32) {
	p.b = protowire.AppendTag(p.b, num, protowire.Fixed32Type)
	p.b = protowire.AppendFixed32(p.b, v)
}

func (p *pb) msg(num protowire.Number, f func(q *pb)) {
	var q pb
	f(&q)
	p.bytes(num, q.b)
}

// Encodings of a tensor's data.
const (
	encRaw      = iota // raw_data
	encTyped           // the typed field, packed
	encUnpacked        // the typed field, one entry per element
	encExternal        // external data (metadata only)
	encNone            // no data (invalid unless empty)
)

type tensor struct {
	name  string
	dtype int32
	dims  []int64
	enc   int
	vals  []float64 // values (nil: zeros)
	ext   string    // external location
}

func (t *tensor) write(p *pb) {
	for _, d := range t.dims {
		p.varint(1, uint64(d))
	}
	p.varint(2, uint64(t.dtype))
	if t.name != "" {
		p.str(8, t.name)
	}
	n := int64(1)
	for _, d := range t.dims {
		n *= d
	}
	d, _ := dtype(t.dtype)
	val := func(k int64) float64 {
		if t.vals == nil {
			return 0
		}
		return t.vals[k]
	}
	switch t.enc {
	case encRaw:
		raw := make([]byte, payloadBytes(d, n))
		if t.vals != nil {
			for k := int64(0); k < n; k++ {
				v := val(k)
				switch {
				case d.bits == 4:
					raw[k/2] |= byte(int64(v)&0xf) << (4 * (k % 2))
				case d.bits == 8:
					raw[k] = byte(int64(v))
				case t.dtype == 10:
					binary.LittleEndian.PutUint16(raw[2*k:], toHalf(v))
				case t.dtype == 16:
					binary.LittleEndian.PutUint16(raw[2*k:], uint16(math.Float32bits(float32(v))>>16))
				case d.bits == 16:
					binary.LittleEndian.PutUint16(raw[2*k:], uint16(int64(v)))
				case t.dtype == 1:
					binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(float32(v)))
				case d.bits == 32:
					binary.LittleEndian.PutUint32(raw[4*k:], uint32(int64(v)))
				case t.dtype == 11:
					binary.LittleEndian.PutUint64(raw[8*k:], math.Float64bits(v))
				default:
					binary.LittleEndian.PutUint64(raw[8*k:], uint64(int64(v)))
				}
			}
		}
		p.bytes(9, raw)
	case encTyped, encUnpacked:
		var packed []byte
		for k := int64(0); k < n; k++ {
			v := val(k)
			switch d.field {
			case 4:
				if t.enc == encUnpacked {
					p.fixed32(4, math.Float32bits(float32(v)))
				} else {
					packed = protowire.AppendFixed32(packed, math.Float32bits(float32(v)))
				}
			case 10:
				packed = protowire.AppendFixed64(packed, math.Float64bits(v))
			default:
				var bits uint64
				switch t.dtype {
				case 10:
					bits = uint64(toHalf(v))
				case 16:
					bits = uint64(math.Float32bits(float32(v)) >> 16)
				default:
					bits = uint64(int64(v))
					if d.field == 5 {
						bits = uint64(int64(int32(int64(v))))
					}
				}
				if t.enc == encUnpacked {
					p.varint(d.field, bits)
				} else {
					packed = protowire.AppendVarint(packed, bits)
				}
			}
		}
		if t.enc == encTyped || d.field == 10 {
			p.bytes(d.field, packed)
		}
	case encExternal:
		p.msg(13, func(q *pb) { q.str(1, "location"); q.str(2, t.ext) })
		p.msg(13, func(q *pb) { q.str(1, "length"); q.str(2, fmt.Sprint(payloadBytes(d, n))) })
		p.varint(14, 1)
	}
}

func toHalf(v float64) uint16 {
	f := float32(v)
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	frac := uint16((b >> 13) & 0x3ff)
	switch {
	case f == 0:
		return sign
	case exp <= 0:
		return sign
	case exp >= 31:
		return sign | 0x7c00
	}
	return sign | uint16(exp)<<10 | frac
}

type attr struct {
	name string
	v    any // int, int64, float64, string, []int64, []float32, *tensor
}

type node struct {
	name, op string
	in, out  []string
	attrs    []attr
}

func (n *node) write(p *pb) {
	for _, s := range n.in {
		p.str(1, s)
	}
	for _, s := range n.out {
		p.str(2, s)
	}
	if n.name != "" {
		p.str(3, n.name)
	}
	p.str(4, n.op)
	for _, a := range n.attrs {
		p.msg(5, func(q *pb) {
			q.str(1, a.name)
			switch v := a.v.(type) {
			case int:
				q.varint(3, uint64(int64(v)))
				q.varint(20, attrInt)
			case int64:
				q.varint(3, uint64(v))
				q.varint(20, attrInt)
			case float64:
				q.fixed32(2, math.Float32bits(float32(v)))
				q.varint(20, attrFloat)
			case string:
				q.str(4, v)
				q.varint(20, attrString)
			case []int64:
				var packed []byte
				for _, x := range v {
					packed = protowire.AppendVarint(packed, uint64(x))
				}
				q.bytes(8, packed)
				q.varint(20, attrInts)
			case []float32:
				for _, x := range v {
					q.fixed32(7, math.Float32bits(x))
				}
				q.varint(20, attrFloats)
			case *tensor:
				q.msg(5, v.write)
				q.varint(20, attrTensor)
			case *subgraph:
				q.msg(6, v.write)
				q.varint(20, attrGraph)
			}
		})
	}
}

// subgraph is a graph attribute (an If branch).
type subgraph struct {
	nodes   []node
	inits   []*tensor
	outputs []vinfo
}

func (g *subgraph) write(p *pb) {
	for i := range g.nodes {
		p.msg(1, g.nodes[i].write)
	}
	p.str(2, "branch")
	for _, t := range g.inits {
		p.msg(5, t.write)
	}
	for i := range g.outputs {
		p.msg(12, g.outputs[i].write)
	}
}

type vinfo struct {
	name string
	dims []any // int or string (dim_param); nil: no shape
	elem int32
}

func (v *vinfo) write(p *pb) {
	p.str(1, v.name)
	p.msg(2, func(q *pb) {
		q.msg(1, func(t *pb) {
			e := v.elem
			if e == 0 {
				e = typeFloat
			}
			t.varint(1, uint64(e))
			if v.dims == nil {
				return
			}
			t.msg(2, func(s *pb) {
				for _, d := range v.dims {
					s.msg(1, func(dm *pb) {
						switch x := d.(type) {
						case int:
							dm.varint(1, uint64(int64(x)))
						case string:
							dm.str(2, x)
						}
					})
				}
			})
		})
	})
}

type onnxModel struct {
	name          string
	opset         int64
	inputs        []vinfo
	outputs       []vinfo
	nodes         []node
	inits         []*tensor
	inputsInclude bool // list initializers among the graph inputs (old exporters)
}

func (m *onnxModel) bytes() []byte {
	var p pb
	p.varint(1, 8)
	p.str(2, "compass-test")
	opset := m.opset
	if opset == 0 {
		opset = 17
	}
	p.msg(8, func(q *pb) { q.varint(2, uint64(opset)) })
	p.msg(7, func(g *pb) {
		for i := range m.nodes {
			g.msg(1, m.nodes[i].write)
		}
		g.str(2, m.name)
		for _, t := range m.inits {
			g.msg(5, t.write)
		}
		for i := range m.inputs {
			g.msg(11, m.inputs[i].write)
		}
		if m.inputsInclude {
			for _, t := range m.inits {
				v := vinfo{name: t.name, elem: t.dtype}
				for _, d := range t.dims {
					v.dims = append(v.dims, int(d))
				}
				g.msg(11, v.write)
			}
		}
		for i := range m.outputs {
			g.msg(12, m.outputs[i].write)
		}
	})
	return p.b
}

// builder helpers

func (m *onnxModel) init(name string, dtype int32, enc int, vals []float64, dims ...int64) string {
	m.inits = append(m.inits, &tensor{name: name, dtype: dtype, dims: dims, enc: enc, vals: vals})
	return name
}

func (m *onnxModel) add(name, op string, in []string, attrs ...attr) string {
	out := name
	m.nodes = append(m.nodes, node{name: name, op: op, in: in, out: []string{out}, attrs: attrs})
	return out
}

func i64s(v ...int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func f64s(v ...int64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// fromIR writes an inferred IR graph as an ONNX model: every node becomes
// the ONNX operator a PyTorch export would use, weights are initializers
// of data type dtype, the batch dimension is dynamic ("batch"). Node and
// output names are the IR names, so the import can be compared node by
// node.
func fromIR(g *model.Graph, dtype int32) *onnxModel {
	m := &onnxModel{name: g.Name}
	rank := func(i int) int { return len(g.Nodes[i].Out) + 1 }
	w := func(name string, dims ...int64) string { return m.init(name, dtype, encRaw, nil, dims...) }
	for i, n := range g.Nodes {
		var in []string
		for _, p := range g.Producers(i) {
			in = append(in, g.Nodes[p].Name)
		}
		switch n.Op {
		case model.OpInput:
			dims := []any{"batch"}
			for _, d := range n.Shape {
				dims = append(dims, d)
			}
			m.inputs = append(m.inputs, vinfo{name: n.Name, dims: dims})
		case model.OpParameter:
			dims := []int64{1}
			for _, d := range n.Shape {
				dims = append(dims, int64(d))
			}
			w(n.Name, dims...)
		case model.OpConv:
			c := n.Conv
			cin := g.Nodes[g.Producers(i)[0]].Out[0]
			in = append(in, w(n.Name+".weight", int64(c.OutChannels), int64(cin/c.Groups), int64(c.KernelH), int64(c.KernelW)))
			if c.Bias {
				in = append(in, w(n.Name+".bias", int64(c.OutChannels)))
			}
			m.add(n.Name, "Conv", in, attr{"kernel_shape", i64s(c.KernelH, c.KernelW)}, attr{"strides", i64s(c.StrideH, c.StrideW)},
				attr{"pads", i64s(c.PadTop, c.PadLeft, c.PadBottom, c.PadRight)}, attr{"dilations", i64s(c.DilationH, c.DilationW)}, attr{"group", c.Groups})
		case model.OpLinear:
			x := g.Nodes[g.Producers(i)[0]].Out
			k := int64(x[len(x)-1])
			nOut := int64(n.Linear.OutFeatures)
			if len(x) == 1 {
				in = append(in, w(n.Name+".weight", nOut, k))
				if n.Linear.Bias {
					in = append(in, w(n.Name+".bias", nOut))
				}
				m.add(n.Name, "Gemm", in, attr{"alpha", 1.0}, attr{"beta", 1.0}, attr{"transB", 1})
				break
			}
			in = append(in, w(n.Name+".weight_t", k, nOut))
			if !n.Linear.Bias {
				m.add(n.Name, "MatMul", in)
				break
			}
			m.nodes = append(m.nodes, node{name: n.Name, op: "MatMul", in: in, out: []string{n.Name + ":mm"}})
			m.nodes = append(m.nodes, node{name: n.Name + "/bias", op: "Add", in: []string{n.Name + ":mm", w(n.Name+".bias", nOut)}, out: []string{n.Name}})
		case model.OpMatMul:
			b := in[1]
			if n.TransposeB {
				r := len(g.Nodes[g.Producers(i)[1]].Out) + 1
				perm := make([]int64, r)
				for j := range perm {
					perm[j] = int64(j)
				}
				perm[r-2], perm[r-1] = perm[r-1], perm[r-2]
				b = m.add(n.Name+"/kT", "Transpose", []string{b}, attr{"perm", perm})
			}
			m.add(n.Name, "MatMul", []string{in[0], b})
		case model.OpBatchNorm:
			c := int64(n.Out[0])
			m.add(n.Name, "BatchNormalization", append(in, w(n.Name+".weight", c), w(n.Name+".bias", c), w(n.Name+".running_mean", c), w(n.Name+".running_var", c)),
				attr{"epsilon", 1e-5})
		case model.OpLayerNorm:
			d := int64(n.Out[len(n.Out)-1])
			m.add(n.Name, "LayerNormalization", append(in, w(n.Name+".weight", d), w(n.Name+".bias", d)), attr{"axis", -1})
		case model.OpReLU:
			m.add(n.Name, "Relu", in)
		case model.OpGELU:
			m.add(n.Name, "Gelu", in)
		case model.OpSigmoid:
			m.add(n.Name, "Sigmoid", in)
		case model.OpClip:
			lo := m.init(n.Name+".min", typeFloat, encRaw, []float64{n.Min})
			hi := m.init(n.Name+".max", typeFloat, encRaw, []float64{n.Max})
			m.add(n.Name, "Clip", append(in, lo, hi))
		case model.OpMaxPool, model.OpAvgPool:
			p := n.Pool
			op := "MaxPool"
			if n.Op == model.OpAvgPool {
				op = "AveragePool"
			}
			ceil := 0
			if p.CeilMode {
				ceil = 1
			}
			m.add(n.Name, op, in, attr{"kernel_shape", i64s(p.KernelH, p.KernelW)}, attr{"strides", i64s(p.StrideH, p.StrideW)},
				attr{"pads", i64s(p.PadTop, p.PadLeft, p.PadBottom, p.PadRight)}, attr{"ceil_mode", ceil})
		case model.OpGlobalAvgPool:
			m.add(n.Name, "GlobalAveragePool", in)
		case model.OpAdd, model.OpSub, model.OpMul, model.OpDiv:
			m.add(n.Name, string(n.Op), in)
		case model.OpConcat:
			m.add(n.Name, "Concat", in, attr{"axis", n.Axis + 1})
		case model.OpFlatten:
			m.add(n.Name, "Flatten", in, attr{"axis", n.Axis + 1})
		case model.OpReshape:
			shape := []int64{0}
			for _, d := range n.Out {
				shape = append(shape, int64(d))
			}
			m.add(n.Name, "Reshape", append(in, m.init(n.Name+".shape", typeInt64, encRaw, f64s(shape...), int64(len(shape)))))
		case model.OpTranspose:
			perm := []int64{0}
			for _, p := range n.Perm {
				perm = append(perm, int64(p)+1)
			}
			m.add(n.Name, "Transpose", in, attr{"perm", perm})
		case model.OpSoftmax:
			ax := n.Axis
			if ax >= 0 {
				ax++
			}
			m.add(n.Name, "Softmax", in, attr{"axis", ax})
		case model.OpSlice:
			st := m.init(n.Name+".starts", typeInt64, encRaw, f64s(int64(n.Start)), 1)
			en := m.init(n.Name+".ends", typeInt64, encRaw, f64s(int64(n.End)), 1)
			ax := m.init(n.Name+".axes", typeInt64, encRaw, f64s(int64(n.Axis+1)), 1)
			m.add(n.Name, "Slice", append(in, st, en, ax))
		default:
			panic(fmt.Sprintf("fromIR: op %s", n.Op))
		}
		_ = rank
	}
	for i := range g.Nodes {
		if len(g.Consumers(i)) == 0 {
			m.outputs = append(m.outputs, vinfo{name: g.Nodes[i].Name, dims: nil})
		}
	}
	return m
}
