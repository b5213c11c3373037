package onnx

import (
	"fmt"
	"math"
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// spatial holds the window attributes of a Conv or pool, per spatial axis.
type spatial struct {
	kernel, stride, dilation []int
	padLo, padHi             []int
}

// windowAttrs reads strides, dilations, pads and auto_pad for the given
// spatial sizes and kernel.
func (c *nctx) windowAttrs(in, kernel []int, dilations bool) (*spatial, error) {
	n := len(in)
	s := &spatial{kernel: kernel, stride: ones(n), dilation: ones(n), padLo: make([]int, n), padHi: make([]int, n)}
	for _, f := range []struct {
		name string
		dst  []int
	}{{"strides", s.stride}, {"dilations", s.dilation}} {
		v, ok, err := c.attrInts(f.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if len(v) != n {
			return nil, c.errf("%s %v has %d entries for %d spatial axes", f.name, v, len(v), n)
		}
		for i, x := range v {
			if x <= 0 || x > maxWindow {
				return nil, c.errf("%s %v: entry %d = %d must be from 1 to %d", f.name, v, i, x, maxWindow)
			}
			f.dst[i] = int(x)
		}
	}
	if !dilations {
		for _, d := range s.dilation {
			if d != 1 {
				return nil, c.errf("dilations %v: dilated pooling is not supported", s.dilation)
			}
		}
	}
	for i, k := range kernel {
		if k <= 0 || k > maxWindow {
			return nil, c.errf("kernel %v: size %d = %d must be from 1 to %d", kernel, i, k, maxWindow)
		}
	}
	auto, err := c.attrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	switch auto {
	case "NOTSET", "":
		p, ok, err := c.attrInts("pads")
		if err != nil {
			return nil, err
		}
		if ok {
			if len(p) != 2*n {
				return nil, c.errf("pads %v has %d entries for %d spatial axes (want %d)", p, len(p), n, 2*n)
			}
			for i := 0; i < n; i++ {
				for _, j := range []int{i, n + i} {
					if p[j] < 0 || p[j] > maxWindow {
						return nil, c.errf("pads %v: entry %d = %d must be from 0 to %d", p, j, p[j], maxWindow)
					}
				}
				s.padLo[i], s.padHi[i] = int(p[i]), int(p[n+i])
			}
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := range in {
			out := (in[i] + s.stride[i] - 1) / s.stride[i]
			total := max(0, (out-1)*s.stride[i]+(kernel[i]-1)*s.dilation[i]+1-in[i])
			lo := total / 2
			if auto == "SAME_LOWER" {
				lo = total - total/2
			}
			s.padLo[i], s.padHi[i] = lo, total-lo
		}
	default:
		return nil, c.errf("auto_pad %q: use NOTSET, VALID, SAME_UPPER or SAME_LOWER", auto)
	}
	return s, nil
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// foldPad takes over a pending zero (or -inf) Pad on the spatial axes of
// x, adding its pads to s. It returns the tensor to read.
func (c *nctx) foldPad(x *val, s *spatial, value float64) *val {
	p := x.pad
	if p == nil || p.mode != "constant" || p.src.batch != 0 || p.src.c != nil {
		return x
	}
	if value == 0 && p.value != 0 || value != 0 && p.value > -3.4e38 {
		return x
	}
	r := len(x.shape)
	for i := 0; i < r; i++ {
		lo, hi := p.pads[i], p.pads[r+i]
		if lo < 0 || hi < 0 || (i < 2 && (lo != 0 || hi != 0)) {
			return x
		}
	}
	for i := 2; i < r; i++ {
		s.padLo[i-2] += p.pads[i]
		s.padHi[i-2] += p.pads[r+i]
	}
	return p.src
}

// to2D gives a 1-D ([N,C,L]) input the IR shape [C,1,L] for a 2-D layer.
func (c *nctx) to2D(x *val) (string, error) {
	src, err := c.r.irNode(x)
	if err != nil {
		return "", err
	}
	if len(x.shape) == 4 {
		return src, nil
	}
	v := &val{shape: []int{x.shape[0], x.shape[1], 1, x.shape[2]}, batch: 0}
	return c.r.add(&model.Node{Name: c.name + "/to2d", Op: model.OpReshape, Inputs: []string{src}, Shape: irShape(v)}, v), nil
}

// from2D returns the 2-D result v of a 1-D layer to rank 3.
func (c *nctx) from2D(v *val) (*val, error) {
	if len(v.shape) == 4 && v.shape[2] == 1 && len(c.in) > 0 && len(c.in[0].shape) == 3 {
		out := &val{shape: []int{v.shape[0], v.shape[1], v.shape[3]}, batch: 0}
		return c.emit(&model.Node{Name: c.name + "/to1d", Op: model.OpReshape, Inputs: []string{v.ir}, Shape: irShape(out)}, out), nil
	}
	return v, nil
}

// spatialInput checks a Conv or pool input: rank 3 or 4, batch first.
func (c *nctx) spatialInput(x *val, what string) error {
	if x.c != nil {
		return c.errf("the %s input %q is a constant: only layers on the graph input's data are supported", what, x.name)
	}
	if len(x.shape) != 3 && len(x.shape) != 4 {
		return c.errf("input %q has shape %v: only 1-D and 2-D %ss (inputs of rank 3 or 4) are supported", x.name, x.shape, what)
	}
	if x.batch != 0 {
		return c.errf("input %q has shape %v with its batch on axis %d: a %s wants [N,C,...] with the batch first", x.name, x.shape, x.batch, what)
	}
	return nil
}

func opConv(c *nctx) ([]*val, error) { return c.convLayer(false) }

// opConvTranspose lowers a 1-D or 2-D ConvTranspose with a constant weight
// [C_in, C_out/group, k...] to an IR ConvTranspose, a crossbar layer.
// Output size per spatial axis: stride x (in-1) + output_padding +
// (kernel-1) x dilation + 1 - pads; output_shape, when given, sets the
// pads (auto_pad SAME_* sets the output to in x stride).
func opConvTranspose(c *nctx) ([]*val, error) { return c.convLayer(true) }

// convLayer converts a Conv (weight [M, C/group, k...]) or a
// ConvTranspose (weight [C, M/group, k...]) with a constant weight and an
// optional constant bias (input 2).
func (c *nctx) convLayer(transposed bool) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	w, err := c.need(1)
	if err != nil {
		return nil, err
	}
	if err := c.spatialInput(x, "convolution"); err != nil {
		return nil, err
	}
	if w.c == nil {
		return nil, c.errf("the weight (input 1, %q) is computed from the graph input: only constant weights (initializers or Constant nodes) map onto crossbars", w.name)
	}
	b := c.input(2)
	if b != nil && b.c == nil {
		return nil, c.errf("the bias (input 2, %q) must be a constant", b.name)
	}
	r := len(x.shape)
	if len(w.shape) != r {
		return nil, c.errf("weight %q has shape %v, want rank %d like the input %v", w.name, w.shape, r, x.shape)
	}
	group, err := c.attrInt("group", 1)
	if err != nil {
		return nil, err
	}
	cin := x.shape[1]
	if group <= 0 || group > int64(cin) || int64(cin)%group != 0 {
		return nil, c.errf("group = %d does not divide the %d input channels", group, cin)
	}
	// Conv: [M, C/group, k...]; ConvTranspose: [C, M/group, k...].
	m := int64(w.shape[0])
	if transposed {
		m = int64(w.shape[1]) * group
		if w.shape[0] != cin {
			return nil, c.errf("weight %q has shape %v: its first axis should be the %d input channels", w.name, w.shape, cin)
		}
	} else if int64(w.shape[1])*group != int64(cin) {
		return nil, c.errf("weight %q has shape %v: %d input channels per group x %d groups != %d input channels", w.name, w.shape, w.shape[1], group, cin)
	}
	if m <= 0 || m > model.MaxElems {
		return nil, c.errf("weight %q has %d output channels: the count must be from 1 to %d", w.name, m, model.MaxElems)
	}
	if m%group != 0 {
		return nil, c.errf("weight %q has %d output channels, not divisible by group = %d", w.name, m, group)
	}
	if b != nil && (len(b.shape) != 1 || int64(b.shape[0]) != m) {
		return nil, c.errf("bias %q has shape %v, want [%d]", b.name, b.shape, m)
	}
	kernel := clone(w.shape[2:])
	if ks, ok, err := c.attrInts("kernel_shape"); err != nil {
		return nil, err
	} else if ok && !equalInts64(ks, kernel) {
		return nil, c.errf("kernel_shape %v disagrees with weight shape %v", ks, w.shape)
	}
	s, err := c.windowAttrs(x.shape[2:], kernel, true)
	if err != nil {
		return nil, err
	}
	n := len(kernel)
	outPad := make([]int, n)
	out := []int{x.shape[0], int(m)}
	op := model.OpConv
	if transposed {
		op = model.OpConvTranspose
		if err := c.transposedPads(x, s, outPad); err != nil {
			return nil, err
		}
		for i := range kernel {
			o := s.stride[i]*(x.shape[2+i]-1) + outPad[i] + (kernel[i]-1)*s.dilation[i] + 1 - s.padLo[i] - s.padHi[i]
			if o <= 0 {
				return nil, c.errf("pads %v crop the whole output on spatial axis %d", append(s.padLo, s.padHi...), i)
			}
			out = append(out, o)
		}
	} else {
		x = c.foldPad(x, s, 0)
		for i, d := range x.shape[2:] {
			o := model.Window(d, kernel[i], s.stride[i], s.dilation[i], s.padLo[i], s.padHi[i], false)
			if o <= 0 {
				return nil, c.errf("kernel %v (dilations %v) does not fit input %v with pads: the output would be empty", kernel, s.dilation, x.shape)
			}
			out = append(out, o)
		}
	}
	spec := model.ConvSpec{OutChannels: int(m), Groups: int(group), Bias: b != nil}
	if r == 4 {
		spec.KernelH, spec.KernelW = kernel[0], kernel[1]
		spec.StrideH, spec.StrideW = s.stride[0], s.stride[1]
		spec.DilationH, spec.DilationW = s.dilation[0], s.dilation[1]
		spec.PadTop, spec.PadLeft, spec.PadBottom, spec.PadRight = s.padLo[0], s.padLo[1], s.padHi[0], s.padHi[1]
		spec.OutPadH, spec.OutPadW = outPad[0], outPad[1]
	} else {
		spec.KernelH, spec.KernelW = 1, kernel[0]
		spec.StrideH, spec.StrideW = 1, s.stride[0]
		spec.DilationH, spec.DilationW = 1, s.dilation[0]
		spec.PadLeft, spec.PadRight = s.padLo[0], s.padHi[0]
		spec.OutPadW = outPad[0]
		out = []int{out[0], out[1], 1, out[2]}
	}
	src, err := c.to2D(x)
	if err != nil {
		return nil, err
	}
	v := c.emit(&model.Node{Op: op, Inputs: []string{src}, Conv: &spec, WeightBits: weightBits(w)}, &val{shape: out, batch: 0})
	v, err = c.from2D(v)
	return []*val{v}, err
}

func equalInts64(a []int64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != int64(b[i]) {
			return false
		}
	}
	return true
}

// transposedPads reads a ConvTranspose's output_padding into outPad and,
// when output_shape or auto_pad SAME_* sets the output size, its pads.
func (c *nctx) transposedPads(x *val, s *spatial, outPad []int) error {
	n := len(outPad)
	if v, ok, err := c.attrInts("output_padding"); err != nil {
		return err
	} else if ok {
		if len(v) != n {
			return c.errf("output_padding %v has %d entries for %d spatial axes", v, len(v), n)
		}
		for i, p := range v {
			if p < 0 || p >= int64(max(s.stride[i], s.dilation[i])) {
				return c.errf("output_padding %v: each entry must be at least 0 and below the stride", v)
			}
			outPad[i] = int(p)
		}
	}
	auto, err := c.attrString("auto_pad", "NOTSET")
	if err != nil {
		return err
	}
	want, hasShape, err := c.attrInts("output_shape")
	if err != nil {
		return err
	}
	if hasShape && len(want) == n+2 {
		want = want[2:]
	}
	if hasShape && len(want) != n {
		return c.errf("output_shape %v has %d entries for %d spatial axes", want, len(want), n)
	}
	if !hasShape && auto != "SAME_UPPER" && auto != "SAME_LOWER" {
		return nil
	}
	for i := 0; i < n; i++ {
		full := s.stride[i]*(x.shape[2+i]-1) + outPad[i] + (s.kernel[i]-1)*s.dilation[i] + 1
		target := x.shape[2+i] * s.stride[i]
		if hasShape {
			if want[i] <= 0 || want[i] > model.MaxElems {
				return c.errf("output_shape %v: entry %d = %d must be from 1 to %d", want, i, want[i], model.MaxElems)
			}
			target = int(want[i])
		}
		total := full - target
		if total < 0 {
			return c.errf("output size %d on spatial axis %d is larger than the %d the kernel, strides and output_padding give: raise output_padding instead", target, i, full)
		}
		lo := total - total/2 // SAME_LOWER and output_shape with NOTSET put the larger half first
		if auto == "SAME_UPPER" {
			lo = total / 2
		}
		s.padLo[i], s.padHi[i] = lo, total-lo
	}
	return nil
}

func opPool(c *nctx) ([]*val, error) {
	op := c.def.ir
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if err := c.spatialInput(x, "pool"); err != nil {
		return nil, err
	}
	ks, ok, err := c.attrInts("kernel_shape")
	if err != nil {
		return nil, err
	}
	if !ok || len(ks) != len(x.shape)-2 {
		return nil, c.errf("kernel_shape %v: want one size per spatial axis of %v", ks, x.shape)
	}
	kernel := make([]int, len(ks))
	for i, k := range ks {
		if k <= 0 || k > maxWindow {
			return nil, c.errf("kernel_shape %v: entry %d = %d must be from 1 to %d", ks, i, k, maxWindow)
		}
		kernel[i] = int(k)
	}
	s, err := c.windowAttrs(x.shape[2:], kernel, false)
	if err != nil {
		return nil, err
	}
	ceil, err := c.attrInt("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	if op == model.OpMaxPool {
		x = c.foldPad(x, s, math.Inf(-1))
	} else if inc, err := c.attrInt("count_include_pad", 0); err != nil {
		return nil, err
	} else if inc != 0 {
		x = c.foldPad(x, s, 0)
	}
	out := []int{x.shape[0], x.shape[1]}
	for i, d := range x.shape[2:] {
		o := model.Window(d, kernel[i], s.stride[i], 1, s.padLo[i], s.padHi[i], ceil != 0)
		if o <= 0 {
			return nil, c.errf("window %v does not fit input %v: the output would be empty", kernel, x.shape)
		}
		out = append(out, o)
	}
	var spec model.PoolSpec
	if len(kernel) == 2 {
		spec = model.PoolSpec{KernelH: kernel[0], KernelW: kernel[1], StrideH: s.stride[0], StrideW: s.stride[1],
			PadTop: s.padLo[0], PadLeft: s.padLo[1], PadBottom: s.padHi[0], PadRight: s.padHi[1], CeilMode: ceil != 0}
	} else {
		spec = model.PoolSpec{KernelH: 1, KernelW: kernel[0], StrideH: 1, StrideW: s.stride[0],
			PadLeft: s.padLo[0], PadRight: s.padHi[0], CeilMode: ceil != 0}
		out = []int{out[0], out[1], 1, out[2]}
	}
	src, err := c.to2D(x)
	if err != nil {
		return nil, err
	}
	v := c.emit(&model.Node{Op: op, Inputs: []string{src}, Pool: &spec}, &val{shape: out, batch: 0})
	v, err = c.from2D(v)
	return []*val{v}, err
}

func opGlobalPool(c *nctx) ([]*val, error) {
	isMax := c.def.ir == model.OpMaxPool
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	if err := c.spatialInput(x, "pool"); err != nil {
		return nil, err
	}
	src, err := c.to2D(x)
	if err != nil {
		return nil, err
	}
	h, w := 1, x.shape[2]
	if len(x.shape) == 4 {
		h, w = x.shape[2], x.shape[3]
	}
	v := &val{shape: []int{x.shape[0], x.shape[1], 1, 1}, batch: 0}
	n := &model.Node{Op: model.OpGlobalAvgPool, Inputs: []string{src}}
	if isMax {
		n = &model.Node{Op: model.OpMaxPool, Inputs: []string{src}, Pool: &model.PoolSpec{KernelH: h, KernelW: w, StrideH: 1, StrideW: 1}}
	}
	v = c.emit(n, v)
	v, err = c.from2D(v)
	return []*val{v}, err
}

func opGemm(c *nctx) ([]*val, error) {
	a, err := c.need(0)
	if err != nil {
		return nil, err
	}
	b, err := c.need(1)
	if err != nil {
		return nil, err
	}
	bias := c.input(2)
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return nil, c.errf("operands have shapes %v and %v: Gemm wants two matrices", a.shape, b.shape)
	}
	for k, name := range []string{"transA", "transB"} {
		t, err := c.attrInt(name, 0)
		if err != nil {
			return nil, err
		}
		if t != 0 {
			v := []*val{a, b}[k]
			tv, err := c.transposeVal(v, []int{1, 0}, c.name+"/"+name)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				a = tv
			} else {
				b = tv
			}
		}
	}
	if a.shape[1] != b.shape[0] {
		return nil, c.errf("inner dimensions differ: %v x %v", a.shape, b.shape)
	}
	out := []int{a.shape[0], b.shape[1]}
	if a.c != nil && b.c != nil {
		return []*val{folded(out, nil)}, nil
	}
	var v *val
	constBias := bias != nil && bias.c != nil
	switch {
	case b.c != nil:
		v, _, err = c.gemmLinear(a, b.shape[1], constBias, weightBits(b))
	case a.c != nil:
		v, err = c.leftLinear(a, b, constBias)
	default:
		v, err = c.matmul(a, b)
		constBias = false
	}
	if err != nil {
		return nil, err
	}
	if bias != nil && !constBias {
		if _, err := broadcastShapes(out, bias.shape); err != nil {
			return nil, c.errf("C: %v", err)
		}
		ob, err := c.outBatch(len(out), v, bias)
		if err != nil {
			return nil, err
		}
		ia, err := c.r.aligned(v, 2, ob, c)
		if err != nil {
			return nil, err
		}
		ib, err := c.r.aligned(bias, 2, ob, c)
		if err != nil {
			return nil, err
		}
		v = c.emit(&model.Node{Name: c.name + "/add_c", Op: model.OpAdd, Inputs: []string{ia, ib}}, &val{shape: out, batch: ob})
	}
	return []*val{v}, nil
}

