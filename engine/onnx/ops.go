package onnx

import (
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/model"
)

// Shape helpers on values.

// transposeVal permutes v's axes; the batch axis may move. Constants fold.
func (c *nctx) transposeVal(v *val, perm []int, name string) (*val, error) {
	r := len(v.shape)
	if len(perm) != r {
		return nil, c.errf("perm %v has %d entries for an input of rank %d", perm, len(perm), r)
	}
	seen := make([]bool, r)
	out := make([]int, r)
	ob := -1
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, c.errf("perm %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
		out[i] = v.shape[p]
		if p == v.batch {
			ob = i
		}
	}
	if v.c != nil {
		f := folded(out, transposeValues(c.r.maybeValues(v), v.shape, perm, out))
		f.wbits = weightBits(v)
		return f, nil
	}
	var irPerm []int
	identity := true
	for i, p := range perm {
		if i == ob {
			continue
		}
		q := p
		if v.batch >= 0 && p > v.batch {
			q--
		}
		if q != len(irPerm) {
			identity = false
		}
		irPerm = append(irPerm, q)
	}
	res := &val{shape: out, batch: ob}
	if identity || len(irPerm) <= 1 {
		src, err := c.r.irNode(v)
		if err != nil {
			return nil, err
		}
		res.ir = src
		return res, nil
	}
	src, err := c.r.irNode(v)
	if err != nil {
		return nil, err
	}
	return c.emit(&model.Node{Name: name, Op: model.OpTranspose, Inputs: []string{src}, Perm: irPerm}, res), nil
}

// reshapeVal gives v the full shape out with its batch on axis batch (-1:
// none): an IR Reshape when the IR shape changes, nothing otherwise.
// Constants fold, keeping their values (the element order is unchanged).
func (c *nctx) reshapeVal(v *val, out []int, batch int, name string) (*val, error) {
	if v.c != nil {
		if prod(out) != prod(v.shape) {
			return nil, c.errf("cannot reshape %v to %v", v.shape, out)
		}
		f := folded(out, c.r.maybeValues(v))
		f.wbits = weightBits(v)
		return f, nil
	}
	res := &val{shape: out, batch: batch}
	src, err := c.r.irNode(v)
	if err != nil {
		return nil, err
	}
	if irShape(res).Equal(irShape(v)) {
		res.ir = src
		return res, nil
	}
	return c.emit(&model.Node{Name: name, Op: model.OpReshape, Inputs: []string{src}, Shape: irShape(res)}, res), nil
}

// findBatch locates the batch axis of v after a reshape to out: the axis
// whose size is the batch size and before which the same number of
// elements lie. When there is none (the batch is merged with other axes),
// the result has no batch axis, which is only exact at batch size 1.
func (c *nctx) findBatch(v *val, out []int) (int, error) {
	if v.batch < 0 {
		return -1, nil
	}
	before := prod(v.shape[:v.batch])
	acc := int64(1)
	for q, d := range out {
		if acc == before && d == v.shape[v.batch] {
			return q, nil
		}
		acc *= int64(d)
		if acc > before {
			break
		}
	}
	if c.r.batchSize != 1 {
		return 0, c.errf("reshaping %v to %v merges the batch axis (size %d) with other axes: per-inference shapes are only defined at batch size 1 here (give a batch of 1 in the input shape)", v.shape, out, c.r.batchSize)
	}
	return -1, nil
}

// linearVal adds a Linear layer of n outputs on x's last axis whose
// weights are bits wide (0: the chip's weight_bits).
func (c *nctx) linearVal(x *val, n int, bias bool, bits int, name string) (*val, *model.Node, error) {
	if len(x.shape) == 0 || x.batch == len(x.shape)-1 {
		return nil, nil, c.errf("the last axis of %q (shape %v) is its batch axis: a fully connected layer cannot act on it", x.name, x.shape)
	}
	if n <= 0 {
		return nil, nil, c.errf("the weight gives %d output features", n)
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, nil, err
	}
	out := clone(x.shape)
	out[len(out)-1] = n
	node := &model.Node{Name: name, Op: model.OpLinear, Inputs: []string{src}, Linear: &model.LinearSpec{OutFeatures: n, Bias: bias}, WeightBits: bits}
	return c.emit(node, &val{shape: out, batch: x.batch}), node, nil
}

// Operators.

func opIdentity(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	return []*val{x}, nil
}

func opCast(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	to, err := c.attrInt("to", 0)
	if err != nil {
		return nil, err
	}
	if x.c == nil {
		v := *x
		v.dtype = int32(to)
		return []*val{&v}, nil
	}
	vals := c.r.maybeValues(x)
	var out *values
	if vals != nil {
		d, _ := dtype(int32(to))
		out = &values{f: make([]float64, len(vals.f))}
		isInt := d.kind == kindInt || d.kind == kindUint || d.kind == kindBool
		if isInt {
			out.i = make([]int64, len(vals.f))
		}
		for k, f := range vals.f {
			switch {
			case d.kind == kindBool:
				if f != 0 {
					out.f[k], out.i[k] = 1, 1
				}
			case isInt:
				iv := int64(f)
				if vals.i != nil {
					iv = vals.i[k]
				} else if math.IsNaN(f) || math.IsInf(f, 0) {
					iv = 0
				}
				out.f[k], out.i[k] = float64(iv), iv
			default:
				out.f[k] = f
			}
		}
	}
	v := folded(clone(x.shape), out)
	v.dtype = int32(to)
	return []*val{v}, nil
}

