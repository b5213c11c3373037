package onnx

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// nctx is the context of converting one node.
type nctx struct {
	r    *reader
	n    *nodeProto
	def  *opDef
	name string // IR name for the node's main output
	in   []*val // inputs in operand order; nil for omitted optional inputs
}

// errf is a *model.NodeError naming the node being converted.
func (c *nctx) errf(format string, a ...any) error {
	return nodeError(c.n, format, a...)
}

// named returns err, from converting the node, as a *model.NodeError
// naming it, unless it names a node already (a node of an If branch) or
// lists unsupported operators.
func (c *nctx) named(err error) error {
	var ne *model.NodeError
	var ops *UnsupportedOpsError
	if errors.As(err, &ne) || errors.As(err, &ops) {
		return err
	}
	return &model.NodeError{Node: nodeName(c.n), Op: c.n.op, Err: err}
}

// opDef says how an ONNX operator is converted. The table is static data
// (no map built at start-up), which keeps the WebAssembly build small.
type opDef struct {
	name      string
	fn        func(c *nctx) ([]*val, error)
	ir        model.Op // the IR op of element-wise and pooling operators
	constOnly bool     // folded only: every input must be a constant
}

// opDefs lists the supported operators, sorted by name (docs/onnx.md
// says how each maps).
var opDefs = [...]opDef{
	{"Abs", opElementwise, "", false},
	{"Add", binaryOp, model.OpAdd, false},
	{"And", opElementwise, "", false},
	{"ArgMax", opReduce, "", false},
	{"ArgMin", opReduce, "", false},
	{"AveragePool", opPool, model.OpAvgPool, false},
	{"BatchNormalization", opBatchNorm, "", false},
	{"Cast", opCast, "", false},
	{"Ceil", opElementwise, "", false},
	{"Celu", opElementwise, "", false},
	{"Clip", opClip, "", false},
	{"Concat", opConcat, "", false},
	{"Constant", opConstant, "", false},
	{"ConstantOfShape", opConstantOfShape, "", true},
	{"Conv", opConv, "", false},
	{"ConvInteger", quantLayer, "", false},
	{"ConvTranspose", opConvTranspose, "", false},
	{"Cos", opElementwise, "", false},
	{"DepthToSpace", opDepthToSpace, "", false},
	{"DequantizeLinear", opQuantize, "", false},
	{"Div", binaryOp, model.OpDiv, false},
	{"Dropout", opIdentity, "", false},
	{"DynamicQuantizeLinear", opQuantize, "", false},
	{"Elu", opElementwise, "", false},
	{"Equal", opElementwise, "", false},
	{"Erf", opElementwise, "", false},
	{"Exp", opElementwise, "", false},
	{"Expand", opExpand, "", false},
	{"Flatten", opFlatten, "", false},
	{"Floor", opElementwise, "", false},
	{"GRU", opRNN, "", false},
	{"Gather", opGather, "", false},
	{"Gelu", unary, model.OpGELU, false},
	{"Gemm", opGemm, "", false},
	{"GlobalAveragePool", opGlobalPool, model.OpGlobalAvgPool, false},
	{"GlobalMaxPool", opGlobalPool, model.OpMaxPool, false},
	{"Greater", opElementwise, "", false},
	{"GreaterOrEqual", opElementwise, "", false},
	{"HardSigmoid", unary, model.OpHardSigmoid, false},
	{"HardSwish", unary, model.OpHardSwish, false},
	{"Identity", opIdentity, "", false},
	{"If", nil, "", false}, // opIf (set in node: it refers back to the table)
	{"InstanceNormalization", opInstanceNorm, "", false},
	{"LRN", opLRN, "", false},
	{"LSTM", opRNN, "", false},
	{"LayerNormalization", opLayerNorm, "", false},
	{"LeakyRelu", unary, model.OpLeakyReLU, false},
	{"Less", opElementwise, "", false},
	{"LessOrEqual", opElementwise, "", false},
	{"Log", opElementwise, "", false},
	{"LogSoftmax", opSoftmax, "", false},
	{"MatMul", opMatMul, "", false},
	{"MatMulInteger", quantLayer, "", false},
	{"Max", opElementwise, "", false},
	{"MaxPool", opPool, model.OpMaxPool, false},
	{"Mean", opElementwise, "", false},
	{"Min", opElementwise, "", false},
	{"Mish", opElementwise, "", false},
	{"Mod", opElementwise, "", false},
	{"Mul", binaryOp, model.OpMul, false},
	{"Neg", opElementwise, "", false},
	{"Not", opElementwise, "", false},
	{"Or", opElementwise, "", false},
	{"PRelu", opElementwise, "", false},
	{"Pad", opPad, "", false},
	{"Pow", opElementwise, "", false},
	{"QLinearConv", quantLayer, "", false},
	{"QLinearMatMul", quantLayer, "", false},
	{"QuantizeLinear", opQuantize, "", false},
	{"RNN", opRNN, "", false},
	{"Range", opRange, "", true},
	{"Reciprocal", opElementwise, "", false},
	{"ReduceL1", opReduce, "", false},
	{"ReduceL2", opReduce, "", false},
	{"ReduceLogSum", opReduce, "", false},
	{"ReduceLogSumExp", opReduce, "", false},
	{"ReduceMax", opReduce, "", false},
	{"ReduceMean", opReduce, "", false},
	{"ReduceMin", opReduce, "", false},
	{"ReduceProd", opReduce, "", false},
	{"ReduceSum", opReduce, "", false},
	{"ReduceSumSquare", opReduce, "", false},
	{"Relu", unary, model.OpReLU, false},
	{"Reshape", opReshape, "", false},
	{"Resize", opResize, "", false},
	{"Round", opElementwise, "", false},
	{"Selu", opElementwise, "", false},
	{"Shape", opShape, "", false},
	{"Sigmoid", unary, model.OpSigmoid, false},
	{"Sign", opElementwise, "", false},
	{"Sin", opElementwise, "", false},
	{"Size", opSize, "", false},
	{"Slice", opSlice, "", false},
	{"Softmax", opSoftmax, "", false},
	{"Softplus", opElementwise, "", false},
	{"Softsign", opElementwise, "", false},
	{"SpaceToDepth", opDepthToSpace, "", false},
	{"Split", opSplit, "", false},
	{"Sqrt", opElementwise, "", false},
	{"Squeeze", opSqueeze, "", false},
	{"Sub", binaryOp, model.OpSub, false},
	{"Sum", opElementwise, "", false},
	{"Tanh", unary, model.OpTanh, false},
	{"ThresholdedRelu", opElementwise, "", false},
	{"Tile", opTile, "", false},
	{"Transpose", opTranspose, "", false},
	{"Unsqueeze", opUnsqueeze, "", false},
	{"Upsample", opResize, "", false},
	{"Where", opElementwise, "", false},
	{"Xor", opElementwise, "", false},
}

