package onnx

import (
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/model"
)

// Constant folding on small values (shape computations).

// broadcastShapes applies ONNX (numpy) multidirectional broadcasting.
func broadcastShapes(a, b []int) ([]int, error) {
	out, err := model.Broadcast(a, b)
	return []int(out), err
}

// strides returns row-major strides.
func strides(s []int) []int {
	st := make([]int, len(s))
	k := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = k
		k *= s[i]
	}
	return st
}

// bcastFlat maps a flat output index to the flat index of an operand of
// shape s broadcast to out.
func bcastFlat(flat int, out, s []int) int {
	idx := 0
	ost := strides(out)
	sst := strides(s)
	off := len(out) - len(s)
	for i := range out {
		coord := (flat / ost[i]) % out[i]
		if j := i - off; j >= 0 && s[j] != 1 {
			idx += coord * sst[j]
		}
	}
	return idx
}

// small reports whether a folded result is small enough to compute.
func small(shape []int) bool {
	n := int64(1)
	for _, d := range shape {
		if d > maxDecode {
			return false
		}
		n *= int64(d)
		if n > maxDecode {
			return false
		}
	}
	return true
}

// foldBinary computes an element-wise binary op on constant values.
func foldBinary(op string, a, b *values, sa, sb, out []int) *values {
	if a == nil || b == nil || !small(out) || int64(len(a.f)) != prod(sa) || int64(len(b.f)) != prod(sb) {
		return nil
	}
	n := int(prod(out))
	isInt := a.i != nil && b.i != nil
	res := &values{f: make([]float64, n)}
	if isInt {
		res.i = make([]int64, n)
	}
	for k := 0; k < n; k++ {
		ka, kb := bcastFlat(k, out, sa), bcastFlat(k, out, sb)
		x, y := a.f[ka], b.f[kb]
		if isInt {
			xi, yi := a.i[ka], b.i[kb]
			var v int64
			switch op {
			case "Add":
				v = xi + yi
			case "Sub":
				v = xi - yi
			case "Mul":
				v = xi * yi
			case "Div":
				if yi == 0 {
					return nil
				}
				v = xi / yi
			case "Mod":
				if yi == 0 {
					return nil
				}
				v = xi % yi
				if v != 0 && (v < 0) != (yi < 0) {
					v += yi // ONNX Mod (fmod=0) takes the divisor's sign
				}
			case "Max":
				v = max(xi, yi)
			case "Min":
				v = min(xi, yi)
			case "Pow":
				v = int64(math.Pow(float64(xi), float64(yi)))
			case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
				v = int64(cmp(op, x, y))
			default:
				return nil
			}
			res.i[k], res.f[k] = v, float64(v)
			continue
		}
		var v float64
		switch op {
		case "Add":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Div":
			v = x / y
		case "Mod":
			v = math.Mod(x, y)
		case "Max":
			v = math.Max(x, y)
		case "Min":
			v = math.Min(x, y)
		case "Pow":
			v = math.Pow(x, y)
		case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
			v = cmp(op, x, y)
		default:
			return nil // not evaluated: the result's values are not known
		}
		res.f[k] = v
	}
	switch op {
	case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
		if res.i == nil {
			res.i = make([]int64, n)
			for k, f := range res.f {
				res.i[k] = int64(f)
			}
		}
	}
	return res
}

func cmp(op string, x, y float64) float64 {
	b := false
	switch op {
	case "Equal":
		b = x == y
	case "Less":
		b = x < y
	case "Greater":
		b = x > y
	case "LessOrEqual":
		b = x <= y
	case "GreaterOrEqual":
		b = x >= y
	case "And":
		b = x != 0 && y != 0
	case "Or":
		b = x != 0 || y != 0
	case "Xor":
		b = (x != 0) != (y != 0)
	}
	if b {
		return 1
	}
	return 0
}