func unary(c *nctx) ([]*val, error) {
	op := c.def.ir
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: op, Inputs: []string{src}}, &val{shape: clone(x.shape), batch: x.batch})}, nil
}

func opClip(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if lo, hi := c.input(1), c.input(2); x.c == nil && (lo != nil && lo.c == nil || hi != nil && hi.c == nil) {
		return c.clipByTensors(x, lo, hi)
	}
	lo, hi := -math.MaxFloat64, math.MaxFloat64
	if a := c.attr("min"); a != nil {
		if lo, err = c.attrFloat("min", lo); err != nil {
			return nil, err
		}
	}
	if a := c.attr("max"); a != nil {
		if hi, err = c.attrFloat("max", hi); err != nil {
			return nil, err
		}
	}
	for k, dst := range []*float64{&lo, &hi} {
		f, ok, err := c.constFloats(k+1, []string{"min", "max"}[k])
		if err != nil {
			return nil, err
		}
		if ok {
			if len(f) != 1 {
				return nil, c.errf("%s has %d values: want a scalar", []string{"min", "max"}[k], len(f))
			}
			*dst = f[0]
		}
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		return nil, c.errf("clip range [%v, %v] is empty or NaN", lo, hi)
	}
	lo, hi = max(lo, -math.MaxFloat64), min(hi, math.MaxFloat64)
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpClip, Inputs: []string{src}, Min: lo, Max: hi}, &val{shape: clone(x.shape), batch: x.batch})}, nil
}

// clipByTensors lowers a Clip whose bound is computed from the graph input
// (a floor relative to the tensor's maximum, as a log-mel spectrogram
// does) to an element-wise max with the lower bound and min with the upper.
func (c *nctx) clipByTensors(x, lo, hi *val) ([]*val, error) {
	cur := x
	for k, b := range []*val{lo, hi} {
		if b == nil {
			continue
		}
		mode := []string{"max", "min"}[k]
		out, err := broadcastShapes(cur.shape, b.shape)
		if err != nil {
			return nil, c.errf("%s bound: %v", mode, err)
		}
		if !equalInts(out, cur.shape) {
			return nil, c.errf("the %s bound %q (shape %v) is larger than the input %v", []string{"min", "max"}[k], b.name, b.shape, cur.shape)
		}
		ob, err := c.outBatch(len(out), cur, b)
		if err != nil {
			return nil, err
		}
		ia, err := c.r.aligned(cur, len(out), ob, c)
		if err != nil {
			return nil, err
		}
		ib, err := c.r.aligned(b, len(out), ob, c)
		if err != nil {
			return nil, err
		}
		name := c.name
		if k == 0 && hi != nil {
			name += "/min"
		}
		cur = c.emit(&model.Node{Name: name, Op: model.OpElementwise, Mode: mode, Inputs: []string{ia, ib}}, &val{shape: out, batch: ob})
	}
	return []*val{cur}, nil
}

// outBatch finds the batch axis of an element-wise result of rank r.
func (c *nctx) outBatch(r int, vs ...*val) (int, error) {
	ob := -1
	for _, v := range vs {
		if v == nil || v.batch < 0 {
			continue
		}
		p := v.batch + r - len(v.shape)
		if ob >= 0 && ob != p {
			return 0, c.errf("the operands' batch axes do not line up (axis %d vs %d of the result)", ob, p)
		}
		ob = p
	}
	return ob, nil
}

// broadcastOperands fetches a binary op's two operands and the shape they
// broadcast to.
func (c *nctx) broadcastOperands() (a, b *val, out []int, err error) {
	if a, err = c.need(0); err != nil {
		return nil, nil, nil, err
	}
	if b, err = c.need(1); err != nil {
		return nil, nil, nil, err
	}
	if out, err = broadcastShapes(a.shape, b.shape); err != nil {
		return nil, nil, nil, c.errf("%v", err)
	}
	return a, b, out, nil
}

func binaryOp(c *nctx) ([]*val, error) {
	op := c.def.ir
	a, b, out, err := c.broadcastOperands()
	if err != nil {
		return nil, err
	}
	if a.c != nil && b.c != nil {
		return []*val{folded(out, foldBinary(string(op), c.r.maybeValues(a), c.r.maybeValues(b), a.shape, b.shape, out))}, nil
	}
	ob, err := c.outBatch(len(out), a, b)
	if err != nil {
		return nil, err
	}
	if op == model.OpAdd {
		if v := c.fuseBias(a, b, out); v != nil {
			return []*val{v}, nil
		}
	}
	ia, err := c.r.aligned(a, len(out), ob, c)
	if err != nil {
		return nil, err
	}
	ib, err := c.r.aligned(b, len(out), ob, c)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: op, Inputs: []string{ia, ib}}, &val{shape: out, batch: ob})}, nil
}