// gemmLinear is a Linear with constant weights on x's last axis, recorded
// so that a following bias Add can fold into it.
func (c *nctx) gemmLinear(x *val, n int, bias bool, bits int) (*val, *model.Node, error) {
	v, node, err := c.linearVal(x, n, bias, bits, c.name)
	if err != nil {
		return nil, nil, err
	}
	if !bias && len(c.n.outputs) > 0 {
		c.r.linear[c.n.outputs[0]] = node
	}
	return v, node, nil
}

// leftLinear computes A x B for a constant matrix A [M,K] and an
// activation B [...,K,N]: B's last two axes are swapped, a Linear of M
// outputs acts on K, and the axes are swapped back.
func (c *nctx) leftLinear(a, b *val, bias bool) (*val, error) {
	r := len(b.shape)
	if r < 2 || len(a.shape) != 2 {
		return nil, c.errf("a constant left operand %v needs a matrix (rank >= 2) on the right, got %v", a.shape, b.shape)
	}
	if b.shape[r-2] != a.shape[1] {
		return nil, c.errf("inner dimensions differ: %v x %v", a.shape, b.shape)
	}
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[r-2], perm[r-1] = r-1, r-2
	t, err := c.transposeVal(b, perm, c.name+"/t_in")
	if err != nil {
		return nil, err
	}
	l, _, err := c.linearVal(t, a.shape[0], bias, weightBits(a), c.name)
	if err != nil {
		return nil, err
	}
	return c.transposeVal(l, perm, c.name+"/t_out")
}

