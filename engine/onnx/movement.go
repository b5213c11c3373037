package onnx

import (
	"strconv"

	"github.com/compass-go/compass/engine/model"
)

// Data movement written as other IR ops: Tile as Concats of copies,
// DepthToSpace and SpaceToDepth as Reshape, Transpose, Reshape.

// opTile repeats x along each axis: folded on constants; on an activation,
// one Concat of the copies per repeated axis.
func opTile(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	reps, ok, err := c.constInts(1, "repeats")
	if err != nil {
		return nil, err
	}
	if !ok || len(reps) != len(x.shape) {
		return nil, c.errf("repeats must be a constant with one entry per axis of %v", x.shape)
	}
	out := clone(x.shape)
	for i, r := range reps {
		if r < 1 || r > maxNodeIO {
			return nil, c.errf("repeats %v: each must be between 1 and %d", reps, maxNodeIO)
		}
		out[i] *= int(r)
	}
	if err := checkFull(out, "the tiled output"); err != nil {
		return nil, c.errf("%v", err)
	}
	if x.c != nil {
		return []*val{folded(out, tileValues(c.r.maybeValues(x), x.shape, out))}, nil
	}
	last := -1
	for i, r := range reps {
		if r > 1 {
			last = i
		}
	}
	cur := x
	for i, r := range reps {
		if r == 1 {
			continue
		}
		name := c.name
		if i != last {
			name += "/tile" + strconv.Itoa(i)
		}
		irAx, err := c.irAxis(cur, i, "repeated axis")
		if err != nil {
			return nil, err
		}
		src, err := c.r.irNode(cur)
		if err != nil {
			return nil, err
		}
		ins := make([]string, r)
		for k := range ins {
			ins[k] = src
		}
		shape := clone(cur.shape)
		shape[i] *= int(r)
		cur = c.emit(&model.Node{Name: name, Op: model.OpConcat, Inputs: ins, Axis: irAx}, &val{shape: shape, batch: cur.batch})
	}
	return []*val{cur}, nil
}

// tileValues computes Tile on constant values.
func tileValues(a *values, shape, out []int) *values {
	if a == nil || !small(out) || int64(len(a.f)) != prod(shape) {
		return nil
	}
	n := int(prod(out))
	st, ost := strides(shape), strides(out)
	res := &values{f: make([]float64, n)}
	if a.i != nil {
		res.i = make([]int64, n)
	}
	for k := 0; k < n; k++ {
		src := 0
		for i := range out {
			src += (k / ost[i]) % out[i] % shape[i] * st[i]
		}
		res.f[k] = a.f[src]
		if a.i != nil {
			res.i[k] = a.i[src]
		}
	}
	return res
}

// opDepthToSpace lowers DepthToSpace (modes DCR and CRD) and SpaceToDepth
// on [N,C,H,W] to a Reshape, a Transpose and a Reshape.
func opDepthToSpace(c *nctx) ([]*val, error) {
	x, err := c.need(0)
	if err != nil {
		return nil, err
	}
	b64, err := c.attrInt("blocksize", 0)
	if err != nil {
		return nil, err
	}
	if len(x.shape) != 4 || x.batch != 0 {
		return nil, c.errf("input %q has shape %v: %s wants [N,C,H,W] with the batch first", x.name, x.shape, c.n.op)
	}
	n, ch, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	if b64 < 1 || b64 > 1<<10 {
		return nil, c.errf("blocksize = %d: give a positive block size", b64)
	}
	b := int(b64)
	var split, perm, out []int
	if c.n.op == "SpaceToDepth" {
		if h%b != 0 || w%b != 0 {
			return nil, c.errf("input %v: height and width must be multiples of blocksize %d", x.shape, b)
		}
		split, perm, out = []int{n, ch, h / b, b, w / b, b}, []int{0, 3, 5, 1, 2, 4}, []int{n, ch * b * b, h / b, w / b}
	} else {
		if ch%(b*b) != 0 {
			return nil, c.errf("input %v: channels must be a multiple of blocksize² = %d", x.shape, b*b)
		}
		mode, err := c.attrString("mode", "DCR")
		if err != nil {
			return nil, err
		}
		split, perm = []int{n, b, b, ch / (b * b), h, w}, []int{0, 3, 4, 1, 5, 2}
		if mode == "CRD" {
			split, perm = []int{n, ch / (b * b), b, b, h, w}, []int{0, 1, 4, 2, 5, 3}
		} else if mode != "DCR" {
			return nil, c.errf("mode %q: use DCR or CRD", mode)
		}
		out = []int{n, ch / (b * b), h * b, w * b}
	}
	if x.c != nil {
		return []*val{folded(out, nil)}, nil
	}
	v, err := c.reshapeVal(x, split, 0, c.name+"/split")
	if err != nil {
		return nil, err
	}
	if v, err = c.transposeVal(v, perm, c.name+"/perm"); err != nil {
		return nil, err
	}
	v, err = c.reshapeVal(v, out, 0, c.name)
	return []*val{v}, err
}