func foldUnary(op string, a *values) *values {
	if a == nil {
		return nil
	}
	res := &values{f: make([]float64, len(a.f))}
	keepInt := a.i != nil && (op == "Neg" || op == "Abs" || op == "Floor" || op == "Ceil" || op == "Round" || op == "Sign" || op == "Not")
	if keepInt {
		res.i = make([]int64, len(a.f))
	}
	for k, x := range a.f {
		var v float64
		switch op {
		case "Neg":
			v = -x
		case "Abs":
			v = math.Abs(x)
		case "Sqrt":
			v = math.Sqrt(x)
		case "Reciprocal":
			v = 1 / x
		case "Floor":
			v = math.Floor(x)
		case "Ceil":
			v = math.Ceil(x)
		case "Round":
			v = math.RoundToEven(x)
		case "Exp":
			v = math.Exp(x)
		case "Log":
			v = math.Log(x)
		case "Erf":
			v = math.Erf(x)
		case "Sign":
			switch {
			case x > 0:
				v = 1
			case x < 0:
				v = -1
			}
		case "Not":
			if x == 0 {
				v = 1
			}
		case "Sin":
			v = math.Sin(x)
		case "Cos":
			v = math.Cos(x)
		default:
			return nil // not evaluated: the result's values are not known
		}
		res.f[k] = v
		if keepInt {
			if a.i != nil && (op == "Neg" || op == "Abs") {
				iv := a.i[k]
				if op == "Neg" || iv < 0 {
					iv = -iv
				}
				res.i[k] = iv
			} else {
				res.i[k] = int64(v)
			}
		}
	}
	return res
}

// gatherValues computes Gather on constant values.
func gatherValues(data *values, shape []int, axis int, idx []int64, idxShape []int, out []int) *values {
	if data == nil || !small(out) || int64(len(data.f)) != prod(shape) {
		return nil
	}
	outer := int(prod(shape[:axis]))
	inner := int(prod(shape[axis+1:]))
	d := shape[axis]
	res := &values{f: make([]float64, 0, prod(out))}
	if data.i != nil {
		res.i = make([]int64, 0, prod(out))
	}
	for o := 0; o < outer; o++ {
		for _, ix := range idx {
			if ix < 0 {
				ix += int64(d)
			}
			base := (o*d + int(ix)) * inner
			res.f = append(res.f, data.f[base:base+inner]...)
			if data.i != nil {
				res.i = append(res.i, data.i[base:base+inner]...)
			}
		}
	}
	return res
}

// sliceValues computes a strided N-D slice on constant values.
func sliceValues(data *values, shape []int, starts, steps, out []int) *values {
	if data == nil || !small(out) || int64(len(data.f)) != prod(shape) {
		return nil
	}
	n := int(prod(out))
	st := strides(shape)
	ost := strides(out)
	res := &values{f: make([]float64, n)}
	if data.i != nil {
		res.i = make([]int64, n)
	}
	for k := 0; k < n; k++ {
		src := 0
		for a := range out {
			coord := (k / ost[a]) % out[a]
			src += (starts[a] + coord*steps[a]) * st[a]
		}
		res.f[k] = data.f[src]
		if data.i != nil {
			res.i[k] = data.i[src]
		}
	}
	return res
}

// concatValues joins constant values along axis.
func concatValues(parts []*values, shapes [][]int, axis int, out []int) *values {
	if !small(out) {
		return nil
	}
	isInt := true
	for k, p := range parts {
		if p == nil || int64(len(p.f)) != prod(shapes[k]) {
			return nil
		}
		isInt = isInt && p.i != nil
	}
	res := &values{}
	outer := int(prod(out[:axis]))
	for o := 0; o < outer; o++ {
		for k, p := range parts {
			inner := int(prod(shapes[k][axis:]))
			res.f = append(res.f, p.f[o*inner:(o+1)*inner]...)
			if isInt {
				res.i = append(res.i, p.i[o*inner:(o+1)*inner]...)
			}
		}
	}
	if res.f == nil {
		res.f = []float64{}
	}
	if isInt && res.i == nil {
		res.i = []int64{}
	}
	return res
}

