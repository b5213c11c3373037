package onnx

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// val is one ONNX value (a tensor named by node inputs and outputs) as the
// converter knows it.
type val struct {
	name  string
	shape []int // full ONNX shape, batch included (at its concrete size)
	batch int   // axis of the batch in shape, or -1 (constants, batch-free tensors)
	ir    string
	c     *konst // non-nil: a compile-time constant (no IR node unless an operand needs one)
	pad   *pendingPad
	dtype int32
	wbits int // a constant quantized weight's integer bit width, kept through DequantizeLinear, Transpose and Reshape (0: none)
}

// konst is a constant's source tensor and, once known, its values.
type konst struct {
	t    *tensorProto // source (initializer or Constant attribute); nil when computed
	v    *values      // decoded or folded values; nil when not known
	name string
	init bool // a graph initializer (else a Constant node or folded)
	// For a computed constant whose values are not known (v and t nil):
	// from labels the node that computes it, and unknown says why, naming
	// the node where the chain of unknown values starts (bounded text,
	// whatever the chain's length).
	from, unknown string
}

// pendingPad is a Pad whose IR node is made only if a consumer cannot
// absorb it into its own padding.
type pendingPad struct {
	src   *val
	pads  []int // full rank: begins then ends
	mode  string
	value float64
}

type reader struct {
	opt       Options
	mp        *modelProto
	opset     int64
	g         *model.Graph
	vals      map[string]*val
	names     map[string]bool
	dup       map[string]int    // suffixes handed out per base name
	consts    map[string]string // constant name + IR shape -> Constant node
	linear    map[string]*model.Node
	uses      map[string]int // consumers of each value (node inputs and graph outputs)
	batchSize int
	irOf      map[string]*val // IR node name -> value it holds (shape check)

	graphInputs map[string]bool       // names of the graph inputs (not initializers)
	producer    map[string]*nodeProto // node writing each value, outer graph and branches taken
}

func convert(mp *modelProto, opt Options) (*model.Graph, error) {
	gp := mp.graph
	name := gp.name
	if name == "" {
		name = opt.Name
	}
	if name == "" {
		name = "model"
	}
	r := &reader{opt: opt, mp: mp, opset: mp.opsets[""], g: model.New(name), vals: map[string]*val{},
		names: map[string]bool{}, dup: map[string]int{}, consts: map[string]string{}, linear: map[string]*model.Node{},
		uses: map[string]int{}, batchSize: 1, irOf: map[string]*val{},
		graphInputs: map[string]bool{}, producer: map[string]*nodeProto{}}
	if _, ok := mp.opsets[""]; !ok {
		r.opset = 13 // no opset import: assume a recent default-domain opset
	}
	if gp.sparse {
		return nil, fmt.Errorf("the graph has sparse initializers, which this reader does not support")
	}
	if len(gp.nodes) == 0 {
		return nil, fmt.Errorf("graph %q has no nodes", name)
	}
	// Initializers: constants known by name, validated against their data.
	if err := r.initializers(gp.inits, false); err != nil {
		return nil, err
	}
	if err := r.inputs(gp); err != nil {
		return nil, err
	}
	captures(gp.nodes)
	order, err := r.order(gp)
	if err != nil {
		return nil, err
	}
	if err := unsupported(order); err != nil {
		return nil, err
	}
	r.count(order, gp.outputs)
	for _, n := range order {
		if err := r.node(n); err != nil {
			return nil, err
		}
	}
	if len(gp.outputs) == 0 {
		return nil, fmt.Errorf("graph %q declares no outputs", name)
	}
	var outs []string
	for _, o := range gp.outputs {
		v, ok := r.vals[o.name]
		if !ok {
			return nil, fmt.Errorf("graph output %q is not produced by any node, initializer or input", o.name)
		}
		ir, err := r.irNode(v)
		if err != nil {
			return nil, fmt.Errorf("graph output %q: %w", o.name, err)
		}
		outs = append(outs, ir)
	}
	r.prune(outs)
	if err := r.g.Infer(); err != nil {
		return nil, err
	}
	// Every IR node must have the shape the converter computed with ONNX's
	// rules; a difference is a bug in this package, never silently kept.
	for i, n := range r.g.Nodes {
		if v := r.irOf[n.Name]; v != nil {
			if want := irShape(v); !n.Out.Equal(want) {
				return nil, fmt.Errorf("internal error: IR node %q (%s) infers shape %v, ONNX rules give %v (value %q, full shape %v): please report this model", n.Name, n.Op, r.g.Nodes[i].Out, want, v.name, v.shape)
			}
		}
	}
	return r.g, nil
}