// matmul is a product of two activations (vector work), with ONNX's
// broadcasting of leading axes.
func (c *nctx) matmul(a, b *val) (*val, error) {
	if len(a.shape) < 2 || len(b.shape) < 2 {
		return nil, c.errf("operands %v and %v: a product of two activations needs rank >= 2 on both", a.shape, b.shape)
	}
	ra, rb := len(a.shape), len(b.shape)
	if a.shape[ra-1] != b.shape[rb-2] {
		return nil, c.errf("inner dimensions differ: %v x %v", a.shape, b.shape)
	}
	for _, v := range []*val{a, b} {
		if v.batch >= len(v.shape)-2 {
			return nil, c.errf("the batch axis of %q (shape %v) is one of its two matrix axes: a product of two activations needs the batch in the leading axes", v.name, v.shape)
		}
	}
	lead, err := broadcastShapes(a.shape[:ra-2], b.shape[:rb-2])
	if err != nil {
		return nil, c.errf("leading axes: %v", err)
	}
	out := append(lead, a.shape[ra-2], b.shape[rb-1])
	ob, err := c.outBatch(len(out), a, b)
	if err != nil {
		return nil, err
	}
	ia, err := c.r.aligned(a, len(out), ob, c)
	if err != nil {
		return nil, err
	}
	ib, err := c.r.aligned(b, len(out), ob, c)
	if err != nil {
		return nil, err
	}
	return c.emit(&model.Node{Op: model.OpMatMul, Inputs: []string{ia, ib}}, &val{shape: out, batch: ob}), nil
}

