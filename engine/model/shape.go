package model

import (
	"fmt"
	"math"
)

// inferShape computes a node's output shape from its input shapes.
func inferShape(n *Node, in []Shape) (Shape, error) {
	switch n.Op {
	case OpInput, OpParameter, OpConstant:
		if len(n.Shape) == 0 {
			return nil, fmt.Errorf("shape is empty: give the tensor shape without the batch dimension, e.g. [3,224,224]")
		}
		if err := checkShape(n.Shape); err != nil {
			return nil, fmt.Errorf("shape: %w", err)
		}
		return clone(n.Shape), nil
	case OpConv:
		return convShape(n, in[0])
	case OpLinear:
		if n.Linear == nil {
			return nil, fmt.Errorf("missing linear attributes (out_features)")
		}
		if len(in[0]) < 1 {
			return nil, fmt.Errorf("input is a scalar: Linear needs at least one axis")
		}
		if n.Linear.OutFeatures <= 0 {
			return nil, fmt.Errorf("out_features = %d: must be a positive integer", n.Linear.OutFeatures)
		}
		out := clone(in[0])
		out[len(out)-1] = n.Linear.OutFeatures
		return out, nil
	case OpMatMul:
		return matmulShape(n, in[0], in[1])
	case OpBatchNorm:
		if len(in[0]) < 1 {
			return nil, fmt.Errorf("input is a scalar: BatchNorm normalises axis 0 (channels)")
		}
		return clone(in[0]), nil
	case OpLayerNorm:
		if len(in[0]) < 1 {
			return nil, fmt.Errorf("input is a scalar: LayerNorm normalises the last axis")
		}
		return clone(in[0]), nil
	case OpClip:
		if math.IsNaN(n.Min) || math.IsNaN(n.Max) || n.Min > n.Max {
			return nil, fmt.Errorf("clip range [%v, %v] is empty or NaN: min must not exceed max", n.Min, n.Max)
		}
		return clone(in[0]), nil
	case OpMaxPool, OpAvgPool:
		return poolShape(n, in[0])
	case OpGlobalAvgPool:
		if len(in[0]) != 3 {
			return nil, fmt.Errorf("input shape %v: GlobalAvgPool wants [C,H,W]", in[0])
		}
		return Shape{in[0][0], 1, 1}, nil
	case OpAdd, OpSub, OpMul, OpDiv:
		return Broadcast(in[0], in[1])
	case OpConcat:
		return concatShape(n, in)
	case OpFlatten:
		// Axis may equal the rank (appending a unit axis), as in ONNX;
		// negative values count from the end of the input's axes.
		r := len(in[0])
		ax := n.Axis
		if ax < 0 {
			ax += r
		}
		if ax < 0 || ax > r {
			return nil, fmt.Errorf("axis = %d is out of range for rank %d: use -%d..%d", n.Axis, r, r, r)
		}
		out := clone(in[0][:ax])
		return append(out, int(Shape(in[0][ax:]).Elems())), nil
	case OpReshape:
		return reshape(n.Shape, in[0])
	case OpTranspose:
		return transpose(n.Perm, in[0])
	case OpSlice:
		return sliceShape(n, in[0])
	case OpSoftmax:
		if _, err := axis(n.Axis, len(in[0]), "axis"); err != nil {
			return nil, err
		}
		return clone(in[0]), nil
	case OpPad:
		return padShape(n.Pads, in[0])
	case OpResize:
		return resizeShape(n, in[0])
	case OpReduce:
		return reduceShape(n, in[0])
	case OpConvTranspose:
		return convTransposeShape(n, in[0])
	case OpElementwise:
		return elementwiseShape(n, in)
	case OpLRN:
		return lrnShape(n, in[0])
	case OpEmbedding:
		return embeddingShape(n, in[0])
	}
	if ops[n.Op].elementwise {
		return clone(in[0]), nil
	}
	return nil, fmt.Errorf("no shape rule for op %q", n.Op)
}

func clone(s Shape) Shape { return append(Shape(nil), s...) }

// axis normalises a possibly negative axis against rank.
func axis(a, rank int, field string) (int, error) {
	if a < -rank || a >= rank {
		return 0, fmt.Errorf("%s = %d is out of range for rank %d: use -%d..%d", field, a, rank, rank, rank-1)
	}
	if a < 0 {
		a += rank
	}
	return a, nil
}

func positive(field string, v int) error {
	if v <= 0 {
		return fmt.Errorf("%s = %d: must be a positive integer", field, v)
	}
	return nil
}

func nonNegative(field string, v int) error {
	if v < 0 {
		return fmt.Errorf("%s = %d: must be zero or positive", field, v)
	}
	return nil
}

// Window computes a sliding-window output length (floor or ceil mode, the
// latter as PyTorch defines it: the last window must start inside the input
// or its left padding). Convolutions and pools use it; so does the ONNX
// reader.
func Window(size, kernel, stride, dilation, padLo, padHi int, ceil bool) int {
	span := dilation*(kernel-1) + 1
	num := size + padLo + padHi - span
	if num < 0 {
		return 0
	}
	out := num/stride + 1
	if ceil && num%stride != 0 {
		out++
		if (out-1)*stride >= size+padLo {
			out--
		}
	}
	return out
}

