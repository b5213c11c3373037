package onnx

import (
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// Element-wise math, comparisons, logic, LRN and the quantized operators:
// vector work on activations, folded at read time on constants.

// modeOf is the IR Elementwise mode of an ONNX operator: its name in
// lower case with underscores between words (GreaterOrEqual ->
// greater_or_equal).
func modeOf(op string) string {
	if op == "PRelu" {
		return "prelu"
	}
	var b strings.Builder
	for i, r := range op {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// opElementwise converts an element-wise operator of any arity: folded
// when every operand is a constant, else an IR Elementwise node whose
// constant operands are Constant nodes.
func opElementwise(c *nctx) ([]*val, error) {
	var ins []*val
	for _, v := range c.in {
		if v != nil {
			ins = append(ins, v)
		}
	}
	mode, ok := model.FindElementwiseMode(modeOf(c.n.op))
	if !ok {
		return nil, c.errf("internal error: no element-wise mode for %s", c.n.op)
	}
	if len(ins) < mode.MinIn || (mode.MaxIn >= 0 && len(ins) > mode.MaxIn) {
		return nil, c.errf("%s has %d inputs: it takes %d to %d", c.n.op, len(ins), mode.MinIn, mode.MaxIn)
	}
	out := clone(ins[0].shape)
	allConst := ins[0].c != nil
	for _, v := range ins[1:] {
		o, err := broadcastShapes(out, v.shape)
		if err != nil {
			return nil, c.errf("%v", err)
		}
		out = o
		allConst = allConst && v.c != nil
	}
	if allConst {
		return []*val{folded(out, c.foldElementwise(ins, out))}, nil
	}
	if len(ins) == 1 && mode.Nary {
		return []*val{ins[0]}, nil // Sum, Max, Min or Mean of one tensor
	}
	ob, err := c.outBatch(len(out), ins...)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ins))
	for k, v := range ins {
		if names[k], err = c.r.aligned(v, len(out), ob, c); err != nil {
			return nil, err
		}
	}
	return []*val{c.emit(&model.Node{Op: model.OpElementwise, Mode: mode.Name, Inputs: names}, &val{shape: out, batch: ob})}, nil
}

// foldElementwise computes an element-wise operator on constant values
// (nil when a value is not known or the result is too large).
func (c *nctx) foldElementwise(ins []*val, out []int) *values {
	op := c.n.op
	switch op {
	case "Where":
		return whereValues(c.r.maybeValues(ins[0]), c.r.maybeValues(ins[1]), c.r.maybeValues(ins[2]), ins[0].shape, ins[1].shape, ins[2].shape, out)
	case "Sum", "Max", "Min", "Mean":
		bin := op
		if op == "Sum" || op == "Mean" {
			bin = "Add"
		}
		acc, shape := c.r.maybeValues(ins[0]), ins[0].shape
		for _, v := range ins[1:] {
			s, err := broadcastShapes(shape, v.shape)
			if err != nil {
				return nil
			}
			acc, shape = foldBinary(bin, acc, c.r.maybeValues(v), shape, v.shape, s), s
		}
		if acc != nil && len(ins) == 1 {
			acc = expandValues(acc, shape, out)
		}
		if op == "Mean" && acc != nil {
			res := &values{f: make([]float64, len(acc.f))}
			for k, x := range acc.f {
				res.f[k] = x / float64(len(ins))
			}
			acc = res
		}
		return acc
	}
	if len(ins) == 1 {
		return foldUnary(op, c.r.maybeValues(ins[0]))
	}
	return foldBinary(op, c.r.maybeValues(ins[0]), c.r.maybeValues(ins[1]), ins[0].shape, ins[1].shape, out)
}

// whereValues computes Where on constant values.
func whereValues(cond, x, y *values, sc, sx, sy, out []int) *values {
	if cond == nil || x == nil || y == nil || !small(out) {
		return nil
	}
	xs, ys, cs := expandValues(x, sx, out), expandValues(y, sy, out), expandValues(cond, sc, out)
	if xs == nil || ys == nil || cs == nil {
		return nil
	}
	res := &values{f: make([]float64, len(cs.f))}
	isInt := xs.i != nil && ys.i != nil
	if isInt {
		res.i = make([]int64, len(cs.f))
	}
	for k := range cs.f {
		src := ys
		if cs.f[k] != 0 {
			src = xs
		}
		res.f[k] = src.f[k]
		if isInt {
			res.i[k] = src.i[k]
		}
	}
	return res
}

// opLRN lowers LRN (across channels, axis 1 of [N,C,...]).
func opLRN(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	size, err := c.attrInt("size", 0)
	if err != nil {
		return nil, err
	}
	if c.attr("size") == nil || size <= 0 || size > 1<<16 {
		return nil, c.errf("attribute size = %d: LRN needs the number of channels to sum, a positive integer", size)
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	if len(x.shape) < 2 || x.batch != 0 {
		return nil, c.errf("input %q has shape %v with the batch on axis %d: LRN wants [N,C,...] with the batch first", x.name, x.shape, x.batch)
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpLRN, Size: int(size), Inputs: []string{src}}, &val{shape: clone(x.shape), batch: 0})}, nil
}