// fuseBias turns Linear-without-bias followed by Add of a constant vector
// of its output width into a Linear with bias (how PyTorch exports a
// Linear on a sequence: MatMul then Add).
func (c *nctx) fuseBias(a, b *val, out []int) *val {
	act, cst := a, b
	if act.c != nil {
		act, cst = b, a
	}
	if cst.c == nil || act.c != nil {
		return nil
	}
	lin := c.r.linear[act.name]
	if lin == nil || lin.Linear.Bias || c.r.uses[act.name] != 1 || !equalInts(out, act.shape) || len(cst.shape) > len(act.shape) {
		return nil
	}
	for i, d := range cst.shape {
		if i < len(cst.shape)-1 && d != 1 {
			return nil
		}
	}
	if len(cst.shape) == 0 || cst.shape[len(cst.shape)-1] != lin.Linear.OutFeatures {
		return nil
	}
	lin.Linear.Bias = true
	v := *act
	return &v
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func foldBinaryOp(c *nctx) ([]*val, error) {
	op := c.n.op
	a, b, out, err := c.broadcastOperands()
	if err != nil {
		return nil, err
	}
	return []*val{folded(out, foldBinary(op, c.r.maybeValues(a), c.r.maybeValues(b), a.shape, b.shape, out))}, nil
}

func foldUnaryOp(c *nctx) ([]*val, error) {
	op := c.n.op
	a, err := c.need(0)
	if err != nil {
		return nil, err
	}
	return []*val{folded(clone(a.shape), foldUnary(op, c.r.maybeValues(a)))}, nil
}

func opWhere(c *nctx) ([]*val, error) {
	var in [3]*val
	for k := range in {
		v, err := c.need(k)
		if err != nil {
			return nil, err
		}
		in[k] = v
	}
	out, err := broadcastShapes(in[0].shape, in[1].shape)
	if err == nil {
		out, err = broadcastShapes(out, in[2].shape)
	}
	if err != nil {
		return nil, c.errf("%v", err)
	}
	cond, x, y := c.r.maybeValues(in[0]), c.r.maybeValues(in[1]), c.r.maybeValues(in[2])
	var res *values
	if cond != nil && x != nil && y != nil && small(out) {
		xs, ys := expandValues(x, in[1].shape, out), expandValues(y, in[2].shape, out)
		cs := expandValues(cond, in[0].shape, out)
		if xs != nil && ys != nil && cs != nil {
			res = &values{f: make([]float64, len(cs.f))}
			isInt := xs.i != nil && ys.i != nil
			if isInt {
				res.i = make([]int64, len(cs.f))
			}
			for k := range cs.f {
				src, j := ys, k
				if cs.f[k] != 0 {
					src = xs
				}
				res.f[k] = src.f[j]
				if isInt {
					res.i[k] = src.i[j]
				}
			}
		}
	}
	return []*val{folded(out, res)}, nil
}

func opExpand(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	s, _, err := c.constInts(1, "shape")
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, c.errf("input 1 (shape) is missing")
	}
	target, err := toShape(c, s, "shape")
	if err != nil {
		return nil, err
	}
	out, err := broadcastShapes(x.shape, target)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	if x.c != nil {
		return []*val{folded(out, expandValues(c.r.maybeValues(x), x.shape, out))}, nil
	}
	if equalInts(out, x.shape) {
		return []*val{x}, nil
	}
	// On an activation: an Elementwise expand against a constant of the
	// target shape (a copy per output element).
	k := &val{name: c.name + ".shape", shape: target, batch: -1, c: &konst{name: c.name + ".shape"}}
	ob, err := c.outBatch(len(out), x)
	if err != nil {
		return nil, err
	}
	ia, err := c.r.aligned(x, len(out), ob, c)
	if err != nil {
		return nil, err
	}
	ib, err := c.r.aligned(k, len(out), ob, c)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpElementwise, Mode: "expand", Inputs: []string{ia, ib}}, &val{shape: out, batch: ob})}, nil
}

// toShape converts dims values to a shape, rejecting negatives.
func toShape(c *nctx, s []int64, what string) ([]int, error) {
	if len(s) > maxRank {
		return nil, c.errf("%s has %d dimensions, more than %d", what, len(s), maxRank)
	}
	out := make([]int, len(s))
	for i, d := range s {
		if d < 0 || d > model.MaxElems {
			return nil, c.errf("%s %v has dimension %d = %d: each must be from 0 to %d", what, s, i, d, model.MaxElems)
		}
		out[i] = int(d)
	}
	if err := checkFull(out, what); err != nil {
		return nil, c.errf("%v", err)
	}
	return out, nil
}

