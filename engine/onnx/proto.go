package onnx

import (
	"bytes"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX protobuf messages this reader decodes, with only the fields it
// uses. Field numbers are those of onnx/onnx.proto.

// Limits on what a file may declare, so that memory stays bounded whatever
// the file says: counts are checked before anything is appended.
const (
	maxNodes    = 1 << 18 // nodes, initializers, inputs or outputs of a graph, each
	maxNodeIO   = 1 << 14 // inputs or outputs of one node
	maxAttrs    = 1 << 10 // attributes of one node
	maxAttrList = 1 << 16 // values of one list attribute
	maxRank     = 64      // dimensions of one tensor or shape
	maxSpans    = 1 << 10 // packed chunks of one tensor's typed data
	maxDecode   = 1 << 16 // elements of a constant whose values may be decoded
	maxDepth    = 8       // nesting of subgraphs (If branches inside If branches)
	maxWindow   = 1 << 20 // a kernel size, stride, dilation or pad of a convolution or pooling window
)

type modelProto struct {
	irVersion int64
	opsets    map[string]int64
	producer  string
	graph     *graphProto
}

type graphProto struct {
	name            string
	nodes           []*nodeProto
	inits           []*tensorProto
	inputs, outputs []*valueInfo
	sparse          bool
}

type nodeProto struct {
	index            int
	name, op, domain string
	inputs, outputs  []string
	attrs            []*attribute
	captures         []string // names its subgraphs read from the enclosing graph
}

// Attribute types (AttributeProto.AttributeType).
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrGraph   = 5
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
	attrTensors = 9
	attrGraphs  = 10
	attrSparse  = 11
	attrSparses = 12
)

type attribute struct {
	name    string
	typ     int64
	f       float32
	i       int64
	s       string
	t       *tensorProto
	floats  []float32
	ints    []int64
	strings []string
	has     uint32      // bit per AttributeType present
	graph   bool        // g or graphs present (a subgraph)
	g       *graphProto // the subgraph g, decoded
	refName string      // ref_attr_name (only valid inside functions)
}

func (a *attribute) set(t int) { a.has |= 1 << t }

// hasType reports whether the attribute holds a value of type t.
func (a *attribute) hasType(t int) bool { return a.has&(1<<t) != 0 }

type valueInfo struct {
	name     string
	elem     int32
	hasType  bool // a tensor type is given
	hasShape bool
	dims     []dim
}

type dim struct {
	value int64
	param string
	known bool
}

type span struct{ off, n int64 }

type tensorProto struct {
	name    string
	dtype   int32
	dims    []int64
	hasRaw  bool
	raw     span
	typed   protowire.Number // typed data field in use (0: none)
	packed  []span           // packed chunks of the typed field
	vals    []uint64         // unpacked typed values (up to maxDecode)
	nvals   int64            // count of unpacked typed values
	strs    int64            // string_data entries
	extern  []kv
	locExt  bool // data_location = EXTERNAL
	segment bool
	src     source
}

type kv struct{ key, value string }

