package model

import (
	"fmt"
	"strings"
)

// Builder assembles a graph one node at a time. Each method adds a node and
// returns its name, to be passed as the input of later nodes. An empty name
// is replaced by the op's name and a counter (conv3, relu7, ...). Nothing
// is checked until Build.
type Builder struct {
	g      *Graph
	counts map[Op]int
}

// NewBuilder starts a graph with the given name.
func NewBuilder(name string) *Builder {
	return &Builder{g: New(name), counts: map[Op]int{}}
}

// Node adds an arbitrary node and returns its name.
func (b *Builder) Node(n *Node) string {
	if n.Name == "" {
		b.counts[n.Op]++
		n.Name = fmt.Sprintf("%s%d", strings.ToLower(string(n.Op)), b.counts[n.Op])
	}
	b.g.Add(n)
	return n.Name
}

// Build infers the graph and returns it.
func (b *Builder) Build() (*Graph, error) {
	if err := b.g.Infer(); err != nil {
		return nil, err
	}
	return b.g, nil
}

// Input adds a graph input of the given shape (without batch).
func (b *Builder) Input(name string, shape ...int) string {
	return b.Node(&Node{Name: name, Op: OpInput, Shape: shape})
}

// Parameter adds a learned tensor such as a class token.
func (b *Builder) Parameter(name string, shape ...int) string {
	return b.Node(&Node{Name: name, Op: OpParameter, Shape: shape})
}

// Conv adds a 2-D convolution.
func (b *Builder) Conv(name, x string, spec ConvSpec) string {
	return b.Node(&Node{Name: name, Op: OpConv, Inputs: []string{x}, Conv: &spec})
}

// Linear adds a fully connected layer on the last axis.
func (b *Builder) Linear(name, x string, out int, bias bool) string {
	return b.Node(&Node{Name: name, Op: OpLinear, Inputs: []string{x}, Linear: &LinearSpec{OutFeatures: out, Bias: bias}})
}

// MatMul adds a product of two activations.
func (b *Builder) MatMul(name, a, c string, transposeB bool) string {
	return b.Node(&Node{Name: name, Op: OpMatMul, Inputs: []string{a, c}, TransposeB: transposeB})
}

// Unary adds a one-input node of the given op (activations, norms,
// GlobalAvgPool, Identity).
func (b *Builder) Unary(op Op, name, x string) string {
	return b.Node(&Node{Name: name, Op: op, Inputs: []string{x}})
}

// Clip adds a clamp to [lo, hi] (ReLU6 is Clip 0..6).
func (b *Builder) Clip(name, x string, lo, hi float64) string {
	return b.Node(&Node{Name: name, Op: OpClip, Inputs: []string{x}, Min: lo, Max: hi})
}

// Pool adds a MaxPool or AvgPool.
func (b *Builder) Pool(op Op, name, x string, spec PoolSpec) string {
	return b.Node(&Node{Name: name, Op: op, Inputs: []string{x}, Pool: &spec})
}

// Binary adds an element-wise Add, Sub, Mul or Div.
func (b *Builder) Binary(op Op, name, x, y string) string {
	return b.Node(&Node{Name: name, Op: op, Inputs: []string{x, y}})
}

// Concat joins inputs along axis.
func (b *Builder) Concat(name string, axis int, xs ...string) string {
	return b.Node(&Node{Name: name, Op: OpConcat, Inputs: xs, Axis: axis})
}

// Flatten merges the axes from axis onwards into one.
func (b *Builder) Flatten(name, x string, axis int) string {
	return b.Node(&Node{Name: name, Op: OpFlatten, Inputs: []string{x}, Axis: axis})
}

// Reshape changes the shape; one dimension may be -1.
func (b *Builder) Reshape(name, x string, shape ...int) string {
	return b.Node(&Node{Name: name, Op: OpReshape, Inputs: []string{x}, Shape: shape})
}

// Transpose permutes the axes.
func (b *Builder) Transpose(name, x string, perm ...int) string {
	return b.Node(&Node{Name: name, Op: OpTranspose, Inputs: []string{x}, Perm: perm})
}

// Slice keeps elements [start, end) of axis.
func (b *Builder) Slice(name, x string, axis, start, end int) string {
	return b.Node(&Node{Name: name, Op: OpSlice, Inputs: []string{x}, Axis: axis, Start: start, End: end})
}

// Softmax normalises along axis.
func (b *Builder) Softmax(name, x string, axis int) string {
	return b.Node(&Node{Name: name, Op: OpSoftmax, Inputs: []string{x}, Axis: axis})
}

// Conv2D returns a square, ungrouped, undilated convolution without bias:
// out channels, kernel size, stride, and symmetric padding.
func Conv2D(out, kernel, stride, pad int) ConvSpec {
	return ConvSpec{OutChannels: out, KernelH: kernel, KernelW: kernel, StrideH: stride, StrideW: stride,
		PadTop: pad, PadLeft: pad, PadBottom: pad, PadRight: pad, DilationH: 1, DilationW: 1, Groups: 1}
}

// WithGroups returns the spec with the given group count.
func (c ConvSpec) WithGroups(g int) ConvSpec { c.Groups = g; return c }

// WithBias returns the spec with a bias.
func (c ConvSpec) WithBias() ConvSpec { c.Bias = true; return c }

// Pool2D returns a square pooling window with symmetric padding.
func Pool2D(kernel, stride, pad int) PoolSpec {
	return PoolSpec{KernelH: kernel, KernelW: kernel, StrideH: stride, StrideW: stride,
		PadTop: pad, PadLeft: pad, PadBottom: pad, PadRight: pad}
}

// Ceil returns the spec with PyTorch's ceil_mode set.
func (p PoolSpec) Ceil() PoolSpec { p.CeilMode = true; return p }