func opRange(c *nctx) ([]*val, error) {
	var v [3]float64
	isInt := true
	for k, what := range []string{"start", "limit", "delta"} {
		f, ok, err := c.constFloats(k, what)
		if err != nil {
			return nil, err
		}
		if !ok || len(f) != 1 {
			return nil, c.errf("%s must be a scalar constant", what)
		}
		v[k] = f[0]
		if vals := c.r.maybeValues(c.in[k]); vals == nil || vals.i == nil {
			isInt = false
		}
	}
	if v[2] == 0 || math.IsNaN(v[0]) || math.IsNaN(v[1]) || math.IsNaN(v[2]) {
		return nil, c.errf("range delta is 0 or a bound is NaN")
	}
	n := math.Ceil((v[1] - v[0]) / v[2])
	if n < 0 {
		n = 0
	}
	if n > float64(model.MaxElems) {
		return nil, c.errf("range of %v elements is too large: at most %d elements", n, model.MaxElems)
	}
	out := []int{int(n)}
	var res *values
	if small(out) {
		res = &values{f: make([]float64, int(n))}
		if isInt {
			res.i = make([]int64, int(n))
		}
		for k := range res.f {
			res.f[k] = v[0] + float64(k)*v[2]
			if isInt {
				res.i[k] = int64(res.f[k])
			}
		}
	}
	return []*val{folded(out, res)}, nil
}

func opConstant(c *nctx) ([]*val, error) {
	if len(c.n.attrs) != 1 {
		return nil, c.errf("a Constant needs exactly one value attribute, it has %d", len(c.n.attrs))
	}
	a := c.n.attrs[0]
	switch a.name {
	case "value":
		if a.t == nil {
			return nil, c.errf("attribute value holds no tensor")
		}
		what := fmt.Sprintf("Constant %s", label(c.n))
		if err := c.r.check(a.t, what); err != nil {
			return nil, err
		}
		shape, err := dimsShape(a.t.dims, what)
		if err != nil {
			return nil, err
		}
		return []*val{{shape: shape, batch: -1, dtype: a.t.dtype, c: &konst{t: a.t}}}, nil
	case "value_float":
		return []*val{folded([]int{}, &values{f: []float64{float64(a.f)}})}, nil
	case "value_int":
		return []*val{folded([]int{}, &values{f: []float64{float64(a.i)}, i: []int64{a.i}})}, nil
	case "value_floats":
		f := make([]float64, len(a.floats))
		for k, x := range a.floats {
			f[k] = float64(x)
		}
		return []*val{folded([]int{len(f)}, &values{f: f})}, nil
	case "value_ints":
		f := make([]float64, len(a.ints))
		for k, x := range a.ints {
			f[k] = float64(x)
		}
		return []*val{folded([]int{len(f)}, &values{f: f, i: append([]int64{}, a.ints...)})}, nil
	}
	return nil, c.errf("Constant attribute %q is not supported (use value, value_float(s) or value_int(s))", a.name)
}

func opConstantOfShape(c *nctx) ([]*val, error) {
	s, ok, err := c.constInts(0, "shape")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.errf("input 0 (shape) is missing")
	}
	out, err := toShape(c, s, "shape")
	if err != nil {
		return nil, err
	}
	fill := &values{f: []float64{0}}
	if a := c.attr("value"); a != nil && a.t != nil {
		if err := c.r.check(a.t, "ConstantOfShape value"); err != nil {
			return nil, err
		}
		v, err := c.r.decode(a.t, "ConstantOfShape value")
		if err != nil {
			return nil, c.errf("%v", err)
		}
		if len(v.f) != 1 {
			return nil, c.errf("value has %d elements: want one", len(v.f))
		}
		fill = v
	}
	var res *values
	if small(out) {
		res = expandValues(fill, []int{}, out)
	}
	return []*val{folded(out, res)}, nil
}

