// Package model holds the graph intermediate representation (IR) of a
// neural network: nodes with op kinds and attributes, validation,
// topological ordering, shape inference, and per-node statistics (weights,
// biases, parameters, multiply-accumulates, output size).
//
// A Graph is built by adding nodes (directly or through a Builder) and then
// calling Infer, which checks it, orders it topologically and infers every
// output shape. Shapes never include the batch dimension.
package model

import (
	"fmt"
	"sort"
	"strings"
)

// MaxElems bounds the element count of any tensor shape (2^40). Shapes above
// it are rejected during inference so that nothing downstream overflows or
// allocates without bound.
const MaxElems = int64(1) << 40

// MaxWeightBits is the widest per-layer weight precision a node may ask
// for (Node.WeightBits), the widest integer type a quantized ONNX weight
// comes in (int16) and the chip's own bound on weight_bits.
const MaxWeightBits = 16

// Node is one operation of the network.
type Node struct {
	Name   string   `json:"name"`
	Op     Op       `json:"op"`
	Inputs []string `json:"inputs,omitempty"` // names of producer nodes, in operand order

	Conv   *ConvSpec   `json:"conv,omitempty"`   // OpConv
	Linear *LinearSpec `json:"linear,omitempty"` // OpLinear
	Pool   *PoolSpec   `json:"pool,omitempty"`   // OpMaxPool, OpAvgPool

	// WeightBits is the precision of a Conv, ConvTranspose or Linear
	// layer's weights in bits, 1..MaxWeightBits (an imported quantized
	// weight's integer type); 0 (omitted) means the chip's weight_bits.
	WeightBits int `json:"weight_bits,omitempty"`

	Axis       int     `json:"axis,omitempty"`        // Concat, Softmax, Flatten, Slice
	Start      int     `json:"start,omitempty"`       // Slice
	End        int     `json:"end,omitempty"`         // Slice (exclusive)
	Step       int     `json:"step,omitempty"`        // Slice: keep every Step-th element (0 or 1: all)
	Shape      Shape   `json:"shape,omitempty"`       // Input, Parameter, Constant, Reshape target, Resize output
	Pads       []int   `json:"pads,omitempty"`        // Pad: before each axis, then after each axis
	Axes       []int   `json:"axes,omitempty"`        // Reduce
	KeepDims   bool    `json:"keep_dims,omitempty"`   // Reduce
	Mode       string  `json:"mode,omitempty"`        // Resize, Reduce, Elementwise
	Size       int     `json:"size,omitempty"`        // LRN: channels summed
	Table      Shape   `json:"table,omitempty"`       // Embedding: the table's [rows, width]
	Perm       []int   `json:"perm,omitempty"`        // Transpose
	Min        float64 `json:"min,omitempty"`         // Clip
	Max        float64 `json:"max,omitempty"`         // Clip
	TransposeB bool    `json:"transpose_b,omitempty"` // MatMul: second operand is [...,N,K]

	// Out is the inferred output shape; set by Graph.Infer.
	Out Shape `json:"out,omitempty"`

	in []int // resolved producer indices; set by Graph.Infer
}

// Graph is a network: nodes plus, after Infer, their order and shapes.
type Graph struct {
	Name  string  `json:"name"`
	Nodes []*Node `json:"nodes"`

	index     map[string]int
	consumers [][]int
	inferred  bool
}

// New returns an empty graph with the given name.
func New(name string) *Graph { return &Graph{Name: name} }

// Add appends a node. Nothing is checked until Infer.
func (g *Graph) Add(n *Node) {
	g.Nodes = append(g.Nodes, n)
	g.inferred = false
}

// Inferred reports whether Infer has succeeded since the last change.
func (g *Graph) Inferred() bool { return g.inferred }

// Producers returns the indices (into Nodes) of node i's inputs, in operand
// order. Valid after Infer.
func (g *Graph) Producers(i int) []int { return g.Nodes[i].in }

// Consumers returns the indices of the nodes that read node i's output, in
// ascending order. Valid after Infer.
func (g *Graph) Consumers(i int) []int { return g.consumers[i] }

// Index returns the position of the named node, or -1. Valid after Infer.
func (g *Graph) Index(name string) int {
	if i, ok := g.index[name]; ok {
		return i
	}
	return -1
}