func opMatMul(c *nctx) ([]*val, error) {
	a, err := c.need(0)
	if err != nil {
		return nil, err
	}
	b, err := c.need(1)
	if err != nil {
		return nil, err
	}
	if len(a.shape) == 0 || len(b.shape) == 0 {
		return nil, c.errf("MatMul of a scalar")
	}
	if a.c != nil && b.c != nil {
		ra, rb := len(a.shape), len(b.shape)
		sa, sb := a.shape, b.shape
		if ra == 1 {
			sa = []int{1, sa[0]}
		}
		if rb == 1 {
			sb = []int{sb[0], 1}
		}
		if sa[len(sa)-1] != sb[len(sb)-2] {
			return nil, c.errf("inner dimensions differ: %v x %v", a.shape, b.shape)
		}
		lead, err := broadcastShapes(sa[:len(sa)-2], sb[:len(sb)-2])
		if err != nil {
			return nil, c.errf("%v", err)
		}
		out := lead
		if ra > 1 {
			out = append(out, sa[len(sa)-2])
		}
		if rb > 1 {
			out = append(out, sb[len(sb)-1])
		}
		return []*val{folded(out, nil)}, nil
	}
	switch {
	case b.c != nil && len(b.shape) == 2:
		if a.shape[len(a.shape)-1] != b.shape[0] {
			return nil, c.errf("inner dimensions differ: %v x %v", a.shape, b.shape)
		}
		v, _, err := c.gemmLinear(a, b.shape[1], false, weightBits(b))
		return []*val{v}, err
	case b.c != nil && len(b.shape) == 1:
		if a.shape[len(a.shape)-1] != b.shape[0] {
			return nil, c.errf("inner dimensions differ: %v x %v", a.shape, b.shape)
		}
		l, _, err := c.linearVal(a, 1, false, weightBits(b), c.name+"/dot")
		if err != nil {
			return nil, err
		}
		out := clone(a.shape[:len(a.shape)-1])
		v, err := c.reshapeVal(l, out, a.batch, c.name)
		return []*val{v}, err
	case a.c != nil && len(a.shape) == 2:
		v, err := c.leftLinear(a, b, false)
		return []*val{v}, err
	}
	v, err := c.matmul(a, b)
	return []*val{v}, err
}