func opShape(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	r := int64(len(x.shape))
	start, err := c.attrInt("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := c.attrInt("end", r)
	if err != nil {
		return nil, err
	}
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end = clamp(start), clamp(end)
	res := &values{f: []float64{}, i: []int64{}}
	for k := start; k < end; k++ {
		res.i = append(res.i, int64(x.shape[k]))
		res.f = append(res.f, float64(x.shape[k]))
	}
	v := folded([]int{len(res.i)}, res)
	v.dtype = typeInt64
	return []*val{v}, nil
}

func opSize(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	n := prod(x.shape)
	return []*val{folded([]int{}, &values{f: []float64{float64(n)}, i: []int64{n}})}, nil
}

func opGather(c *nctx) ([]*val, error) {
	data, err := c.need(0)
	if err != nil {
		return nil, err
	}
	iv, err := c.need(1)
	if err != nil {
		return nil, err
	}
	a, err := c.attrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	if iv.c == nil {
		return c.embedding(data, iv, a)
	}
	ax, err := c.axis(a, len(data.shape), "axis")
	if err != nil {
		return nil, err
	}
	idx, _, err := c.constInts(1, "indices")
	if err != nil {
		return nil, err
	}
	d := int64(data.shape[ax])
	norm := make([]int64, len(idx))
	for k, i := range idx {
		if i < -d || i >= d {
			return nil, c.errf("index %d is out of range for axis %d of size %d", i, ax, d)
		}
		if i < 0 {
			i += d
		}
		norm[k] = i
	}
	out := append(append(clone(data.shape[:ax]), iv.shape...), data.shape[ax+1:]...)
	if data.c != nil {
		return []*val{folded(out, gatherValues(c.r.maybeValues(data), data.shape, ax, norm, iv.shape, out))}, nil
	}
	irAx, err := c.irAxis(data, ax, "axis")
	if err != nil {
		return nil, err
	}
	contiguous := len(norm) > 0
	for k := 1; k < len(norm); k++ {
		contiguous = contiguous && norm[k] == norm[k-1]+1
	}
	if len(iv.shape) > 1 || !contiguous {
		return nil, c.errf("gathering indices %v of an activation: only a scalar index or a contiguous ascending range is supported", idx)
	}
	src, err := c.r.irNode(data)
	if err != nil {
		return nil, err
	}
	sl := clone(data.shape)
	sl[ax] = len(norm)
	sv := &val{shape: sl, batch: data.batch}
	name := c.name
	if len(iv.shape) == 0 {
		name += "/slice"
	}
	sv = c.emit(&model.Node{Name: name, Op: model.OpSlice, Inputs: []string{src}, Axis: irAx, Start: int(norm[0]), End: int(norm[0]) + len(norm)}, sv)
	if len(iv.shape) == 1 {
		return []*val{sv}, nil
	}
	ob := data.batch
	if ob > ax {
		ob--
	}
	v, err := c.reshapeVal(sv, out, ob, c.name)
	return []*val{v}, err
}

func opConcat(c *nctx) ([]*val, error) {
	var ins []*val
	for _, v := range c.in {
		if v != nil {
			ins = append(ins, v)
		}
	}
	if len(ins) == 0 {
		return nil, c.errf("no inputs")
	}
	a := c.attr("axis")
	if a == nil {
		return nil, c.errf("attribute axis is required")
	}
	r := len(ins[0].shape)
	ai, err := c.attrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	ax, err := c.axis(ai, r, "axis")
	if err != nil {
		return nil, err
	}
	out := clone(ins[0].shape)
	out[ax] = 0
	allConst := true
	for k, v := range ins {
		if len(v.shape) != r {
			return nil, c.errf("input %d has shape %v, input 0 has %v: ranks differ", k, v.shape, ins[0].shape)
		}
		for i := range v.shape {
			if i != ax && v.shape[i] != ins[0].shape[i] {
				return nil, c.errf("input %d shape %v and input 0 shape %v differ on axis %d", k, v.shape, ins[0].shape, i)
			}
		}
		out[ax] += v.shape[ax]
		allConst = allConst && v.c != nil
	}
	if allConst {
		parts := make([]*values, len(ins))
		shapes := make([][]int, len(ins))
		f := folded(out, nil)
		for k, v := range ins {
			parts[k], shapes[k] = c.r.maybeValues(v), v.shape
			// Quantized parts give the widest of their widths; any other part, none.
			if b := weightBits(v); k == 0 || (f.wbits > 0 && b > 0) {
				f.wbits = max(f.wbits, b)
			} else {
				f.wbits = 0
			}
		}
		f.c.v = concatValues(parts, shapes, ax, out)
		return []*val{f}, nil
	}
	ob, err := c.outBatch(r, ins...)
	if err != nil {
		return nil, err
	}
	if ax == ob {
		return nil, c.errf("concatenating on axis %d, the batch axis, is not supported", ax)
	}
	var names []string
	for _, v := range ins {
		if v.c != nil && prod(v.shape) == 0 {
			continue
		}
		name, err := c.r.aligned(v, r, ob, c)
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	irAx := ax
	if ob >= 0 && ax > ob {
		irAx--
	}
	return []*val{c.emit(&model.Node{Op: model.OpConcat, Inputs: names, Axis: irAx}, &val{shape: out, batch: ob})}, nil
}

func opSplit(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	a, err := c.attrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	ax, err := c.axis(a, len(x.shape), "axis")
	if err != nil {
		return nil, err
	}
	d := x.shape[ax]
	nout := len(c.n.outputs)
	var sizes []int64
	if s, ok, err := c.constInts(1, "split"); err != nil {
		return nil, err
	} else if ok {
		sizes = s
	} else if s, ok, err := c.attrInts("split"); err != nil {
		return nil, err
	} else if ok {
		sizes = s
	} else {
		n, err := c.attrInt("num_outputs", int64(nout))
		if err != nil {
			return nil, err
		}
		if n <= 0 || n > maxNodeIO {
			return nil, c.errf("num_outputs = %d must be from 1 to %d", n, maxNodeIO)
		}
		chunk := (int64(d) + n - 1) / n
		if c.attr("num_outputs") == nil && int64(d)%n != 0 {
			return nil, c.errf("axis %d of size %d does not split evenly into %d outputs", ax, d, n)
		}
		for k := int64(0); k < n; k++ {
			sizes = append(sizes, max(0, min(chunk, int64(d)-k*chunk)))
		}
	}
	if len(sizes) != nout {
		return nil, c.errf("%d split sizes for %d outputs", len(sizes), nout)
	}
	for i, s := range sizes {
		if s < 0 {
			return nil, c.errf("split sizes %v: size %d = %d is negative; sizes must be from 0 to the axis size %d", sizes, i, s, d)
		}
	}
	total := int64(0)
	for _, s := range sizes {
		total += s
		if total > int64(d) {
			break
		}
	}
	if total != int64(d) {
		return nil, c.errf("split sizes %v do not add up to axis %d's size %d", sizes, ax, d)
	}
	var irAx int
	if x.c == nil {
		if irAx, err = c.irAxis(x, ax, "axis"); err != nil {
			return nil, err
		}
	}
	outs := make([]*val, nout)
	start := 0
	for k, s := range sizes {
		shape := clone(x.shape)
		shape[ax] = int(s)
		end := start + int(s)
		switch {
		case x.c != nil:
			first := make([]int, len(shape))
			first[ax] = start
			outs[k] = folded(shape, sliceValues(c.r.maybeValues(x), x.shape, first, ones(len(shape)), shape))
			outs[k].wbits = weightBits(x)
		case s > 0 && c.n.outputs[k] != "":
			src, err := c.r.irNode(x)
			if err != nil {
				return nil, err
			}
			outs[k] = c.emit(&model.Node{Name: c.n.outputs[k], Op: model.OpSlice, Inputs: []string{src}, Axis: irAx, Start: start, End: end},
				&val{shape: shape, batch: x.batch})
		}
		start = end
	}
	return outs, nil
}

func opSlice(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	var starts, ends, axes, steps []int64
	if c.attr("starts") != nil || len(c.in) == 1 {
		if starts, _, err = c.attrInts("starts"); err != nil {
			return nil, err
		}
		if ends, _, err = c.attrInts("ends"); err != nil {
			return nil, err
		}
		if axes, _, err = c.attrInts("axes"); err != nil {
			return nil, err
		}
	} else {
		for k, dst := range []*[]int64{&starts, &ends, &axes, &steps} {
			v, _, err := c.constInts(k+1, []string{"starts", "ends", "axes", "steps"}[k])
			if err != nil {
				return nil, err
			}
			*dst = v
		}
	}
	if len(starts) != len(ends) {
		return nil, c.errf("%d starts but %d ends", len(starts), len(ends))
	}
	if axes == nil {
		for k := range starts {
			axes = append(axes, int64(k))
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for k := range steps {
			steps[k] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, c.errf("starts, ends, axes and steps have different lengths (%d, %d, %d, %d)", len(starts), len(ends), len(axes), len(steps))
	}
	out := clone(x.shape)
	first := make([]int, r)
	step := make([]int, r)
	for i := range step {
		step[i] = 1
	}
	seen := make([]bool, r)
	type cut struct{ axis, lo, hi, step int }
	var cuts []cut
	for k := range starts {
		ax, err := c.axis(axes[k], r, "axes entry")
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, c.errf("axis %d is sliced twice", ax)
		}
		seen[ax] = true
		st := steps[k]
		if st == 0 {
			return nil, c.errf("step 0 on axis %d", ax)
		}
		d := int64(x.shape[ax])
		lo, hi := starts[k], ends[k]
		if lo < 0 {
			lo += d
		}
		if hi < 0 {
			hi += d
		}
		var n int64
		if st > 0 {
			lo, hi = min(max(lo, 0), d), min(max(hi, 0), d)
			n = max(0, (hi-lo+st-1)/st)
		} else {
			lo, hi = min(max(lo, 0), d-1), min(max(hi, -1), d-1)
			n = max(0, (lo-hi+(-st)-1)/(-st))
		}
		out[ax] = int(n)
		first[ax], step[ax] = int(lo), int(st)
		if n == 0 || (n == d && st == 1) {
			if n == 0 {
				cuts = append(cuts, cut{axis: ax})
			}
			continue
		}
		if st > 0 {
			cuts = append(cuts, cut{ax, int(lo), int(lo + (n-1)*st + 1), int(st)})
		} else {
			last := lo + (n-1)*st
			cuts = append(cuts, cut{ax, int(last), int(lo + 1), int(-st)})
		}
	}
	if x.c != nil {
		f := folded(out, sliceValues(c.r.maybeValues(x), x.shape, first, step, out))
		f.wbits = weightBits(x)
		return []*val{f}, nil
	}
	v := x
	for k, ct := range cuts {
		if ct.hi == 0 && ct.lo == 0 && ct.step == 0 {
			return nil, c.errf("the slice of axis %d is empty", ct.axis)
		}
		irAx, err := c.irAxis(v, ct.axis, "sliced axis")
		if err != nil {
			return nil, err
		}
		src, err := c.r.irNode(v)
		if err != nil {
			return nil, err
		}
		shape := clone(v.shape)
		shape[ct.axis] = out[ct.axis]
		name := c.name
		if k < len(cuts)-1 {
			name = fmt.Sprintf("%s/axis%d", c.name, ct.axis)
		}
		st := ct.step
		if st == 1 {
			st = 0
		}
		v = c.emit(&model.Node{Name: name, Op: model.OpSlice, Inputs: []string{src}, Axis: irAx, Start: ct.lo, End: ct.hi, Step: st}, &val{shape: shape, batch: v.batch})
	}
	if len(cuts) == 0 {
		res := *x
		return []*val{&res}, nil
	}
	return []*val{v}, nil
}

func opFlatten(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	a, err := c.attrInt("axis", 1)
	if err != nil {
		return nil, err
	}
	if a < -int64(r) || a > int64(r) {
		return nil, c.errf("axis = %d is out of range for rank %d: it must be from %d to %d", a, r, -r, r)
	}
	if a < 0 {
		a += int64(r)
	}
	out := []int{int(prod(x.shape[:a])), int(prod(x.shape[a:]))}
	if x.c == nil && x.batch == 0 && a == 1 {
		src, err := c.r.irNode(x)
		if err != nil {
			return nil, err
		}
		return []*val{c.emit(&model.Node{Op: model.OpFlatten, Inputs: []string{src}, Axis: 0}, &val{shape: out, batch: 0})}, nil
	}
	b, err := c.findBatch(x, out)
	if err != nil {
		return nil, err
	}
	v, err := c.reshapeVal(x, out, b, c.name)
	return []*val{v}, err
}

func opReshape(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	target, ok, err := c.constInts(1, "shape")
	if err != nil {
		return nil, err
	}
	if !ok {
		if target, ok, err = c.attrInts("shape"); err != nil {
			return nil, err
		}
		if !ok {
			return nil, c.errf("no target shape (input 1)")
		}
	}
	allowZero, err := c.attrInt("allowzero", 0)
	if err != nil {
		return nil, err
	}
	if len(target) > maxRank {
		return nil, c.errf("target shape has %d dimensions, more than %d", len(target), maxRank)
	}
	out := make([]int, len(target))
	infer := -1
	known := int64(1)
	total := prod(x.shape)
	for i, d := range target {
		switch {
		case d == -1 && infer < 0:
			infer = i
			continue
		case d == -1:
			return nil, c.errf("target shape %v has more than one -1", target)
		case d == 0 && allowZero == 0:
			if i >= len(x.shape) {
				return nil, c.errf("target shape %v copies dimension %d (0), which input %v lacks", target, i, x.shape)
			}
			d = int64(x.shape[i])
		case d < 0 || d > model.MaxElems:
			return nil, c.errf("target shape %v has dimension %d = %d: each must be -1, 0 or from 1 to %d", target, i, d, model.MaxElems)
		}
		out[i] = int(d)
		if d > 0 && known > model.MaxElems/d {
			return nil, c.errf("target shape %v is too large: at most %d elements", target, model.MaxElems)
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, c.errf("cannot reshape %v (%d elements) to %v", x.shape, total, target)
		}
		out[infer] = int(total / known)
	}
	if prod(out) != total {
		return nil, c.errf("cannot reshape %v (%d elements) to %v (%d elements)", x.shape, total, out, prod(out))
	}
	b, err := c.findBatch(x, out)
	if err != nil {
		return nil, err
	}
	v, err := c.reshapeVal(x, out, b, c.name)
	return []*val{v}, err
}

func opTranspose(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	p, ok, err := c.attrInts("perm")
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	perm := make([]int, r)
	for i := range perm {
		perm[i] = r - 1 - i
	}
	if ok {
		if len(p) != r {
			return nil, c.errf("perm %v has %d entries for an input of rank %d", p, len(p), r)
		}
		for i, q := range p {
			if q < 0 || q >= int64(r) {
				return nil, c.errf("perm %v is not a permutation of 0..%d", p, r-1)
			}
			perm[i] = int(q)
		}
	}
	v, err := c.transposeVal(x, perm, c.name)
	return []*val{v}, err
}

// axesArg reads an axes list from attribute "axes" or input k.
func (c *nctx) axesArg(k int) ([]int64, bool, error) {
	if a, ok, err := c.attrInts("axes"); err != nil || ok {
		return a, ok, err
	}
	return c.constInts(k, "axes")
}

func opSqueeze(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	axes, ok, err := c.axesArg(1)
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	drop := make([]bool, r)
	if ok && len(axes) > 0 {
		for _, a := range axes {
			ax, err := c.axis(a, r, "axes entry")
			if err != nil {
				return nil, err
			}
			if x.shape[ax] != 1 {
				return nil, c.errf("axis %d has size %d: only size-1 axes can be squeezed", ax, x.shape[ax])
			}
			drop[ax] = true
		}
	} else {
		for i, d := range x.shape {
			drop[i] = d == 1 && i != x.batch // the batch axis is symbolic
		}
	}
	var out []int
	b := -1
	for i, d := range x.shape {
		if drop[i] {
			continue
		}
		if i == x.batch {
			b = len(out)
		}
		out = append(out, d)
	}
	v, err := c.reshapeVal(x, out, b, c.name)
	return []*val{v}, err
}

func opUnsqueeze(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	axes, ok, err := c.axesArg(1)
	if err != nil {
		return nil, err
	}
	if !ok || len(axes) == 0 {
		return nil, c.errf("no axes to unsqueeze")
	}
	r := len(x.shape) + len(axes)
	if r > maxRank {
		return nil, c.errf("the result would have rank %d", r)
	}
	ins := make([]bool, r)
	for _, a := range axes {
		ax, err := c.axis(a, r, "axes entry")
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, c.errf("axis %d is named twice", ax)
		}
		ins[ax] = true
	}
	out := make([]int, 0, r)
	b := -1
	j := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, 1)
			continue
		}
		if j == x.batch {
			b = i
		}
		out = append(out, x.shape[j])
		j++
	}
	v, err := c.reshapeVal(x, out, b, c.name)
	return []*val{v}, err
}