// Infer validates the graph, reorders Nodes topologically (stable: among
// ready nodes the earliest added goes first, so a graph built in order keeps
// its order) and infers every node's output shape. Errors name the node and
// the offending value; an error that concerns one named node is a
// *NodeError (a cycle's names its first member).
func (g *Graph) Infer() error {
	g.inferred = false
	if len(g.Nodes) == 0 {
		return fmt.Errorf("graph %q has no nodes: add at least an Input node", g.Name)
	}
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		if n == nil {
			return fmt.Errorf("graph %q: node %d is nil", g.Name, i)
		}
		if n.Name == "" {
			return fmt.Errorf("graph %q: node %d (%s) has an empty name: every node needs a unique name", g.Name, i, n.Op)
		}
		if j, dup := index[n.Name]; dup {
			return nodeErrorf(n, "the name is used twice in graph %q (nodes %d and %d): names must be unique", g.Name, j, i)
		}
		index[n.Name] = i
		info, ok := ops[n.Op]
		if !ok {
			return &NodeError{Node: n.Name, Err: fmt.Errorf("unknown op %q: supported ops are %s", n.Op, opList())}
		}
		if len(n.Inputs) < info.minIn || (info.maxIn >= 0 && len(n.Inputs) > info.maxIn) {
			return nodeErrorf(n, "has %d inputs, wants %s", len(n.Inputs), arity(info))
		}
		if err := checkWeightBits(n); err != nil {
			return err
		}
	}
	// Resolve inputs and count in-degrees.
	in := make([][]int, len(g.Nodes))
	indeg := make([]int, len(g.Nodes))
	cons := make([][]int, len(g.Nodes))
	for i, n := range g.Nodes {
		in[i] = make([]int, len(n.Inputs))
		for k, name := range n.Inputs {
			j, ok := index[name]
			if !ok {
				return nodeErrorf(n, "input %d names %q, which is not a node of graph %q (dangling input): add that node or fix the name", k, name, g.Name)
			}
			if j == i {
				return nodeErrorf(n, "reads its own output: cycle %q -> %q: a network must be acyclic", n.Name, n.Name)
			}
			in[i][k] = j
			indeg[i]++
			cons[j] = append(cons[j], i)
		}
	}
	// Kahn's algorithm, always taking the smallest ready index (stable).
	order := make([]int, 0, len(g.Nodes))
	ready := &intHeap{}
	for i := range g.Nodes {
		if indeg[i] == 0 {
			ready.push(i)
		}
	}
	for ready.len() > 0 {
		i := ready.pop()
		order = append(order, i)
		for _, c := range cons[i] {
			indeg[c]--
			if indeg[c] == 0 {
				ready.push(c)
			}
		}
	}
	if len(order) != len(g.Nodes) {
		return g.cycleError(in, indeg)
	}
	// Reorder nodes and remap indices.
	pos := make([]int, len(g.Nodes))
	for p, i := range order {
		pos[i] = p
	}
	nodes := make([]*Node, len(g.Nodes))
	for p, i := range order {
		n := g.Nodes[i]
		n.in = make([]int, len(in[i]))
		for k, j := range in[i] {
			n.in[k] = pos[j]
		}
		nodes[p] = n
	}
	g.Nodes = nodes
	g.index = make(map[string]int, len(nodes))
	g.consumers = make([][]int, len(nodes))
	for p, n := range nodes {
		g.index[n.Name] = p
		for _, j := range n.in {
			g.consumers[j] = append(g.consumers[j], p)
		}
	}
	for _, c := range g.consumers {
		sort.Ints(c)
	}
	for _, n := range nodes {
		shapes := make([]Shape, len(n.in))
		for k, j := range n.in {
			shapes[k] = nodes[j].Out
		}
		out, err := inferShape(n, shapes)
		if err != nil {
			return &NodeError{Node: n.Name, Op: string(n.Op), Err: err}
		}
		if err := checkShape(out); err != nil {
			return &NodeError{Node: n.Name, Op: string(n.Op), Err: fmt.Errorf("output %w", err)}
		}
		n.Out = out
	}
	g.inferred = true
	return nil
}