func opPad(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	mode, err := c.attrString("mode", "constant")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return nil, c.errf("mode %q: use constant, reflect, edge or wrap", mode)
	}
	r := len(x.shape)
	pads, ok, err := c.attrInts("pads")
	if err != nil {
		return nil, err
	}
	value := 0.0
	if ok {
		if value, err = c.attrFloat("value", 0); err != nil {
			return nil, err
		}
	} else {
		if pads, ok, err = c.constInts(1, "pads"); err != nil {
			return nil, err
		}
		if !ok {
			return nil, c.errf("no pads (input 1)")
		}
		if v, ok, err := c.constFloats(2, "constant_value"); err != nil {
			return nil, err
		} else if ok && len(v) > 0 {
			value = v[0]
		}
	}
	full := make([]int, 2*r)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if ax, ok, err := c.constInts(3, "axes"); err != nil {
		return nil, err
	} else if ok {
		axes = axes[:0]
		for _, a := range ax {
			n, err := c.axis(a, r, "axes entry")
			if err != nil {
				return nil, err
			}
			axes = append(axes, n)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, c.errf("pads %v has %d entries for %d padded axes (want %d)", pads, len(pads), len(axes), 2*len(axes))
	}
	out := clone(x.shape)
	for k, a := range axes {
		lo, hi := pads[k], pads[len(axes)+k]
		if lo > model.MaxElems || lo < -model.MaxElems || hi > model.MaxElems || hi < -model.MaxElems {
			return nil, c.errf("pads %v for axis %d are %d and %d: each must be from %d to %d", pads, a, lo, hi, -model.MaxElems, model.MaxElems)
		}
		full[a], full[r+a] = int(lo), int(hi)
		n := int64(x.shape[a]) + lo + hi
		if n < 0 || n > model.MaxElems {
			return nil, c.errf("pads %v give axis %d of %v the size %d", pads, a, x.shape, n)
		}
		out[a] = int(n)
	}
	if x.c != nil {
		return []*val{folded(out, nil)}, nil
	}
	if x.batch >= 0 && (full[x.batch] != 0 || full[r+x.batch] != 0) {
		return nil, c.errf("pads %v pad the batch axis %d", pads, x.batch)
	}
	v := &val{shape: out, batch: x.batch, pad: &pendingPad{src: x, pads: full, mode: mode, value: value}}
	if x.pad != nil {
		// Pad of a pad: materialise the first.
		if _, err := c.r.irNode(x); err != nil {
			return nil, err
		}
	}
	return []*val{v}, nil
}