func convShape(n *Node, x Shape) (Shape, error) {
	c := n.Conv
	if c == nil {
		return nil, fmt.Errorf("missing conv attributes")
	}
	if len(x) != 3 {
		return nil, fmt.Errorf("input shape %v: Conv wants [C,H,W]", x)
	}
	if err := checkConvSpec(c); err != nil {
		return nil, err
	}
	if x[0]%c.Groups != 0 {
		return nil, fmt.Errorf("input channels %d (shape %v) are not divisible by groups = %d", x[0], x, c.Groups)
	}
	if c.OutChannels%c.Groups != 0 {
		return nil, fmt.Errorf("out_channels = %d is not divisible by groups = %d", c.OutChannels, c.Groups)
	}
	h := Window(x[1], c.KernelH, c.StrideH, c.DilationH, c.PadTop, c.PadBottom, false)
	w := Window(x[2], c.KernelW, c.StrideW, c.DilationW, c.PadLeft, c.PadRight, false)
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("kernel %dx%d (dilation %dx%d) does not fit input %v with padding: output would be empty",
			c.KernelH, c.KernelW, c.DilationH, c.DilationW, x)
	}
	return Shape{c.OutChannels, h, w}, nil
}

// checkConvSpec checks a convolution's sizes, strides, dilations and
// groups (positive) and pads (not negative).
func checkConvSpec(c *ConvSpec) error {
	for _, f := range []struct {
		name string
		v    int
	}{{"out_channels", c.OutChannels}, {"kernel_h", c.KernelH}, {"kernel_w", c.KernelW},
		{"stride_h", c.StrideH}, {"stride_w", c.StrideW}, {"dilation_h", c.DilationH},
		{"dilation_w", c.DilationW}, {"groups", c.Groups}} {
		if err := positive(f.name, f.v); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"pad_top", c.PadTop}, {"pad_left", c.PadLeft}, {"pad_bottom", c.PadBottom}, {"pad_right", c.PadRight}} {
		if err := nonNegative(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

func poolShape(n *Node, x Shape) (Shape, error) {
	p := n.Pool
	if p == nil {
		return nil, fmt.Errorf("missing pool attributes")
	}
	if len(x) != 3 {
		return nil, fmt.Errorf("input shape %v: pooling wants [C,H,W]", x)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"kernel_h", p.KernelH}, {"kernel_w", p.KernelW}, {"stride_h", p.StrideH}, {"stride_w", p.StrideW}} {
		if err := positive(f.name, f.v); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"pad_top", p.PadTop}, {"pad_left", p.PadLeft}, {"pad_bottom", p.PadBottom}, {"pad_right", p.PadRight}} {
		if err := nonNegative(f.name, f.v); err != nil {
			return nil, err
		}
	}
	h := Window(x[1], p.KernelH, p.StrideH, 1, p.PadTop, p.PadBottom, p.CeilMode)
	w := Window(x[2], p.KernelW, p.StrideW, 1, p.PadLeft, p.PadRight, p.CeilMode)
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("window %dx%d does not fit input %v: output would be empty", p.KernelH, p.KernelW, x)
	}
	return Shape{x[0], h, w}, nil
}

func matmulShape(n *Node, a, b Shape) (Shape, error) {
	if len(a) < 2 || len(b) < 2 {
		return nil, fmt.Errorf("operand shapes %v and %v: MatMul wants rank >= 2 on both", a, b)
	}
	m, k := a[len(a)-2], a[len(a)-1]
	kb, nn := b[len(b)-2], b[len(b)-1]
	if n.TransposeB {
		kb, nn = nn, kb
	}
	if k != kb {
		return nil, fmt.Errorf("inner dimensions differ: %v x %v (transpose_b=%v) needs %d = %d", a, b, n.TransposeB, k, kb)
	}
	lead, err := Broadcast(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, fmt.Errorf("batch dimensions of %v and %v: %w", a, b, err)
	}
	return append(lead, m, nn), nil
}

// Broadcast applies numpy broadcasting (right-aligned, size-1 stretches) to
// two shapes, as element-wise ops and the ONNX reader use it.
func Broadcast(a, b Shape) (Shape, error) {
	r := max(len(a), len(b))
	out := make(Shape, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast: axis %d is %d vs %d", a, b, i, da, db)
		}
	}
	return out, nil
}

func concatShape(n *Node, in []Shape) (Shape, error) {
	first := in[0]
	ax, err := axis(n.Axis, len(first), "axis")
	if err != nil {
		return nil, err
	}
	out := clone(first)
	for k := 1; k < len(in); k++ {
		s := in[k]
		if len(s) != len(first) {
			return nil, fmt.Errorf("input %d shape %v and input 0 shape %v differ in rank", k, s, first)
		}
		for i := range s {
			if i != ax && s[i] != first[i] {
				return nil, fmt.Errorf("input %d shape %v and input 0 shape %v differ on axis %d (concatenating on axis %d)", k, s, first, i, ax)
			}
		}
		out[ax] += s[ax]
	}
	return out, nil
}