// initializers makes constants of a graph's initializers, validated
// against their data. A branch's may not shadow a value of the enclosing
// graph.
func (r *reader) initializers(inits []*tensorProto, branch bool) error {
	for i, t := range inits {
		if t.name == "" {
			return fmt.Errorf("initializer %d has no name", i)
		}
		if _, dup := r.vals[t.name]; dup && branch {
			return fmt.Errorf("initializer %q shadows a value of the enclosing graph: ONNX names must be unique", t.name)
		}
		what := fmt.Sprintf("initializer %q", t.name)
		if err := r.check(t, what); err != nil {
			return err
		}
		shape, err := dimsShape(t.dims, what)
		if err != nil {
			return err
		}
		r.vals[t.name] = &val{name: t.name, shape: shape, batch: -1, dtype: t.dtype, c: &konst{t: t, name: t.name, init: true}}
	}
	return nil
}

// count records the consumers of every value (node inputs, values read
// by subgraphs, graph outputs) and the producer of every node output.
func (r *reader) count(order []*nodeProto, outputs []*valueInfo) {
	for _, n := range order {
		for _, in := range n.inputs {
			if in != "" {
				r.uses[in]++
			}
		}
		for _, in := range n.captures {
			r.uses[in]++
		}
		for _, o := range n.outputs {
			if o != "" {
				r.producer[o] = n
			}
		}
	}
	for _, o := range outputs {
		r.uses[o.name]++
	}
}

// dimsShape converts tensor dims to ints.
func dimsShape(dims []int64, what string) ([]int, error) {
	if _, err := elems(dims, what); err != nil {
		return nil, err
	}
	out := make([]int, len(dims))
	for i, d := range dims {
		out[i] = int(d)
	}
	return out, nil
}