// decodeModel parses a ModelProto.
func decodeModel(src source) (*modelProto, error) {
	if src.size() == 0 {
		return nil, fmt.Errorf("the file is empty: not an ONNX model")
	}
	if head, err := src.at(0, int(min(src.size(), 64))); err == nil {
		if bytes.HasPrefix(head, []byte("version https://git-lfs")) {
			return nil, fmt.Errorf("the file is a Git LFS pointer, not the model: fetch the real file (git lfs pull) and read that")
		}
		if t := bytes.TrimSpace(head); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			return nil, fmt.Errorf("the file looks like JSON, not an ONNX protobuf: give a .json graph as a JSON model instead")
		}
	}
	mp := &modelProto{opsets: map[string]int64{}}
	m := &msg{src: src, off: 0, end: src.size()}
	for m.more() {
		f, err := m.next()
		if err != nil {
			return nil, fmt.Errorf("ModelProto: %w", err)
		}
		switch f.num {
		case 1:
			if mp.irVersion, err = varint(f, "ModelProto.ir_version"); err != nil {
				return nil, err
			}
		case 2:
			if mp.producer, err = m.str(f, "ModelProto.producer_name"); err != nil {
				return nil, err
			}
		case 7:
			if err := want(f, protowire.BytesType, "ModelProto.graph"); err != nil {
				return nil, err
			}
			if mp.graph == nil {
				mp.graph = &graphProto{}
			}
			if err := decodeGraph(m.sub(f), mp.graph, 0); err != nil {
				return nil, fmt.Errorf("graph: %w", err)
			}
		case 8:
			if err := want(f, protowire.BytesType, "ModelProto.opset_import"); err != nil {
				return nil, err
			}
			if len(mp.opsets) >= 1024 {
				return nil, fmt.Errorf("ModelProto has more than 1024 opset imports")
			}
			domain, version := "", int64(0)
			o := m.sub(f)
			for o.more() {
				g, err := o.next()
				if err != nil {
					return nil, fmt.Errorf("opset_import: %w", err)
				}
				switch g.num {
				case 1:
					if domain, err = o.str(g, "OperatorSetIdProto.domain"); err != nil {
						return nil, err
					}
				case 2:
					if version, err = varint(g, "OperatorSetIdProto.version"); err != nil {
						return nil, err
					}
				}
			}
			if domain == "ai.onnx" {
				domain = ""
			}
			mp.opsets[domain] = version
		}
	}
	if mp.graph == nil {
		return nil, fmt.Errorf("the file has no graph (ModelProto field 7): not an ONNX model, or an empty one")
	}
	return mp, nil
}

func decodeGraph(m *msg, g *graphProto, depth int) error {
	for m.more() {
		f, err := m.next()
		if err != nil {
			return err
		}
		switch f.num {
		case 1:
			if err := want(f, protowire.BytesType, "GraphProto.node"); err != nil {
				return err
			}
			if len(g.nodes) >= maxNodes {
				return fmt.Errorf("more than %d nodes: too large for this reader", maxNodes)
			}
			n, err := decodeNode(m.sub(f), depth)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.nodes), err)
			}
			n.index = len(g.nodes)
			g.nodes = append(g.nodes, n)
		case 2:
			if g.name, err = m.str(f, "GraphProto.name"); err != nil {
				return err
			}
		case 5:
			if err := want(f, protowire.BytesType, "GraphProto.initializer"); err != nil {
				return err
			}
			if len(g.inits) >= maxNodes {
				return fmt.Errorf("more than %d initializers: too large for this reader", maxNodes)
			}
			t, err := decodeTensor(m.sub(f))
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.inits), err)
			}
			g.inits = append(g.inits, t)
		case 15:
			g.sparse = true
		case 11, 12: // value_info (13) is not needed: shapes are inferred
			what, dst := "input", &g.inputs
			if f.num == 12 {
				what, dst = "output", &g.outputs
			}
			if err := want(f, protowire.BytesType, "GraphProto."+what); err != nil {
				return err
			}
			if len(*dst) >= maxNodes {
				return fmt.Errorf("more than %d graph %ss: too large for this reader", maxNodes, what)
			}
			v, err := decodeValueInfo(m.sub(f))
			if err != nil {
				return fmt.Errorf("%s %d: %w", what, len(*dst), err)
			}
			*dst = append(*dst, v)
		}
	}
	return nil
}

func decodeNode(m *msg, depth int) (*nodeProto, error) {
	n := &nodeProto{}
	for m.more() {
		f, err := m.next()
		if err != nil {
			return nil, err
		}
		switch f.num {
		case 1, 2:
			what := "NodeProto.input"
			dst := &n.inputs
			if f.num == 2 {
				what, dst = "NodeProto.output", &n.outputs
			}
			if len(*dst) >= maxNodeIO {
				return nil, fmt.Errorf("%s has more than %d entries", what, maxNodeIO)
			}
			s, err := m.str(f, what)
			if err != nil {
				return nil, err
			}
			*dst = append(*dst, s)
		case 3:
			if n.name, err = m.str(f, "NodeProto.name"); err != nil {
				return nil, err
			}
		case 4:
			if n.op, err = m.str(f, "NodeProto.op_type"); err != nil {
				return nil, err
			}
		case 7:
			if n.domain, err = m.str(f, "NodeProto.domain"); err != nil {
				return nil, err
			}
		case 5:
			if err := want(f, protowire.BytesType, "NodeProto.attribute"); err != nil {
				return nil, err
			}
			if len(n.attrs) >= maxAttrs {
				return nil, fmt.Errorf("more than %d attributes", maxAttrs)
			}
			a, err := decodeAttribute(m.sub(f), depth)
			if err != nil {
				return nil, fmt.Errorf("attribute %d: %w", len(n.attrs), err)
			}
			n.attrs = append(n.attrs, a)
		}
	}
	return n, nil
}

