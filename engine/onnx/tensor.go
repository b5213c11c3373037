package onnx

import (
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/compass-go/compass/engine/model"
)

// Element kinds of ONNX data types.
const (
	kindFloat = iota + 1
	kindInt
	kindUint
	kindBool
	kindString
	kindComplex
	kindFloat8
)

type dtypeInfo struct {
	name  string
	bits  int              // bits per element (0: strings)
	field protowire.Number // typed data field of TensorProto
	kind  int
}

// dtypes are the TensorProto.DataType values this reader knows, indexed by
// value (a zero entry is unknown).
var dtypes = [...]dtypeInfo{
	1:  {"float", 32, 4, kindFloat},
	2:  {"uint8", 8, 5, kindUint},
	3:  {"int8", 8, 5, kindInt},
	4:  {"uint16", 16, 5, kindUint},
	5:  {"int16", 16, 5, kindInt},
	6:  {"int32", 32, 5, kindInt},
	7:  {"int64", 64, 7, kindInt},
	8:  {"string", 0, 6, kindString},
	9:  {"bool", 8, 5, kindBool},
	10: {"float16", 16, 5, kindFloat},
	11: {"double", 64, 10, kindFloat},
	12: {"uint32", 32, 11, kindUint},
	13: {"uint64", 64, 11, kindUint},
	14: {"complex64", 64, 4, kindComplex},
	15: {"complex128", 128, 10, kindComplex},
	16: {"bfloat16", 16, 5, kindFloat},
	17: {"float8e4m3fn", 8, 5, kindFloat8},
	18: {"float8e4m3fnuz", 8, 5, kindFloat8},
	19: {"float8e5m2", 8, 5, kindFloat8},
	20: {"float8e5m2fnuz", 8, 5, kindFloat8},
	21: {"uint4", 4, 5, kindUint},
	22: {"int4", 4, 5, kindInt},
	23: {"float4e2m1", 4, 5, kindFloat8},
}

const (
	typeFloat = 1
	typeInt64 = 7
	typeBool  = 9
)

// quantBits is the bit width of a weight of data type t as the crossbars
// store it: the width of an integer type of at most model.MaxWeightBits
// bits (int4, uint4, int8, uint8, int16, uint16), else 0 (floats, and
// int32 and wider, are mapped at the chip's weight_bits).
func quantBits(t int32) int {
	d, ok := dtype(t)
	if !ok || (d.kind != kindInt && d.kind != kindUint) || d.bits > model.MaxWeightBits {
		return 0
	}
	return d.bits
}

// weightBits is the bit width a constant weight v keeps on the crossbars:
// its own integer type's, or that of the integer tensor it was folded from
// (a DequantizeLinear, a Transpose or a Reshape of one); 0 for the chip's.
func weightBits(v *val) int {
	if v.wbits > 0 {
		return v.wbits
	}
	return quantBits(v.dtype)
}

// dtype returns the description of data type t, if it is known.
func dtype(t int32) (dtypeInfo, bool) {
	if t <= 0 || int(t) >= len(dtypes) {
		return dtypeInfo{}, false
	}
	return dtypes[t], true
}

// maxTensorElems bounds what a tensor may declare (2^50 elements): a larger
// count cannot be a real model, and staying below it keeps products of
// dimensions far from overflowing.
const maxTensorElems = int64(1) << 50

// elems returns the element count of the tensor's dims.
func elems(dims []int64, what string) (int64, error) {
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("%s has dimension %d = %d: dimensions must not be negative", what, i, d)
		}
		if d != 0 && n > maxTensorElems/d {
			return 0, fmt.Errorf("%s has dims %v whose product overflows (more than 2^50 elements): a corrupt file", what, dims)
		}
		n *= d
	}
	return n, nil
}

// payloadBytes is the raw_data size of n elements of type d.
func payloadBytes(d dtypeInfo, n int64) int64 { return (n*int64(d.bits) + 7) / 8 }