// inputs creates the IR Input nodes: graph inputs that are not
// initializers. An input given values becomes a constant instead.
func (r *reader) inputs(gp *graphProto) error {
	settings := map[string]*InputSetting{}
	for k := range r.opt.Inputs {
		s := &r.opt.Inputs[k]
		if settings[s.Name] != nil {
			return fmt.Errorf("input %q is set twice", s.Name)
		}
		settings[s.Name] = s
	}
	known := map[string]bool{}
	for _, x := range graphInputs(gp) {
		known[x.Name] = true
	}
	for _, s := range r.opt.Inputs {
		if !known[s.Name] {
			var names []string
			for _, x := range graphInputs(gp) {
				names = append(names, x.Name)
			}
			return fmt.Errorf("input %q is not a graph input of this model; its inputs are %s", s.Name, strings.Join(names, ", "))
		}
	}
	first := true
	var dynErr *DynamicShapeError // every input with dynamic dimensions, the first holding the rest
	for _, in := range gp.inputs {
		if in.name == "" {
			return fmt.Errorf("a graph input has no name")
		}
		if v, ok := r.vals[in.name]; ok {
			if v.c != nil && v.c.init {
				continue // an initializer listed as an input (IR version < 4)
			}
			return fmt.Errorf("graph input %q is declared twice", in.name)
		}
		if !in.hasType {
			return fmt.Errorf("graph input %q is not a tensor (or has no type): only tensor inputs are supported", in.name)
		}
		set := settings[in.name]
		given := set != nil && len(set.Shape) > 0
		want := []int(nil)
		if given {
			want = set.Shape
			if first && len(r.opt.InputShape) > 0 && !slices.Equal(set.Shape, r.opt.InputShape) {
				return fmt.Errorf("graph input %q is given two shapes: %v by the input shape option (--input-shape, input_shape) and %v by its own setting (--input %s=..., inputs): give it once", in.name, r.opt.InputShape, set.Shape, in.name)
			}
		} else if first && len(r.opt.InputShape) > 0 {
			given, want = true, r.opt.InputShape
		}
		bax := batchAxis(in.dims)
		if !in.hasShape {
			bax = 0
		}
		var shape []int
		switch {
		case given && !in.hasShape:
			shape = append(shape, want...)
		case !in.hasShape && set != nil && len(set.Value) > 0:
			shape = []int{len(set.Value)}
		case !in.hasShape:
			return fmt.Errorf("graph input %q has no shape: give it with %s (the full shape, batch first)", in.name, inputFlag(in.name, []int{-1, -1}, nil, 0))
		default:
			if given && len(want) != len(in.dims) {
				return fmt.Errorf("input shape %v has rank %d, graph input %q has rank %d", want, len(want), in.name, len(in.dims))
			}
			var dyn []int
			for i, d := range in.dims {
				switch {
				case given:
					s := want[i]
					if d.known && d.value > 0 && int64(s) != d.value {
						return fmt.Errorf("input shape %v gives dimension %d = %d, but the model fixes it to %d (graph input %q)", want, i, s, d.value, in.name)
					}
					shape = append(shape, s)
				case d.known && d.value > 0:
					if d.value > model.MaxElems {
						return fmt.Errorf("graph input %q has dimension %d = %d: each must be from 1 to %d", in.name, i, d.value, model.MaxElems)
					}
					shape = append(shape, int(d.value))
				case i == bax:
					shape = append(shape, 1) // a dynamic batch
				case set != nil && len(set.Value) > 0 && len(in.dims) == 1:
					shape = append(shape, len(set.Value))
				default:
					shape = append(shape, 1)
					dyn = append(dyn, i)
				}
			}
			if len(dyn) > 0 {
				decl := graphInputs(&graphProto{inputs: []*valueInfo{in}})[0]
				e := &DynamicShapeError{Input: in.name, Declared: decl.Shape, DimNames: decl.DimNames, Dims: dyn,
					Flag: inputFlag(in.name, decl.Shape, decl.DimNames, bax)}
				if dynErr == nil {
					dynErr = e
				} else {
					dynErr.More = append(dynErr.More, e)
				}
				first = false
				continue
			}
		}
		for i, d := range shape {
			if d <= 0 {
				return fmt.Errorf("graph input %q: dimension %d = %d: every dimension must be positive", in.name, i, d)
			}
		}
		if err := checkFull(shape, "graph input "+in.name); err != nil {
			return err
		}
		if set != nil && len(set.Value) > 0 {
			if int64(len(set.Value)) != prod(shape) {
				return fmt.Errorf("input %q: %d values given for shape %v (%d elements)", in.name, len(set.Value), shape, prod(shape))
			}
			vals := &values{f: make([]float64, len(set.Value)), i: append([]int64(nil), set.Value...)}
			for k, x := range set.Value {
				vals.f[k] = float64(x)
			}
			r.vals[in.name] = &val{name: in.name, shape: shape, batch: -1, dtype: in.elem, c: &konst{v: vals, name: in.name}}
			continue
		}
		if len(shape) == 0 || bax >= len(shape) {
			bax = -1
		}
		if first && bax >= 0 {
			r.batchSize = shape[bax]
		}
		first = false
		v := &val{name: in.name, shape: shape, batch: bax, dtype: in.elem}
		r.vals[in.name] = v
		r.graphInputs[in.name] = true
		v.ir = r.add(&model.Node{Name: in.name, Op: model.OpInput, Shape: irShape(v)}, v)
	}
	if dynErr != nil {
		return dynErr
	}
	if first {
		return fmt.Errorf("the graph has no inputs besides its initializers and inputs given values: nothing to compute on")
	}
	return nil
}

// checkFull bounds a full shape.
func checkFull(shape []int, what string) error {
	n := int64(1)
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("%s has dimension %d = %d", what, i, d)
		}
		if d > 0 && n > model.MaxElems/int64(d) {
			return fmt.Errorf("%s has shape %v, more than %d elements: too large to model", what, shape, model.MaxElems)
		}
		n *= int64(d)
	}
	return nil
}