func reshape(target, x Shape) (Shape, error) {
	if len(target) == 0 {
		return nil, fmt.Errorf("target shape is empty: give it without the batch dimension")
	}
	out := clone(target)
	infer := -1
	known := int64(1)
	for i, d := range out {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d == -1:
			return nil, fmt.Errorf("target shape %v has more than one -1", target)
		case d <= 0:
			return nil, fmt.Errorf("target shape %v has dimension %d = %d: use a positive size or one -1", target, i, d)
		default:
			known *= int64(d)
			if known > MaxElems {
				return nil, fmt.Errorf("target shape %v is too large", target)
			}
		}
	}
	total := x.Elems()
	if infer >= 0 {
		if total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", x, total, target)
		}
		out[infer] = int(total / known)
	}
	if Shape(out).Elems() != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v (%d elements)", x, total, target, Shape(out).Elems())
	}
	return out, nil
}

func transpose(perm []int, x Shape) (Shape, error) {
	if len(perm) != len(x) {
		return nil, fmt.Errorf("perm %v has %d entries for input shape %v of rank %d", perm, len(perm), x, len(x))
	}
	seen := make([]bool, len(x))
	out := make(Shape, len(x))
	for i, p := range perm {
		if p < 0 || p >= len(x) || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm, len(x)-1)
		}
		seen[p] = true
		out[i] = x[p]
	}
	return out, nil
}

func sliceShape(n *Node, x Shape) (Shape, error) {
	ax, err := axis(n.Axis, len(x), "axis")
	if err != nil {
		return nil, err
	}
	d := x[ax]
	lo, hi := n.Start, n.End
	if lo < 0 {
		lo += d
	}
	if hi < 0 {
		hi += d
	}
	if lo < 0 || hi > d || lo >= hi {
		return nil, fmt.Errorf("slice [%d, %d) of axis %d (size %d, input %v) is empty or out of range", n.Start, n.End, ax, d, x)
	}
	step := n.Step
	if step == 0 {
		step = 1
	}
	if step < 0 {
		return nil, fmt.Errorf("step = %d: must be positive (0 means 1)", n.Step)
	}
	out := clone(x)
	out[ax] = (hi - lo + step - 1) / step
	return out, nil
}

// padShape adds pads[i] elements before and pads[rank+i] after axis i;
// negative pads remove elements.
func padShape(pads []int, x Shape) (Shape, error) {
	r := len(x)
	if len(pads) != 2*r {
		return nil, fmt.Errorf("pads %v has %d entries for input shape %v of rank %d: give %d (before each axis, then after each axis)", pads, len(pads), x, r, 2*r)
	}
	out := clone(x)
	for i := range x {
		lo, hi := pads[i], pads[r+i]
		if int64(lo) > MaxElems || int64(lo) < -MaxElems || int64(hi) > MaxElems || int64(hi) < -MaxElems {
			return nil, fmt.Errorf("pads %v: axis %d padding is out of range", pads, i)
		}
		out[i] = x[i] + lo + hi
		if out[i] <= 0 {
			return nil, fmt.Errorf("pads %v leave axis %d of input %v with %d elements: a dimension must stay positive", pads, i, x, out[i])
		}
	}
	return out, nil
}

// resizeShape checks a Resize target: same rank as the input, a known mode.
func resizeShape(n *Node, x Shape) (Shape, error) {
	switch n.Mode {
	case "", "nearest", "linear", "cubic":
	default:
		return nil, fmt.Errorf("mode %q: use nearest, linear or cubic", n.Mode)
	}
	if len(n.Shape) != len(x) {
		return nil, fmt.Errorf("output shape %v has rank %d, input %v has rank %d: Resize keeps the rank", n.Shape, len(n.Shape), x, len(x))
	}
	if err := checkShape(n.Shape); err != nil {
		return nil, fmt.Errorf("output %w", err)
	}
	return clone(n.Shape), nil
}

// reduceShape removes (or, with KeepDims, sets to 1) the reduced axes. A
// reduction of every axis without KeepDims gives [1].
func reduceShape(n *Node, x Shape) (Shape, error) {
	switch n.Mode {
	case "mean", "sum", "max", "min":
	default:
		return nil, fmt.Errorf("mode %q: use mean, sum, max or min", n.Mode)
	}
	if len(n.Axes) == 0 {
		return nil, fmt.Errorf("axes is empty: name the axes to reduce")
	}
	red := make([]bool, len(x))
	for _, a := range n.Axes {
		ax, err := axis(a, len(x), "axes entry")
		if err != nil {
			return nil, err
		}
		if red[ax] {
			return nil, fmt.Errorf("axes %v names axis %d twice", n.Axes, ax)
		}
		red[ax] = true
	}
	var out Shape
	for i, d := range x {
		switch {
		case !red[i]:
			out = append(out, d)
		case n.KeepDims:
			out = append(out, 1)
		}
	}
	if len(out) == 0 {
		out = Shape{1}
	}
	return out, nil
}