// check validates a tensor's metadata against its data: the type is known,
// the data (raw, typed, or external) holds exactly as many elements as the
// dims say. It reads no payload beyond counting the varints of packed
// varint fields, and for external data it reads only file metadata.
func (r *reader) check(t *tensorProto, what string) error {
	d, ok := dtype(t.dtype)
	if !ok {
		return fmt.Errorf("%s has unknown data type %d", what, t.dtype)
	}
	n, err := elems(t.dims, what)
	if err != nil {
		return err
	}
	if t.segment {
		return fmt.Errorf("%s is stored in segments (TensorProto.segment), which this reader does not support", what)
	}
	if t.locExt || len(t.extern) > 0 {
		return r.checkExternal(t, d, n, what)
	}
	if d.kind == kindString {
		if t.strs != n {
			return fmt.Errorf("%s declares %d strings (dims %v) but holds %d", what, n, t.dims, t.strs)
		}
		return nil
	}
	if t.hasRaw {
		if t.typed != 0 {
			return fmt.Errorf("%s holds both raw_data and a typed data field", what)
		}
		if want := payloadBytes(d, n); t.raw.n != want {
			return fmt.Errorf("%s declares %d elements of %s (dims %v, %d bytes) but its raw_data holds %d bytes", what, n, d.name, t.dims, want, t.raw.n)
		}
		return nil
	}
	if t.typed == 0 {
		if n == 0 {
			return nil
		}
		return fmt.Errorf("%s declares %d elements (dims %v) but holds no data", what, n, t.dims)
	}
	if t.typed != d.field {
		return fmt.Errorf("%s of type %s holds its data in field %d, but that type belongs in field %d", what, d.name, t.typed, d.field)
	}
	count := t.nvals
	switch t.typed {
	case 4, 10:
		size := int64(4)
		if t.typed == 10 {
			size = 8
		}
		for _, s := range t.packed {
			if s.n%size != 0 {
				return fmt.Errorf("%s: packed data of %d bytes is not a multiple of %d", what, s.n, size)
			}
			count += s.n / size
		}
	default:
		for _, s := range t.packed {
			c, err := countVarints(t.src, s)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			count += c
		}
	}
	want := n
	switch {
	case d.kind == kindComplex:
		want = 2 * n
	case d.bits == 4 && count == (n+1)/2:
		want = count
	}
	if count != want {
		return fmt.Errorf("%s declares %d elements of %s (dims %v) but holds %d values", what, n, d.name, t.dims, count)
	}
	return nil
}

// countVarints counts the varints of a packed field without storing them.
func countVarints(src source, s span) (int64, error) {
	var c int64
	last := byte(0)
	for off, end := s.off, s.off+s.n; off < end; {
		k := int(min(end-off, 32<<10))
		b, err := src.at(off, k)
		if err != nil {
			return 0, err
		}
		for _, x := range b {
			if x < 0x80 {
				c++
			}
		}
		last = b[len(b)-1]
		off += int64(k)
	}
	if s.n > 0 && last >= 0x80 {
		return 0, fmt.Errorf("packed varints end inside a value: the file is corrupt")
	}
	return c, nil
}

// checkExternal validates the metadata of external data: a relative
// location inside the model's directory, offset and length that agree
// with the dims, and, when the reader may use the filesystem, a file large
// enough. The data itself is not read.
func (r *reader) checkExternal(t *tensorProto, d dtypeInfo, n int64, what string) error {
	loc, off, length, err := externalInfo(t, what)
	if err != nil {
		return err
	}
	want := payloadBytes(d, n)
	if length >= 0 && length != want {
		return fmt.Errorf("%s declares %d elements of %s (%d bytes) but its external data has length %d", what, n, d.name, want, length)
	}
	if !r.opt.AllowExternal {
		return fmt.Errorf("%s keeps its data in the external file %q: this reader has no filesystem (the browser); read the model with the command-line tool, or save it with its weights inside the .onnx file", what, loc)
	}
	return r.statExternal(loc, off+want, what)
}

// externalInfo reads the location, offset and length keys (-1: no length).
func externalInfo(t *tensorProto, what string) (loc string, off, length int64, err error) {
	length = -1
	for _, e := range t.extern {
		switch e.key {
		case "location":
			loc = e.value
		case "offset", "length":
			v, perr := strconv.ParseInt(e.value, 10, 64)
			if perr != nil || v < 0 {
				return "", 0, 0, fmt.Errorf("%s has external data %s %q: want a non-negative integer", what, e.key, e.value)
			}
			if e.key == "offset" {
				off = v
			} else {
				length = v
			}
		}
	}
	if loc == "" {
		return "", 0, 0, fmt.Errorf("%s is marked as external data but names no location", what)
	}
	return loc, off, length, nil
}

// values holds a small tensor's decoded elements: f always, i exactly for
// integer and bool types.
type values struct {
	f []float64
	i []int64
}