// cycleError finds one cycle among the nodes Kahn's algorithm could not
// order and names its members.
func (g *Graph) cycleError(in [][]int, indeg []int) error {
	start := -1
	for i, d := range indeg {
		if d > 0 {
			start = i
			break
		}
	}
	// Walk backwards through unordered producers until a node repeats.
	seen := map[int]int{}
	path := []int{}
	i := start
	for {
		if at, ok := seen[i]; ok {
			cyc := path[at:]
			names := make([]string, 0, len(cyc)+1)
			for k := len(cyc) - 1; k >= 0; k-- {
				names = append(names, fmt.Sprintf("%q", g.Nodes[cyc[k]].Name))
			}
			names = append(names, names[0])
			return nodeErrorf(g.Nodes[cyc[len(cyc)-1]], "is on a cycle of graph %q: %s: a network must be acyclic", g.Name, strings.Join(names, " -> "))
		}
		seen[i] = len(path)
		path = append(path, i)
		next := -1
		for _, j := range in[i] {
			if indeg[j] > 0 {
				next = j
				break
			}
		}
		if next < 0 { // cannot happen: an unordered node has an unordered producer
			return nodeErrorf(g.Nodes[i], "is on a cycle of graph %q", g.Name)
		}
		i = next
	}
}

func arity(info opInfo) string {
	switch {
	case info.maxIn < 0:
		return fmt.Sprintf("at least %d", info.minIn)
	case info.minIn == info.maxIn:
		return fmt.Sprintf("exactly %d", info.minIn)
	default:
		return fmt.Sprintf("%d to %d", info.minIn, info.maxIn)
	}
}

// checkWeightBits validates a node's per-layer weight precision.
func checkWeightBits(n *Node) error {
	switch {
	case n.WeightBits == 0:
		return nil
	case !n.Op.Crossbar():
		return nodeErrorf(n, "weight_bits = %d, but only Conv, ConvTranspose and Linear layers have crossbar weights: remove weight_bits", n.WeightBits)
	case n.WeightBits < 1 || n.WeightBits > MaxWeightBits:
		return nodeErrorf(n, "weight_bits = %d is outside 1..%d: give the weights' bit width, or 0 (omit it) for the chip's weight_bits", n.WeightBits, MaxWeightBits)
	}
	return nil
}

func checkShape(s Shape) error {
	n := int64(1)
	for i, d := range s {
		if d <= 0 {
			return fmt.Errorf("shape %v has dimension %d = %d: dimensions must be positive", s, i, d)
		}
		if n > MaxElems/int64(d) {
			return fmt.Errorf("shape %v has more than %d elements: too large to model", s, MaxElems)
		}
		n *= int64(d)
	}
	return nil
}

// intHeap is a min-heap of ints (kept tiny to avoid container/heap's
// interface boxing in this one use).
type intHeap struct{ a []int }

func (h *intHeap) len() int { return len(h.a) }
func (h *intHeap) push(x int) {
	h.a = append(h.a, x)
	i := len(h.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.a[p] <= h.a[i] {
			break
		}
		h.a[p], h.a[i] = h.a[i], h.a[p]
		i = p
	}
}
func (h *intHeap) pop() int {
	top := h.a[0]
	last := len(h.a) - 1
	h.a[0] = h.a[last]
	h.a = h.a[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.a[l] < h.a[m] {
			m = l
		}
		if r < last && h.a[r] < h.a[m] {
			m = r
		}
		if m == i {
			break
		}
		h.a[m], h.a[i] = h.a[i], h.a[m]
		i = m
	}
	return top
}

// BeforeEveryLayer marks the nodes that come before every Conv/Linear
// layer: vector nodes whose inputs are all graph inputs, parameters,
// constants or other such nodes (a normalisation or ReLU on the input).
// The estimator gives each to the first layer that consumes it; every
// partition that holds any unit of that layer computes it whole (the
// scheduler on a pre-layer thread per home of the layer, since the
// layer's MVMs wait for it), loading its operands whole, and the
// estimator, the scheduler and the functional simulator all read this one
// rule. The graph must be inferred (nodes in topological order).
func (g *Graph) BeforeEveryLayer() []bool {
	pre := make([]bool, len(g.Nodes))
	outside := func(op Op) bool { return op == OpInput || op == OpParameter || op == OpConstant }
	for i, n := range g.Nodes {
		if n.Op.Crossbar() || outside(n.Op) {
			continue
		}
		pre[i] = true
		for _, p := range g.Producers(i) {
			if !pre[p] && !outside(g.Nodes[p].Op) {
				pre[i] = false
				break
			}
		}
	}
	return pre
}