func opResize(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	mode, err := c.attrString("mode", "nearest")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "nearest":
	case "linear", "bilinear", "trilinear":
		mode = "linear"
	case "cubic", "bicubic":
		mode = "cubic"
	default:
		return nil, c.errf("mode %q: use nearest, linear or cubic", mode)
	}
	if ct, err := c.attrString("coordinate_transformation_mode", ""); err != nil {
		return nil, err
	} else if ct == "tf_crop_and_resize" {
		return nil, c.errf("coordinate_transformation_mode tf_crop_and_resize is not supported")
	}
	if p, err := c.attrString("keep_aspect_ratio_policy", "stretch"); err != nil {
		return nil, err
	} else if p != "stretch" {
		return nil, c.errf("keep_aspect_ratio_policy %q is not supported (only stretch)", p)
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if ax, ok, err := c.attrInts("axes"); err != nil {
		return nil, err
	} else if ok {
		axes = axes[:0]
		for _, a := range ax {
			n, err := c.axis(a, r, "axes entry")
			if err != nil {
				return nil, err
			}
			axes = append(axes, n)
		}
	}
	var scales []float64
	var sizes []int64
	scaleIn, sizeIn := 2, 3
	if c.n.op == "Upsample" || len(c.in) == 2 {
		scaleIn, sizeIn = 1, -1
	}
	if f, ok, err := c.attrFloats("scales"); err != nil {
		return nil, err
	} else if ok {
		for _, s := range f {
			scales = append(scales, float64(s))
		}
	} else if f, ok, err := c.constFloats(scaleIn, "scales"); err != nil {
		return nil, err
	} else if ok {
		scales = f
	}
	if sizeIn > 0 {
		if s, ok, err := c.constInts(sizeIn, "sizes"); err != nil {
			return nil, err
		} else if ok {
			sizes = s
		}
	}
	out := clone(x.shape)
	switch {
	case len(sizes) > 0:
		if len(sizes) != len(axes) {
			return nil, c.errf("sizes %v has %d entries for %d axes", sizes, len(sizes), len(axes))
		}
		for k, a := range axes {
			if sizes[k] <= 0 || sizes[k] > model.MaxElems {
				return nil, c.errf("sizes %v: entry %d = %d must be from 1 to %d", sizes, k, sizes[k], model.MaxElems)
			}
			out[a] = int(sizes[k])
		}
	case len(scales) > 0:
		if len(scales) != len(axes) {
			return nil, c.errf("scales %v has %d entries for %d axes", scales, len(scales), len(axes))
		}
		for k, a := range axes {
			n := math.Floor(float64(x.shape[a]) * scales[k])
			if !(n >= 1) || n > float64(model.MaxElems) {
				return nil, c.errf("scales %v give axis %d of %v the size %v", scales, a, x.shape, n)
			}
			out[a] = int(n)
		}
	default:
		return nil, c.errf("neither scales nor sizes is given")
	}
	if x.c != nil {
		return []*val{folded(out, nil)}, nil
	}
	if x.batch >= 0 && out[x.batch] != x.shape[x.batch] {
		return nil, c.errf("resizing the batch axis (%d -> %d) is not supported", x.shape[x.batch], out[x.batch])
	}
	v := &val{shape: out, batch: x.batch}
	if err := checkFull(out, "output"); err != nil {
		return nil, c.errf("%v", err)
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	return []*val{c.emit(&model.Node{Op: model.OpResize, Inputs: []string{src}, Shape: irShape(v), Mode: mode}, v)}, nil
}

func opReduce(c *nctx) ([]*val, error) {
	mode := strings.ToLower(strings.TrimPrefix(c.n.op, "Reduce"))
	switch mode {
	case "l1", "l2", "logsum", "logsumexp", "prod", "sumsquare":
		// One accumulation per input element, as a sum; the per-element
		// abs, square or exponential and the final root or log are not
		// counted apart.
		mode = "sum"
	}
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	r := len(x.shape)
	var axes []int64
	ok := true
	if strings.HasPrefix(c.n.op, "Arg") {
		// ArgMax/ArgMin: a max (min) search over one axis; the indices
		// it outputs cost what the values would.
		mode = strings.ToLower(strings.TrimPrefix(c.n.op, "Arg"))
		a, err := c.attrInt("axis", 0)
		if err != nil {
			return nil, err
		}
		axes = []int64{a}
	} else if axes, ok, err = c.axesArg(1); err != nil {
		return nil, err
	}
	keep, err := c.attrInt("keepdims", 1)
	if err != nil {
		return nil, err
	}
	noop, err := c.attrInt("noop_with_empty_axes", 0)
	if err != nil {
		return nil, err
	}
	red := make([]bool, r)
	if !ok || len(axes) == 0 {
		if noop != 0 {
			return []*val{x}, nil
		}
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		ax, err := c.axis(a, r, "axes entry")
		if err != nil {
			return nil, err
		}
		red[ax] = true
	}
	var out []int
	ob := -1
	var irAxes []int
	for i, d := range x.shape {
		if red[i] && i == x.batch && c.r.batchSize == 1 && x.c == nil {
			// Reducing a batch of one over its batch axis changes
			// nothing: the axis stays (keepdims) or goes.
			if keep != 0 {
				ob = len(out)
				out = append(out, 1)
			}
			continue
		}
		if red[i] {
			if keep != 0 {
				out = append(out, 1)
			}
			if x.c == nil {
				irAx, err := c.irAxis(x, i, "reduced axis")
				if err != nil {
					return nil, err
				}
				irAxes = append(irAxes, irAx)
			}
			continue
		}
		if i == x.batch {
			ob = len(out)
		}
		out = append(out, d)
	}
	if x.c != nil {
		switch op := strings.TrimPrefix(c.n.op, "Reduce"); op {
		case "Sum", "Prod", "Max", "Min", "Mean":
			vals, why := reduceInts(strings.ToLower(op), c.r.maybeValues(x), x.shape, red)
			f := folded(out, vals)
			if vals == nil && x.c.unknown == "" && len(c.n.outputs) > 0 && (x.c.v != nil || x.c.t != nil) {
				// The input's values are known: say why these are not.
				f.c.unknown = fmt.Sprintf("node %s computes %q, and %s", label(c.n), c.n.outputs[0], why)
			}
			return []*val{f}, nil
		}
		return []*val{folded(out, nil)}, nil
	}
	src, err := c.r.irNode(x)
	if err != nil {
		return nil, err
	}
	v := &val{shape: out, batch: ob}
	if len(irAxes) == 0 {
		res, err := c.reshapeVal(x, out, ob, c.name)
		return []*val{res}, err
	}
	if mode == "mean" && r == 4 && x.batch == 0 && !red[1] && red[2] && red[3] {
		g := &val{shape: []int{x.shape[0], x.shape[1], 1, 1}, batch: 0}
		name := c.name
		if keep == 0 {
			name += "/pool"
		}
		g = c.emit(&model.Node{Name: name, Op: model.OpGlobalAvgPool, Inputs: []string{src}}, g)
		if keep != 0 {
			return []*val{g}, nil
		}
		return []*val{c.emit(&model.Node{Op: model.OpFlatten, Inputs: []string{g.ir}}, v)}, nil
	}
	return []*val{c.emit(&model.Node{Op: model.OpReduce, Inputs: []string{src}, Axes: irAxes, KeepDims: keep != 0, Mode: mode}, v)}, nil
}

// opRNN lowers GRU (3 gates), LSTM (4) and RNN (1) for mapping: the input
// weights W [D, gates*H, I] are one Linear acting on every time step; the
// recurrent weights R [D, gates*H, H] are one Linear of H inputs and
// D*gates*H outputs (the same weights and MACs as one per direction)
// acting on every step's state, modelled as reading the step's input
// projection so that the IR stays acyclic; the gates are an Add and a
// Sigmoid over all gates and a Tanh over the state. Y is [T, D, N, H]
// (layout 0) or [N, T, D, H] (layout 1); Y_h (and LSTM's Y_c) the last
// step's state.
func opRNN(c *nctx) ([]*val, error) {
	gates := 1
	switch c.n.op {
	case "GRU":
		gates = 3
	case "LSTM":
		gates = 4
	}
	var in [3]*val
	for k := range in {
		v, err := c.need(k)
		if err != nil {
			return nil, err
		}
		in[k] = v
	}
	x, w, rw := in[0], in[1], in[2]
	layout, err := c.attrInt("layout", 0)
	if err != nil {
		return nil, err
	}
	if x.c != nil || w.c == nil || rw.c == nil || len(x.shape) != 3 || len(w.shape) != 3 || len(rw.shape) != 3 {
		return nil, c.errf("wants an activation X and constant weights W and R, all of rank 3 (X %v, W %v, R %v)", x.shape, w.shape, rw.shape)
	}
	seqAx := 0
	if layout != 0 {
		seqAx = 1
	}
	if x.batch != 1-seqAx {
		return nil, c.errf("input %q (shape %v) has its batch on axis %d, layout %d wants it on axis %d", x.name, x.shape, x.batch, layout, 1-seqAx)
	}
	dirs, gh := w.shape[0], w.shape[1]
	h := gh / gates
	if gh%gates != 0 || w.shape[2] != x.shape[2] || dirs < 1 || dirs > 2 || rw.shape[0] != dirs || rw.shape[1] != gh || rw.shape[2] != h {
		return nil, c.errf("W %v and R %v do not fit input %v: want [directions, %d*hidden, %d] and [directions, %d*hidden, hidden]", w.shape, rw.shape, x.shape, gates, x.shape[2], gates)
	}
	bias := c.input(3) != nil
	xp, _, err := c.linearVal(x, dirs*gh, bias, 0, c.name+"/W")
	if err != nil {
		return nil, err
	}
	slice := func(v *val, name string, axis, end int) *val {
		s := clone(v.shape)
		s[axis] = end
		if axis == 2 {
			axis = 1 // IR axis of the features, whichever the layout
		} else {
			axis = 0 // IR axis of the time steps
		}
		start := 0
		if axis == 0 {
			start = v.shape[seqAx] - 1
		}
		return c.emit(&model.Node{Name: c.name + name, Op: model.OpSlice, Inputs: []string{v.ir}, Axis: axis, Start: start, End: start + end}, &val{shape: s, batch: v.batch})
	}
	hp, _, err := c.linearVal(slice(xp, "/state", 2, h), dirs*gh, bias, 0, c.name+"/R")
	if err != nil {
		return nil, err
	}
	g := c.emit(&model.Node{Name: c.name + "/gates_in", Op: model.OpAdd, Inputs: []string{xp.ir, hp.ir}}, &val{shape: clone(xp.shape), batch: xp.batch})
	g = c.emit(&model.Node{Name: c.name + "/gates", Op: model.OpSigmoid, Inputs: []string{g.ir}}, g)
	st := slice(g, "/h", 2, dirs*h)
	st = c.emit(&model.Node{Name: c.name + "/state_out", Op: model.OpTanh, Inputs: []string{st.ir}}, &val{shape: st.shape, batch: st.batch})
	t, n := x.shape[seqAx], x.shape[1-seqAx]
	last := slice(st, "/last", seqAx, 1)
	if layout != 0 {
		y, err := c.reshapeVal(st, []int{n, t, dirs, h}, 0, c.name)
		if err != nil {
			return nil, err
		}
		yh, err := c.reshapeVal(last, []int{n, dirs, h}, 0, c.name+"/Y_h")
		return []*val{y, yh, yh}, err
	}
	y, err := c.reshapeVal(st, []int{t, n, dirs, h}, 1, c.name+"/y4")
	if err == nil {
		y, err = c.transposeVal(y, []int{0, 2, 1, 3}, c.name)
	}
	if err != nil {
		return nil, err
	}
	yh, err := c.reshapeVal(last, []int{n, dirs, h}, 0, c.name+"/yh3")
	if err == nil {
		yh, err = c.transposeVal(yh, []int{1, 0, 2}, c.name+"/Y_h")
	}
	return []*val{y, yh, yh}, err
}