func opSoftmax(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	def := int64(-1)
	if c.r.opset > 0 && c.r.opset < 13 {
		def = 1
	}
	a, err := c.attrInt("axis", def)
	if err != nil {
		return nil, err
	}
	ax, err := c.axis(a, len(x.shape), "axis")
	if err != nil {
		return nil, err
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	irAx, err := c.irAxis(x, ax, "axis")
	if err != nil {
		return nil, err
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpSoftmax, Inputs: []string{src}, Axis: irAx}, &val{shape: clone(x.shape), batch: x.batch})}, nil
}

func opBatchNorm(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	if len(x.shape) < 2 || x.batch != 0 {
		return nil, c.errf("input %q has shape %v with the batch on axis %d: BatchNormalization wants [N,C,...] with the batch first", x.name, x.shape, x.batch)
	}
	for k := 1; k <= 4; k++ {
		p, err := c.need(k)
		if err != nil {
			return nil, err
		}
		if p.c == nil {
			return nil, c.errf("input %d (%q) must be a constant", k, p.name)
		}
		if len(p.shape) != 1 || p.shape[0] != x.shape[1] {
			return nil, c.errf("input %d (%q) has shape %v, want [%d] (the channels)", k, p.name, p.shape, x.shape[1])
		}
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpBatchNorm, Inputs: []string{src}}, &val{shape: clone(x.shape), batch: 0})}, nil
}