// scalerDef is ai.onnx.ml's Scaler.
var scalerDef = opDef{"Scaler", opScaler, "", false}

func findOp(name string) *opDef {
	lo, hi := 0, len(opDefs)
	for lo < hi {
		m := (lo + hi) / 2
		if opDefs[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(opDefs) && opDefs[lo].name == name {
		return &opDefs[lo]
	}
	return nil
}

// SupportedOps lists the ONNX operators the reader accepts, sorted. Those
// marked "(constants only)" are folded at read time and are errors on a
// tensor computed from a graph input.
func SupportedOps() []string {
	out := make([]string, 0, len(opDefs))
	for _, d := range opDefs {
		if d.constOnly {
			out = append(out, d.name+" (constants only)")
		} else {
			out = append(out, d.name)
		}
	}
	return out
}

func supportedList() string {
	var b strings.Builder
	for _, d := range opDefs {
		if !d.constOnly {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.name)
		}
	}
	return b.String()
}

// opFor returns how node n is converted, or nil and why not.
func opFor(n *nodeProto) (*opDef, string) {
	switch n.domain {
	case "", "ai.onnx":
		if h := findOp(n.op); h != nil {
			return h, ""
		}
		switch n.op {
		case "Loop", "Scan":
			return nil, "loops cannot be unrolled into a fixed graph"
		case "":
			return nil, "a node without an operator type"
		}
		return nil, ""
	case "ai.onnx.ml":
		if n.op == "Scaler" {
			return &scalerDef, ""
		}
	}
	return nil, "only the default ONNX domain (and ai.onnx.ml's Scaler) is supported"
}

// unsupported lists every operator of the graph that has no conversion.
func unsupported(nodes []*nodeProto) error {
	var e UnsupportedOpsError
	index := map[[2]string]int{}
	for _, n := range nodes {
		if h, why := opFor(n); h == nil {
			key := [2]string{n.op, n.domain}
			if k, ok := index[key]; ok {
				e.Ops[k].Count++
				continue
			}
			index[key] = len(e.Ops)
			e.Ops = append(e.Ops, UnsupportedOp{Op: n.op, Domain: n.domain, Count: 1, FirstNode: nodeName(n), Why: why})
		}
	}
	if len(e.Ops) > 0 {
		return &e
	}
	return nil
}

// node converts one ONNX node.
func (r *reader) node(n *nodeProto) error {
	h, _ := opFor(n)
	if h == nil {
		return unsupported([]*nodeProto{n})
	}
	for _, a := range n.attrs {
		if a.graph && (n.op != "If" || a.g == nil) {
			return nodeError(n, "attribute %q holds a subgraph: operators with subgraphs (If, Loop, Scan) are not supported", a.name)
		}
		if a.refName != "" {
			return nodeError(n, "attribute %q refers to a function attribute (%q), which is only valid inside a function", a.name, a.refName)
		}
	}
	c := &nctx{r: r, n: n, def: h, name: nodeName(n)}
	allConst := true
	for _, in := range n.inputs {
		if in == "" {
			c.in = append(c.in, nil)
			continue
		}
		v := r.vals[in]
		if v == nil {
			return nodeError(n, "input %q is not defined", in)
		}
		if v.c == nil {
			allConst = false
		}
		c.in = append(c.in, v)
	}
	if h.constOnly && !allConst {
		return c.errf("operator %s is supported only on constants (shape computations), but an input is computed from the graph input; supported operators on activations are %s", n.op, supportedList())
	}
	fn := h.fn
	if fn == nil {
		fn = opIf
	}
	outs, err := fn(c)
	if err != nil {
		return c.named(err)
	}
	for k, name := range n.outputs {
		if name == "" {
			continue
		}
		if k >= len(outs) || outs[k] == nil {
			if r.uses[name] > 0 {
				return c.errf("output %d (%q) is used, but this reader only models the operator's main output", k, name)
			}
			continue
		}
		v := *outs[k]
		v.name = name
		if v.c != nil && v.c.name == "" {
			cc := *v.c
			cc.name = name
			v.c = &cc
		}
		if v.c != nil && v.c.t == nil && v.c.v == nil && v.c.from == "" {
			cc := *v.c
			cc.from = label(n)
			if cc.unknown == "" {
				cc.unknown = c.unknownReason(name, v.shape)
			}
			v.c = &cc
		}
		if v.c == nil && v.ir == "" && v.pad == nil {
			return c.errf("internal error: output %q has no IR node", name)
		}
		if err := checkFull(v.shape, fmt.Sprintf("output %q", name)); err != nil {
			return c.errf("%v", err)
		}
		if v.c == nil {
			for i, d := range v.shape {
				if d == 0 {
					return c.errf("output %q has shape %v, empty on axis %d: empty tensors cannot be modelled", name, v.shape, i)
				}
			}
		}
		r.vals[name] = &v
	}
	return nil
}

// unknownReason says why the node's constant output name, of the given
// shape, has no known values: too many elements, an operator the reader
// does not evaluate, or an input whose values are not known either (then
// the input's own reason, which names where the chain starts).
func (c *nctx) unknownReason(name string, shape []int) string {
	by := fmt.Sprintf("node %s computes %q", label(c.n), name)
	if n := prod(shape); n > maxDecode {
		return fmt.Sprintf("%s with %d elements, more than the %d this reader evaluates", by, n, maxDecode)
	}
	for _, in := range c.in {
		if in == nil || in.c == nil || in.c.v != nil {
			continue
		}
		if in.c.t == nil && in.c.unknown != "" {
			return in.c.unknown
		}
		if in.c.t != nil {
			if n, err := elems(in.c.t.dims, ""); err != nil || n > maxDecode {
				return fmt.Sprintf("%s from %q, which has more than the %d elements this reader evaluates", by, in.name, maxDecode)
			}
		}
	}
	return fmt.Sprintf("%s, and this reader does not evaluate %s on constants", by, c.n.op)
}

func nodeName(n *nodeProto) string {
	switch {
	case n.name != "":
		return n.name
	case len(n.outputs) > 0 && n.outputs[0] != "":
		return n.outputs[0]
	}
	return fmt.Sprintf("%s_%d", n.op, n.index)
}

// input returns input k, or nil if it is absent.
func (c *nctx) input(k int) *val {
	if k < len(c.in) {
		return c.in[k]
	}
	return nil
}

// need returns input k, which must be present.
func (c *nctx) need(k int) (*val, error) {
	if v := c.input(k); v != nil {
		return v, nil
	}
	return nil, c.errf("input %d is missing: the operator needs it", k)
}

// Attributes.

func (c *nctx) attr(name string) *attribute {
	var found *attribute
	for _, a := range c.n.attrs {
		if a.name == name {
			found = a
		}
	}
	return found
}

func (c *nctx) attrInt(name string, def int64) (int64, error) {
	a := c.attr(name)
	if a == nil {
		return def, nil
	}
	if !a.hasType(attrInt) {
		return 0, c.errf("attribute %q should be an integer", name)
	}
	return a.i, nil
}

func (c *nctx) attrFloat(name string, def float64) (float64, error) {
	a := c.attr(name)
	if a == nil {
		return def, nil
	}
	if !a.hasType(attrFloat) {
		return 0, c.errf("attribute %q should be a float", name)
	}
	return float64(a.f), nil
}

func (c *nctx) attrString(name, def string) (string, error) {
	a := c.attr(name)
	if a == nil {
		return def, nil
	}
	if !a.hasType(attrString) {
		return "", c.errf("attribute %q should be a string", name)
	}
	return a.s, nil
}

// attrInts returns a list attribute, and whether it is present.
func (c *nctx) attrInts(name string) ([]int64, bool, error) {
	a := c.attr(name)
	if a == nil {
		return nil, false, nil
	}
	if !a.hasType(attrInts) && a.typ != attrInts {
		return nil, false, c.errf("attribute %q should be a list of integers", name)
	}
	return a.ints, true, nil
}

func (c *nctx) attrFloats(name string) ([]float32, bool, error) {
	a := c.attr(name)
	if a == nil {
		return nil, false, nil
	}
	if !a.hasType(attrFloats) && a.typ != attrFloats {
		return nil, false, c.errf("attribute %q should be a list of floats", name)
	}
	return a.floats, true, nil
}

// Constant operands.

// values returns a constant's values, decoding its tensor on first use.
func (r *reader) values(v *val) (*values, error) {
	if v.c == nil {
		return nil, fmt.Errorf("%q is computed from the graph input, not a constant", v.name)
	}
	if v.c.v != nil {
		return v.c.v, nil
	}
	if v.c.t == nil {
		why := v.c.unknown
		switch {
		case why == "":
			why = fmt.Sprintf("this reader does not compute it, or it has more than %d elements", maxDecode)
		case !strings.HasPrefix(why, "node "+v.c.from+" "):
			why = fmt.Sprintf("node %s computes it from unknown values: %s", v.c.from, why)
		}
		return nil, fmt.Errorf("the values of constant %q are not known when the model is read: %s", v.name, why)
	}
	vals, err := r.decode(v.c.t, fmt.Sprintf("constant %q", v.name))
	if err != nil {
		return nil, err
	}
	v.c.v = vals
	return vals, nil
}

// constInts returns the integer values of input k (nil, false if absent).
func (c *nctx) constInts(k int, what string) ([]int64, bool, error) {
	v := c.input(k)
	if v == nil {
		return nil, false, nil
	}
	if v.c == nil {
		return nil, false, c.errf("%s (input %d, %q) must be a constant, but it is computed from the graph input: dynamic shapes are not supported", what, k, v.name)
	}
	vals, err := c.r.values(v)
	if err != nil {
		return nil, false, c.errf("%s: %v", what, err)
	}
	if vals.i != nil {
		return vals.i, true, nil
	}
	out := make([]int64, len(vals.f))
	for i, f := range vals.f {
		if math.IsNaN(f) || f > math.MaxInt64/2 || f < math.MinInt64/2 {
			return nil, false, c.errf("%s: value %v is not an integer", what, f)
		}
		out[i] = int64(f)
	}
	return out, true, nil
}

func (c *nctx) constFloats(k int, what string) ([]float64, bool, error) {
	v := c.input(k)
	if v == nil {
		return nil, false, nil
	}
	if v.c == nil {
		return nil, false, c.errf("%s (input %d, %q) must be a constant, but it is computed from the graph input", what, k, v.name)
	}
	vals, err := c.r.values(v)
	if err != nil {
		return nil, false, c.errf("%s: %v", what, err)
	}
	return vals.f, true, nil
}

// axis normalises an ONNX axis (negative counts from the end).
func (c *nctx) axis(a int64, rank int, what string) (int, error) {
	if a < -int64(rank) || a >= int64(rank) {
		return 0, c.errf("%s = %d is out of range for rank %d: it must be from %d to %d", what, a, rank, -rank, rank-1)
	}
	if a < 0 {
		a += int64(rank)
	}
	return int(a), nil
}

// irAxis translates a full axis of v to its IR axis.
func (c *nctx) irAxis(v *val, a int, what string) (int, error) {
	if a == v.batch {
		return 0, c.errf("%s = %d is the batch axis of %q (shape %v): operations across the batch are not supported", what, a, v.name, v.shape)
	}
	if v.batch >= 0 && a > v.batch {
		return a - 1, nil
	}
	return a, nil
}

// emit adds an IR node for value v (v.ir is set) and returns v.
func (c *nctx) emit(n *model.Node, v *val) *val {
	if n.Name == "" {
		n.Name = c.name
	}
	v.ir = c.r.add(n, v)
	return v
}

// folded returns a constant value of the given shape (values optional).
func folded(shape []int, vals *values) *val {
	return &val{shape: shape, batch: -1, c: &konst{v: vals}}
}

func clone(s []int) []int { return append([]int(nil), s...) }

func prod(s []int) int64 {
	n := int64(1)
	for _, d := range s {
		n *= int64(d)
	}
	return n
}

// maybeValues returns a constant's values if they can be had, else nil.
func (r *reader) maybeValues(v *val) *values {
	if v.c == nil {
		return nil
	}
	if v.c.t != nil && v.c.v == nil {
		if n, err := elems(v.c.t.dims, ""); err != nil || n > maxDecode {
			return nil
		}
	}
	vals, err := r.values(v)
	if err != nil {
		return nil
	}
	return vals
}