// decode reads the elements of a tensor of at most maxDecode elements, for
// shape inference (Reshape targets, Slice starts, Pad pads, ...).
func (r *reader) decode(t *tensorProto, what string) (*values, error) {
	d, _ := dtype(t.dtype)
	n, err := elems(t.dims, what)
	if err != nil {
		return nil, err
	}
	if n > maxDecode {
		return nil, fmt.Errorf("%s has %d elements: too many to be a shape operand (at most %d are decoded)", what, n, maxDecode)
	}
	switch d.kind {
	case kindString, kindComplex, kindFloat8:
		return nil, fmt.Errorf("%s has type %s, whose values this reader does not decode", what, d.name)
	}
	bits, err := r.elemBits(t, d, n, what)
	if err != nil {
		return nil, err
	}
	out := &values{f: make([]float64, n)}
	if d.kind == kindInt || d.kind == kindUint || d.kind == kindBool {
		out.i = make([]int64, n)
	}
	for k, b := range bits {
		out.f[k], b = elemValue(t, d, b)
		if out.i != nil {
			out.i[k] = int64(b)
		}
	}
	return out, nil
}

// elemBits returns each element's bit pattern: little-endian from raw
// data, or the typed field's values (packed, then unpacked).
func (r *reader) elemBits(t *tensorProto, d dtypeInfo, n int64, what string) ([]uint64, error) {
	bits := make([]uint64, 0, n)
	var raw []byte
	var err error
	switch {
	case t.locExt || len(t.extern) > 0:
		raw, err = r.readExternal(t, payloadBytes(d, n), what)
	case t.hasRaw:
		raw, err = t.src.at(t.raw.off, int(t.raw.n))
	}
	if err != nil {
		return nil, err
	}
	if raw != nil {
		if int64(len(raw)) != payloadBytes(d, n) {
			return nil, fmt.Errorf("%s: raw data of %d bytes for %d elements", what, len(raw), n)
		}
		w := int64(d.bits)
		for k := int64(0); k < n; k++ {
			var v uint64
			if w == 4 {
				v = uint64(raw[k/2]>>(4*(k%2))) & 0xf
			} else {
				for j := w/8 - 1; j >= 0; j-- {
					v = v<<8 | uint64(raw[k*w/8+j])
				}
			}
			bits = append(bits, v)
		}
		return bits, nil
	}
	for _, s := range t.packed {
		b, err := t.src.at(s.off, int(s.n))
		if err != nil {
			return nil, err
		}
		for len(b) > 0 && int64(len(bits)) <= n {
			var v uint64
			k := 0
			switch t.typed {
			case 4:
				var w uint32
				w, k = protowire.ConsumeFixed32(b)
				v = uint64(w)
			case 10:
				v, k = protowire.ConsumeFixed64(b)
			default:
				v, k = protowire.ConsumeVarint(b)
			}
			if k < 0 {
				return nil, fmt.Errorf("%s: bad packed data: %v", what, protowire.ParseError(k))
			}
			bits = append(bits, v)
			b = b[k:]
		}
	}
	bits = append(bits, t.vals...)
	if d.bits == 4 && int64(len(bits)) == (n+1)/2 && n > 1 {
		// Two 4-bit elements per int32_data entry, low nibble first.
		un := make([]uint64, n)
		for k := range un {
			un[k] = bits[k/2] >> (4 * (k % 2)) & 0xf
		}
		bits = un
	}
	if int64(len(bits)) != n {
		return nil, fmt.Errorf("%s declares %d elements but holds %d values", what, n, len(bits))
	}
	return bits, nil
}

// elemValue converts one element's bits to a float and, for integer
// types, an exact integer.
func elemValue(t *tensorProto, d dtypeInfo, b uint64) (float64, uint64) {
	switch {
	case t.typed == 4 || t.typed == 0 && t.dtype == typeFloat:
		return float64(math.Float32frombits(uint32(b))), 0
	case t.typed == 10 || t.typed == 0 && t.dtype == 11:
		return math.Float64frombits(b), 0
	case t.dtype == 10:
		return half(uint16(b)), 0
	case t.dtype == 16:
		return float64(math.Float32frombits(uint32(uint16(b)) << 16)), 0
	}
	w := uint(d.bits)
	if t.typed != 0 && w > 4 {
		return float64(int64(b)), b // varints hold the value itself
	}
	if w < 64 {
		b &= 1<<w - 1
		if d.kind == kindInt && b >= 1<<(w-1) {
			b -= 1 << w // sign-extend (wraps to the two's complement)
		}
	}
	return float64(int64(b)), b
}

// readExternal reads a small external payload (only for values shape
// inference needs; weights are never read).
func (r *reader) readExternal(t *tensorProto, size int64, what string) ([]byte, error) {
	loc, off, _, err := externalInfo(t, what)
	if err != nil {
		return nil, err
	}
	if !r.opt.AllowExternal {
		return nil, fmt.Errorf("%s keeps its data in the external file %q: this reader has no filesystem", what, loc)
	}
	return r.readExternalFile(loc, off, size, what)
}

// half converts an IEEE 754 half-precision bit pattern.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 0x1f:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}