// expandValues broadcasts constant values to out.
func expandValues(a *values, s, out []int) *values {
	if a == nil || !small(out) || int64(len(a.f)) != prod(s) {
		return nil
	}
	n := int(prod(out))
	res := &values{f: make([]float64, n)}
	if a.i != nil {
		res.i = make([]int64, n)
	}
	for k := 0; k < n; k++ {
		j := bcastFlat(k, out, s)
		res.f[k] = a.f[j]
		if a.i != nil {
			res.i[k] = a.i[j]
		}
	}
	return res
}

// transposeValues permutes constant values: output axis i is input axis
// perm[i].
func transposeValues(a *values, shape, perm, out []int) *values {
	if a == nil || !small(out) || int64(len(a.f)) != prod(shape) {
		return nil
	}
	n := int(prod(out))
	st := strides(shape)
	ost := strides(out)
	res := &values{f: make([]float64, n)}
	if a.i != nil {
		res.i = make([]int64, n)
	}
	for k := 0; k < n; k++ {
		src := 0
		for i := range out {
			src += (k / ost[i]) % out[i] * st[perm[i]]
		}
		res.f[k] = a.f[src]
		if a.i != nil {
			res.i[k] = a.i[src]
		}
	}
	return res
}

// reduceInts folds ReduceSum, ReduceProd, ReduceMax, ReduceMin or
// ReduceMean (op, lower case: sum, prod, max, min, mean) of small integer
// values over the axes marked in red. The result is in row-major order of
// the kept axes (the same with or without keepdims). It returns nil and
// the reason when the result is not an exact 64-bit integer: a sum or
// product that overflows, a mean that is not whole, or a maximum or
// minimum over an empty axis.
func reduceInts(op string, data *values, shape []int, red []bool) (*values, string) {
	switch {
	case data == nil || int64(len(data.f)) != prod(shape) || !small(shape):
		return nil, fmt.Sprintf("its input has more than the %d elements this reader evaluates", maxDecode)
	case data.i == nil || int64(len(data.i)) != prod(shape):
		return nil, "this reader evaluates reductions of integer values only"
	}
	kept := make([]int, len(shape))
	count := int64(1)
	for a, d := range shape {
		kept[a] = d
		if red[a] {
			kept[a] = 1
			count *= int64(d)
		}
	}
	n := int(prod(kept))
	if count == 0 && (op == "max" || op == "min" || op == "mean") {
		return nil, "it reduces an empty axis, which has no " + op
	}
	acc := make([]int64, n)
	seen := make([]bool, n)
	for k := range acc {
		if op == "prod" {
			acc[k] = 1
		}
	}
	st, kst := strides(shape), strides(kept)
	for src, x := range data.i {
		dst := 0
		for a := range shape {
			if !red[a] {
				dst += (src / st[a]) % shape[a] * kst[a]
			}
		}
		switch op {
		case "sum", "mean":
			s := acc[dst] + x
			if (x > 0 && s < acc[dst]) || (x < 0 && s > acc[dst]) {
				return nil, "its sum overflows 64-bit integers"
			}
			acc[dst] = s
		case "prod":
			if x != 0 && acc[dst] != 0 {
				p := acc[dst] * x
				if p/x != acc[dst] || (x == -1 && acc[dst] == math.MinInt64) {
					return nil, "its product overflows 64-bit integers"
				}
				acc[dst] = p
			} else {
				acc[dst] = 0
			}
		case "max":
			if !seen[dst] || x > acc[dst] {
				acc[dst] = x
			}
		case "min":
			if !seen[dst] || x < acc[dst] {
				acc[dst] = x
			}
		default:
			return nil, "this reader does not evaluate it"
		}
		seen[dst] = true
	}
	res := &values{f: make([]float64, n), i: acc}
	for k, v := range acc {
		if op == "mean" {
			if v%count != 0 {
				return nil, "its mean is not a whole number"
			}
			v /= count
			acc[k] = v
		}
		res.f[k] = float64(v)
	}
	return res, ""
}