// order sorts the nodes topologically (ONNX requires it, not every
// exporter obeys), finding missing inputs, duplicate outputs and cycles.
func (r *reader) order(gp *graphProto) ([]*nodeProto, error) {
	producer := map[string]int{}
	for i, n := range gp.nodes {
		for _, o := range n.outputs {
			if o == "" {
				continue
			}
			if j, dup := producer[o]; dup {
				return nil, nodeError(n, "value %q is produced twice (by node %s too): ONNX values have one producer", o, label(gp.nodes[j]))
			}
			if _, known := r.vals[o]; known {
				return nil, nodeError(n, "writes %q, which is already a graph input or initializer", o)
			}
			producer[o] = i
		}
	}
	indeg := make([]int, len(gp.nodes))
	cons := make([][]int, len(gp.nodes))
	for i, n := range gp.nodes {
		for k, in := range append(n.inputs[:len(n.inputs):len(n.inputs)], n.captures...) {
			if in == "" {
				continue
			}
			if _, ok := r.vals[in]; ok {
				continue
			}
			j, ok := producer[in]
			if !ok {
				if k >= len(n.inputs) {
					return nil, nodeError(n, "a subgraph reads %q, which no node, initializer or graph input provides (a missing input)", in)
				}
				return nil, nodeError(n, "input %d names %q, which no node, initializer or graph input provides (a missing input)", k, in)
			}
			indeg[i]++
			cons[j] = append(cons[j], i)
		}
	}
	var out []int
	ready := &minHeap{}
	for i := range gp.nodes {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	for ready.Len() > 0 {
		// Smallest index first keeps the file's order when it is valid.
		i := heap.Pop(ready).(int)
		out = append(out, i)
		for _, c := range cons[i] {
			indeg[c]--
			if indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	if len(out) != len(gp.nodes) {
		var names []string
		for i, d := range indeg {
			if d > 0 {
				names = append(names, label(gp.nodes[i]))
				if len(names) == 8 {
					names = append(names, "...")
					break
				}
			}
		}
		return nil, fmt.Errorf("the graph has a cycle through nodes %s: a network must be acyclic", strings.Join(names, ", "))
	}
	nodes := make([]*nodeProto, len(out))
	for k, i := range out {
		nodes[k] = gp.nodes[i]
	}
	return nodes, nil
}

// nodeError is a *model.NodeError for ONNX node n, named as the IR names
// it (nodeName: its name, else its first output), with a formatted reason.
func nodeError(n *nodeProto, format string, a ...any) error {
	return &model.NodeError{Node: nodeName(n), Op: n.op, Err: fmt.Errorf(format, a...)}
}

// label names a node for messages: its name, or its first output.
func label(n *nodeProto) string {
	switch {
	case n.name != "":
		return fmt.Sprintf("%q (%s)", n.name, n.op)
	case len(n.outputs) > 0 && n.outputs[0] != "":
		return fmt.Sprintf("%d (%s, output %q)", n.index, n.op, n.outputs[0])
	}
	return fmt.Sprintf("%d (%s)", n.index, n.op)
}

// irShape is a value's shape without its batch axis ([1] for a scalar).
func irShape(v *val) model.Shape {
	s := make(model.Shape, 0, len(v.shape))
	for i, d := range v.shape {
		if i != v.batch {
			s = append(s, d)
		}
	}
	if len(s) == 0 {
		s = model.Shape{1}
	}
	return s
}

// add appends an IR node under a unique name and records the value it
// holds (nil for helper nodes whose shape Infer alone checks).
func (r *reader) add(n *model.Node, v *val) string {
	base := n.Name
	if base == "" {
		base = strings.ToLower(string(n.Op))
	}
	name := base
	for r.names[name] {
		r.dup[base]++
		name = fmt.Sprintf("%s#%d", base, r.dup[base]+1)
	}
	n.Name = name
	r.names[name] = true
	r.g.Add(n)
	if v != nil {
		r.irOf[name] = v
	}
	return name
}

// irNode returns the IR node holding v, making a Constant or Pad node when
// v has none yet.
func (r *reader) irNode(v *val) (string, error) {
	if v.ir != "" {
		return v.ir, nil
	}
	if v.pad != nil {
		src, err := r.irNode(v.pad.src)
		if err != nil {
			return "", err
		}
		var pads []int
		rank := len(v.shape)
		for _, half := range [2]int{0, rank} {
			for i := 0; i < rank; i++ {
				if i != v.pad.src.batch {
					pads = append(pads, v.pad.pads[half+i])
				}
			}
		}
		if len(v.shape) == 1 && v.batch == 0 {
			pads = []int{0, 0} // [N] -> IR [1]: nothing to pad
		}
		v.ir = r.add(&model.Node{Name: v.name, Op: model.OpPad, Inputs: []string{src}, Pads: pads}, v)
		return v.ir, nil
	}
	if v.c != nil {
		return r.constNode(v, irShape(v))
	}
	return "", fmt.Errorf("value %q has no IR node", v.name)
}

// constNode returns a Constant node of the given IR shape for constant v.
func (r *reader) constNode(v *val, shape model.Shape) (string, error) {
	if err := checkFull(shape, "constant "+v.name); err != nil {
		return "", err
	}
	for _, d := range shape {
		if d == 0 {
			return "", fmt.Errorf("constant %q has an empty shape %v: it cannot be an operand", v.name, v.shape)
		}
	}
	key := v.name + "\x00" + shape.String()
	if name, ok := r.consts[key]; ok {
		return name, nil
	}
	cv := &val{name: v.name, shape: append([]int(nil), shape...), batch: -1}
	name := r.add(&model.Node{Name: v.name, Op: model.OpConstant, Shape: shape}, cv)
	r.consts[key] = name
	return name, nil
}

// aligned returns an IR node for operand v of an op whose output has rank
// outRank and its batch at outBatch (-1: none), with numpy-style right
// alignment: v's axis that lines up with the output's batch axis is left
// out of its IR shape. A constant (or batch-free activation) must have 1
// or the batch size there.
func (r *reader) aligned(v *val, outRank, outBatch int, ctx *nctx) (string, error) {
	p := -1
	if outBatch >= 0 {
		p = outBatch - (outRank - len(v.shape))
	}
	if p < 0 || p >= len(v.shape) {
		p = -1
	}
	if v.batch >= 0 {
		if v.batch != p {
			return "", ctx.errf("operand %q has its batch on axis %d, which does not line up with the output's batch axis %d", v.name, v.batch, outBatch)
		}
		return r.irNode(v)
	}
	if p < 0 {
		return r.irNode(v)
	}
	if d := v.shape[p]; d != 1 && d != r.batchSize {
		return "", ctx.errf("operand %q (shape %v) has %d on the axis that lines up with the batch axis: only 1 or the batch size %d can broadcast", v.name, v.shape, d, r.batchSize)
	}
	stripped := &val{name: v.name, shape: v.shape, batch: p}
	s := irShape(stripped)
	if v.c != nil {
		return r.constNode(v, s)
	}
	src, err := r.irNode(v)
	if err != nil {
		return "", err
	}
	if v.shape[p] != 1 {
		return "", ctx.errf("operand %q (shape %v) carries no batch axis but has %d elements on the output's batch axis", v.name, v.shape, v.shape[p])
	}
	return r.add(&model.Node{Name: ctx.name + "/align", Op: model.OpReshape, Inputs: []string{src}, Shape: s}, stripped), nil
}

// prune drops IR nodes that no graph output depends on (unused branches,
// Dropout masks, helper constants), keeping the added order.
func (r *reader) prune(outs []string) {
	index := map[string]*model.Node{}
	for _, n := range r.g.Nodes {
		index[n.Name] = n
	}
	keep := map[string]bool{}
	stack := append([]string(nil), outs...)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if keep[s] {
			continue
		}
		keep[s] = true
		if n := index[s]; n != nil {
			stack = append(stack, n.Inputs...)
		}
	}
	var nodes []*model.Node
	for _, n := range r.g.Nodes {
		if keep[n.Name] {
			nodes = append(nodes, n)
		}
	}
	r.g.Nodes = nodes
}

// minHeap is a min-heap of node indices (container/heap's interface).
type minHeap []int

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