func decodeAttribute(m *msg, depth int) (*attribute, error) {
	a := &attribute{}
	for m.more() {
		f, err := m.next()
		if err != nil {
			return nil, err
		}
		switch f.num {
		case 1:
			if a.name, err = m.str(f, "AttributeProto.name"); err != nil {
				return nil, err
			}
		case 20:
			if a.typ, err = varint(f, "AttributeProto.type"); err != nil {
				return nil, err
			}
		case 21:
			if a.refName, err = m.str(f, "AttributeProto.ref_attr_name"); err != nil {
				return nil, err
			}
		case 2:
			if err := want(f, protowire.Fixed32Type, "AttributeProto.f"); err != nil {
				return nil, err
			}
			a.f = f32(uint32(f.v))
			a.set(attrFloat)
		case 3:
			if a.i, err = varint(f, "AttributeProto.i"); err != nil {
				return nil, err
			}
			a.set(attrInt)
		case 4:
			if a.s, err = m.str(f, "AttributeProto.s"); err != nil {
				return nil, err
			}
			a.set(attrString)
		case 5:
			if err := want(f, protowire.BytesType, "AttributeProto.t"); err != nil {
				return nil, err
			}
			if a.t, err = decodeTensor(m.sub(f)); err != nil {
				return nil, fmt.Errorf("tensor: %w", err)
			}
			a.set(attrTensor)
		case 6, 11:
			// A subgraph (If, Loop, Scan). A single one (g, an If branch)
			// is decoded to bounded depth; lists (graphs) only noted.
			if err := want(f, protowire.BytesType, "AttributeProto.g"); err != nil {
				return nil, err
			}
			a.graph = true
			a.set(attrGraph)
			if f.num == 6 && a.g == nil {
				if depth >= maxDepth {
					return nil, fmt.Errorf("subgraphs are nested more than %d deep", maxDepth)
				}
				a.g = &graphProto{}
				if err := decodeGraph(m.sub(f), a.g, depth+1); err != nil {
					return nil, fmt.Errorf("subgraph %q: %w", a.name, err)
				}
			}
		case 7:
			if a.floats, err = m.floats(f, a.floats, maxAttrList, "AttributeProto.floats"); err != nil {
				return nil, err
			}
			a.set(attrFloats)
		case 8:
			if a.ints, err = m.ints(f, a.ints, maxAttrList, "AttributeProto.ints"); err != nil {
				return nil, err
			}
			a.set(attrInts)
		case 9:
			if len(a.strings) >= maxAttrList {
				return nil, fmt.Errorf("AttributeProto.strings has more than %d values", maxAttrList)
			}
			s, err := m.str(f, "AttributeProto.strings")
			if err != nil {
				return nil, err
			}
			a.strings = append(a.strings, s)
			a.set(attrStrings)
		case 10:
			a.set(attrTensors)
		case 22, 23:
			a.set(attrSparse)
		}
	}
	return a, nil
}

func decodeValueInfo(m *msg) (*valueInfo, error) {
	v := &valueInfo{}
	for m.more() {
		f, err := m.next()
		if err != nil {
			return nil, err
		}
		switch f.num {
		case 1:
			if v.name, err = m.str(f, "ValueInfoProto.name"); err != nil {
				return nil, err
			}
		case 2:
			if err := want(f, protowire.BytesType, "ValueInfoProto.type"); err != nil {
				return nil, err
			}
			tp := m.sub(f)
			for tp.more() {
				g, err := tp.next()
				if err != nil {
					return nil, err
				}
				if g.num != 1 { // tensor_type; sequences and maps are not tensors
					continue
				}
				if err := want(g, protowire.BytesType, "TypeProto.tensor_type"); err != nil {
					return nil, err
				}
				v.hasType = true
				if err := decodeTensorType(tp.sub(g), v); err != nil {
					return nil, err
				}
			}
		}
	}
	return v, nil
}