func opLayerNorm(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	a, err := c.attrInt("axis", -1)
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	ax, err := c.axis(a, r, "axis")
	if err != nil {
		return nil, err
	}
	if ax != r-1 {
		return nil, c.errf("normalising axes %d..%d: only LayerNormalization over the last axis is supported", ax, r-1)
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	if x.batch == r-1 {
		return nil, c.errf("the last axis is the batch axis")
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpLayerNorm, Inputs: []string{src}}, &val{shape: clone(x.shape), batch: x.batch})}, nil
}

// opScaler lowers ai.onnx.ml's Scaler, (x - offset) * scale, to a Sub and
// a Mul with constant operands.
func opScaler(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if x.c != nil {
		return []*val{folded(clone(x.shape), nil)}, nil
	}
	cur := x
	for _, step := range []struct {
		attr string
		op   model.Op
	}{{"offset", model.OpSub}, {"scale", model.OpMul}} {
		f, ok, err := c.attrFloats(step.attr)
		if err != nil {
			return nil, err
		}
		if !ok || len(f) == 0 {
			continue
		}
		vals := &values{f: make([]float64, len(f))}
		for k, v := range f {
			vals.f[k] = float64(v)
		}
		shape := []int{len(f)}
		if len(f) == 1 {
			shape = []int{}
		}
		k := &val{name: c.name + "." + step.attr, shape: shape, batch: -1, c: &konst{v: vals, name: c.name + "." + step.attr}}
		out, err := broadcastShapes(cur.shape, k.shape)
		if err != nil {
			return nil, c.errf("%s: %v", step.attr, err)
		}
		ob, err := c.outBatch(len(out), cur)
		if err != nil {
			return nil, err
		}
		ia, err := c.r.aligned(cur, len(out), ob, c)
		if err != nil {
			return nil, err
		}
		ib, err := c.r.aligned(k, len(out), ob, c)
		if err != nil {
			return nil, err
		}
		cur = c.emit(&model.Node{Name: c.name + "/" + step.attr, Op: step.op, Inputs: []string{ia, ib}}, &val{shape: out, batch: ob})
	}
	return []*val{cur}, nil
}

// embedding lowers a Gather of rows of a constant table by computed
// indices (a token embedding) to an IR Embedding: a lookup in memory, not
// a crossbar layer.
func (c *nctx) embedding(table, idx *val, axis int64) ([]*val, error) {
	if table.c == nil || len(table.shape) != 2 || (axis != 0 && axis != -2) {
		return nil, c.errf("the indices (%q) are computed from the graph input: only a lookup of rows (axis 0) of a constant table [rows, width] is supported (a token embedding), not a gather of %v on axis %d of %q", idx.name, table.shape, axis, table.name)
	}
	if table.shape[0] <= 0 || table.shape[1] <= 0 {
		return nil, c.errf("table %q has shape %v: it must not be empty", table.name, table.shape)
	}
	src, err := c.r.irNode(idx)
	if err != nil {
		return nil, err
	}
	out := append(clone(idx.shape), table.shape[1])
	return []*val{c.emit(&model.Node{Op: model.OpEmbedding, Inputs: []string{src}, Table: model.Shape{table.shape[0], table.shape[1]}}, &val{shape: out, batch: idx.batch})}, nil
}