// opQuantize lowers QuantizeLinear, DequantizeLinear and
// DynamicQuantizeLinear on an activation to an Elementwise node (the
// scales and zero points are part of its cost). On a constant (a
// quantized weight) it folds to a constant of the same shape, so the layer
// it feeds sees a constant weight that keeps the integer bit width
// (weightBits): DequantizeLinear's input's type, QuantizeLinear's output
// type. DynamicQuantizeLinear's scale and zero point, scalars computed
// with the output, are constants of the model.
func opQuantize(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	extra := []*val{}
	if c.n.op == "DynamicQuantizeLinear" {
		extra = []*val{folded([]int{}, nil), folded([]int{}, nil)}
	}
	if x.c != nil {
		f := folded(clone(x.shape), nil)
		bits, err := c.quantizedBits(x)
		if err != nil {
			return nil, err
		}
		f.wbits = bits
		return append([]*val{f}, extra...), nil
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	mode := "quantize"
	switch c.n.op {
	case "DequantizeLinear":
		mode = "dequantize"
	case "DynamicQuantizeLinear":
		mode = "dynamic_quantize"
	}
	v := c.emit(&model.Node{Op: model.OpElementwise, Mode: mode, Inputs: []string{src}}, &val{shape: clone(x.shape), batch: x.batch})
	return append([]*val{v}, extra...), nil
}

// quantizedBits is the integer bit width of the quantized tensor that a
// (De)QuantizeLinear of constant x reads or writes: DequantizeLinear's
// input type; QuantizeLinear's output type, which is its zero point's
// (input 2), else its output_dtype attribute (opset 21), else uint8;
// DynamicQuantizeLinear's, uint8. 0 when that type is not an integer of
// at most 16 bits.
func (c *nctx) quantizedBits(x *val) (int, error) {
	const uint8Type = 2
	switch c.n.op {
	case "DequantizeLinear":
		return weightBits(x), nil
	case "QuantizeLinear":
		if z := c.input(2); z != nil {
			return quantBits(z.dtype), nil
		}
		to, err := c.attrInt("output_dtype", 0)
		if err != nil {
			return 0, err
		}
		if to != 0 {
			if _, ok := dtype(int32(to)); !ok || to < 0 || to > 1<<30 {
				return 0, c.errf("output_dtype = %d is not an ONNX data type: use int8 (3), uint8 (2), int16 (5), uint16 (4), int4 (22) or uint4 (21)", to)
			}
			return quantBits(int32(to)), nil
		}
	}
	return quantBits(uint8Type), nil
}

// quantLayer converts ConvInteger, QLinearConv, MatMulInteger and
// QLinearMatMul: the integer weight is the crossbar layer's weight (as Conv
// or MatMul), the zero points and scales are vector work. QLinear
// operators requantize their output (an Elementwise quantize).
func quantLayer(c *nctx) ([]*val, error) {
	// The weight is input 1 (ConvInteger, MatMulInteger) or 3 (the
	// QLinear operators, after the activation's scale and zero point);
	// QLinearConv's bias is input 8.
	qlinear := strings.HasPrefix(c.n.op, "QLinear")
	sub := *c
	sub.in = []*val{c.input(0), c.input(1)}
	if qlinear {
		sub.in[1] = c.input(3)
		if b := c.input(8); b != nil {
			sub.in = append(sub.in, b)
		}
	}
	var outs []*val
	var err error
	if strings.Contains(c.n.op, "Conv") {
		outs, err = opConv(&sub)
	} else {
		outs, err = opMatMul(&sub)
	}
	if err != nil || !qlinear || outs[0].c != nil {
		return outs, err
	}
	v := outs[0]
	src, err := c.r.irNode(v)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Name: c.name + "/requantize", Op: model.OpElementwise, Mode: "quantize", Inputs: []string{src}}, &val{shape: clone(v.shape), batch: v.batch})}, nil
}

// opInstanceNorm writes InstanceNormalization on [N,C,...] out as the IR
// computes it: the mean and variance over the spatial axes (Reduce), the
// centring, squaring, square root and division (vector ops), then the
// per-channel scale and shift (a BatchNorm, 2 x C parameters).
func opInstanceNorm(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	r := len(x.shape)
	if r < 3 || x.batch != 0 {
		return nil, c.errf("input %q has shape %v: InstanceNormalization wants [N,C,...] with the batch first and a spatial axis", x.name, x.shape)
	}
	for k := 1; k <= 2; k++ {
		p, err := c.need(k)
		if err != nil {
			return nil, err
		}
		if p.c == nil || len(p.shape) != 1 || p.shape[0] != x.shape[1] {
			return nil, c.errf("input %d (%q) must be a constant of shape [%d] (the channels), it is %v", k, p.name, x.shape[1], p.shape)
		}
	}
	var axes []int
	stat := clone(x.shape)
	for i := 2; i < r; i++ {
		axes = append(axes, i-1) // IR axes: the batch is not one
		stat[i] = 1
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	full := func() *val { return &val{shape: clone(x.shape), batch: 0} }
	small := func() *val { return &val{shape: clone(stat), batch: 0} }
	mean := c.emit(&model.Node{Name: c.name + "/mean", Op: model.OpReduce, Mode: "mean", Axes: axes, KeepDims: true, Inputs: []string{src}}, small())
	d := c.emit(&model.Node{Name: c.name + "/center", Op: model.OpSub, Inputs: []string{src, mean.ir}}, full())
	sq := c.emit(&model.Node{Name: c.name + "/square", Op: model.OpMul, Inputs: []string{d.ir, d.ir}}, full())
	variance := c.emit(&model.Node{Name: c.name + "/var", Op: model.OpReduce, Mode: "mean", Axes: axes, KeepDims: true, Inputs: []string{sq.ir}}, small())
	std := c.emit(&model.Node{Name: c.name + "/std", Op: model.OpElementwise, Mode: "sqrt", Inputs: []string{variance.ir}}, small())
	norm := c.emit(&model.Node{Name: c.name + "/norm", Op: model.OpDiv, Inputs: []string{d.ir, std.ir}}, full())
	return []*val{c.emit(&model.Node{Op: model.OpBatchNorm, Inputs: []string{norm.ir}}, full())}, nil
}