func decodeTensorType(m *msg, v *valueInfo) error {
	for m.more() {
		f, err := m.next()
		if err != nil {
			return err
		}
		switch f.num {
		case 1:
			e, err := varint(f, "TypeProto.Tensor.elem_type")
			if err != nil {
				return err
			}
			v.elem = int32(e)
		case 2:
			if err := want(f, protowire.BytesType, "TypeProto.Tensor.shape"); err != nil {
				return err
			}
			v.hasShape = true
			s := m.sub(f)
			for s.more() {
				g, err := s.next()
				if err != nil {
					return err
				}
				if g.num != 1 {
					continue
				}
				if err := want(g, protowire.BytesType, "TensorShapeProto.dim"); err != nil {
					return err
				}
				if len(v.dims) >= maxRank {
					return fmt.Errorf("shape has more than %d dimensions", maxRank)
				}
				var d dim
				dm := s.sub(g)
				for dm.more() {
					h, err := dm.next()
					if err != nil {
						return err
					}
					switch h.num {
					case 1:
						if d.value, err = varint(h, "Dimension.dim_value"); err != nil {
							return err
						}
						d.known = true
					case 2:
						if d.param, err = dm.str(h, "Dimension.dim_param"); err != nil {
							return err
						}
					}
				}
				v.dims = append(v.dims, d)
			}
		}
	}
	return nil
}

// decodeTensor reads a TensorProto's metadata and where its data lies; the
// data itself is not read.
func decodeTensor(m *msg) (*tensorProto, error) {
	t := &tensorProto{src: m.src}
	for m.more() {
		f, err := m.next()
		if err != nil {
			return nil, err
		}
		switch f.num {
		case 1:
			if t.dims, err = m.ints(f, t.dims, maxRank, "TensorProto.dims"); err != nil {
				return nil, err
			}
		case 2:
			d, err := varint(f, "TensorProto.data_type")
			if err != nil {
				return nil, err
			}
			t.dtype = int32(d)
		case 3:
			t.segment = true
		case 8:
			if t.name, err = m.str(f, "TensorProto.name"); err != nil {
				return nil, err
			}
		case 9:
			if err := want(f, protowire.BytesType, "TensorProto.raw_data"); err != nil {
				return nil, err
			}
			t.hasRaw, t.raw = true, span{f.off, f.n}
		case 4, 5, 7, 10, 11:
			if t.typed != 0 && t.typed != f.num {
				return nil, fmt.Errorf("tensor %q holds data in two typed fields (%d and %d)", t.name, t.typed, f.num)
			}
			t.typed = f.num
			if f.typ == protowire.BytesType {
				if len(t.packed) >= maxSpans {
					return nil, fmt.Errorf("tensor %q has its data in more than %d chunks", t.name, maxSpans)
				}
				t.packed = append(t.packed, span{f.off, f.n})
				continue
			}
			wt := protowire.VarintType
			switch f.num {
			case 4:
				wt = protowire.Fixed32Type
			case 10:
				wt = protowire.Fixed64Type
			}
			if err := want(f, wt, fmt.Sprintf("TensorProto data field %d", f.num)); err != nil {
				return nil, err
			}
			if t.nvals < maxDecode {
				t.vals = append(t.vals, f.v)
			}
			t.nvals++
		case 6:
			if err := want(f, protowire.BytesType, "TensorProto.string_data"); err != nil {
				return nil, err
			}
			t.strs++
		case 13:
			if err := want(f, protowire.BytesType, "TensorProto.external_data"); err != nil {
				return nil, err
			}
			if len(t.extern) >= 64 {
				return nil, fmt.Errorf("tensor %q has more than 64 external_data entries", t.name)
			}
			var e kv
			em := m.sub(f)
			for em.more() {
				g, err := em.next()
				if err != nil {
					return nil, err
				}
				switch g.num {
				case 1:
					if e.key, err = em.str(g, "StringStringEntryProto.key"); err != nil {
						return nil, err
					}
				case 2:
					if e.value, err = em.str(g, "StringStringEntryProto.value"); err != nil {
						return nil, err
					}
				}
			}
			t.extern = append(t.extern, e)
		case 14:
			l, err := varint(f, "TensorProto.data_location")
			if err != nil {
				return nil, err
			}
			t.locExt = l == 1
		}
	}
	return t, nil
}

func f32(b uint32) float32 { return math.Float32frombits(b) }
