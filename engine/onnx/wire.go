package onnx

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// source is the bytes of one model file, read on demand: the whole file in
// memory (ReadBytes, Read) or an open file (ReadFile), so that a weight
// payload is never read, let alone copied, unless its values are needed.
type source interface {
	size() int64
	// at returns the n bytes at off. The slice may alias a buffer that the
	// next call reuses: callers copy what they keep.
	at(off int64, n int) ([]byte, error)
}

// memSource is a model held in memory.
type memSource []byte

func (m memSource) size() int64 { return int64(len(m)) }

func (m memSource) at(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > int64(len(m)) || int64(n) > int64(len(m))-off {
		return nil, errTruncated
	}
	return m[off : off+int64(n)], nil
}

// fileSource reads a model through io.ReaderAt with a small window, so that
// walking the fields of a large file costs few reads and little memory.
type fileSource struct {
	r      io.ReaderAt
	n      int64
	win    []byte
	winOff int64
	winLen int
	big    []byte
}

const fileWindow = 64 << 10

func newFileSource(r io.ReaderAt, n int64) *fileSource {
	return &fileSource{r: r, n: n, win: make([]byte, fileWindow), winOff: -1}
}

func (f *fileSource) size() int64 { return f.n }

func (f *fileSource) at(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > f.n || int64(n) > f.n-off {
		return nil, errTruncated
	}
	if f.winOff >= 0 && off >= f.winOff && off+int64(n) <= f.winOff+int64(f.winLen) {
		s := off - f.winOff
		return f.win[s : s+int64(n)], nil
	}
	if n > len(f.win) {
		// Callers bound n (names, small tensors), so this is bounded too.
		if cap(f.big) < n {
			f.big = make([]byte, n)
		}
		b := f.big[:n]
		if k, err := f.r.ReadAt(b, off); k < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading %d bytes at offset %d: %w", n, off, err)
		}
		return b, nil
	}
	m := int(min(int64(len(f.win)), f.n-off))
	k, err := f.r.ReadAt(f.win[:m], off)
	if k < n {
		f.winOff = -1
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d bytes at offset %d: %w", n, off, err)
	}
	f.winOff, f.winLen = off, k
	return f.win[:n], nil
}

var errTruncated = errors.New("truncated: the data ends inside a field")

// field is one decoded protobuf field: its number and wire type, and
// either its scalar value (varint, fixed32, fixed64) or the position of its
// length-delimited payload.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint, fixed32 or fixed64 value
	off int64  // payload offset (BytesType)
	n   int64  // payload length (BytesType)
}

// msg walks the fields of one message stored in src[off:end].
type msg struct {
	src      source
	off, end int64
}

func (m *msg) more() bool { return m.off < m.end }

// next decodes the next field. Groups (deprecated wire types 3 and 4) are
// rejected: ONNX does not use them.
func (m *msg) next() (field, error) {
	var f field
	b, err := m.src.at(m.off, int(min(m.end-m.off, 20)))
	if err != nil {
		return f, err
	}
	num, typ, k := protowire.ConsumeTag(b)
	if k < 0 {
		return f, wireErr(m.off, "tag", k)
	}
	f.num, f.typ = num, typ
	pos := m.off + int64(k)
	b = b[k:]
	switch typ {
	case protowire.VarintType:
		v, k := protowire.ConsumeVarint(b)
		if k < 0 {
			return f, wireErr(pos, fmt.Sprintf("field %d (varint)", num), k)
		}
		f.v, pos = v, pos+int64(k)
	case protowire.Fixed32Type:
		v, k := protowire.ConsumeFixed32(b)
		if k < 0 {
			return f, wireErr(pos, fmt.Sprintf("field %d (fixed32)", num), k)
		}
		f.v, pos = uint64(v), pos+int64(k)
	case protowire.Fixed64Type:
		v, k := protowire.ConsumeFixed64(b)
		if k < 0 {
			return f, wireErr(pos, fmt.Sprintf("field %d (fixed64)", num), k)
		}
		f.v, pos = v, pos+int64(k)
	case protowire.BytesType:
		v, k := protowire.ConsumeVarint(b)
		if k < 0 {
			return f, wireErr(pos, fmt.Sprintf("field %d (length)", num), k)
		}
		pos += int64(k)
		if v > uint64(m.end-pos) {
			return f, fmt.Errorf("at byte %d: field %d claims %d bytes but only %d remain in its message: the file is truncated or corrupt", m.off, num, v, m.end-pos)
		}
		f.off, f.n = pos, int64(v)
		pos += int64(v)
	default:
		return f, fmt.Errorf("at byte %d: field %d has wire type %d (a protobuf group or an invalid type), which ONNX files never use: not an ONNX model, or a corrupt one", m.off, num, typ)
	}
	if pos > m.end {
		return f, fmt.Errorf("at byte %d: field %d runs past the end of its message: the file is truncated or corrupt", m.off, num)
	}
	m.off = pos
	return f, nil
}

func wireErr(off int64, what string, k int) error {
	err := protowire.ParseError(k)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("at byte %d: %s is cut short: the file is truncated or corrupt", off, what)
	}
	return fmt.Errorf("at byte %d: bad %s: %v", off, what, err)
}

// sub returns the message held in a length-delimited field.
func (m *msg) sub(f field) *msg { return &msg{src: m.src, off: f.off, end: f.off + f.n} }

// want checks a field's wire type.
func want(f field, t protowire.Type, what string) error {
	if f.typ != t {
		return fmt.Errorf("%s (field %d) has wire type %s, want %s: not an ONNX model, or a corrupt one", what, f.num, typeName(f.typ), typeName(t))
	}
	return nil
}

func typeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	}
	return fmt.Sprintf("%d", t)
}

// maxString bounds a name or string attribute.
const maxString = 64 << 10

// str reads a string field.
func (m *msg) str(f field, what string) (string, error) {
	if err := want(f, protowire.BytesType, what); err != nil {
		return "", err
	}
	if f.n > maxString {
		return "", fmt.Errorf("%s is %d bytes long, more than the %d this reader accepts", what, f.n, maxString)
	}
	b, err := m.src.at(f.off, int(f.n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// varint reads a varint field (int32/int64/enum encodings).
func varint(f field, what string) (int64, error) {
	if err := want(f, protowire.VarintType, what); err != nil {
		return 0, err
	}
	return int64(f.v), nil
}

// ints appends a repeated int64 field, packed or not, to dst, failing
// once dst would hold more than limit values.
func (m *msg) ints(f field, dst []int64, limit int, what string) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		if len(dst) >= limit {
			return nil, fmt.Errorf("%s has more than %d values", what, limit)
		}
		return append(dst, int64(f.v)), nil
	case protowire.BytesType:
		b, err := m.src.at(f.off, int(min(f.n, int64(limit)*10+10)))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) < f.n {
			return nil, fmt.Errorf("%s has more than %d values", what, limit)
		}
		for len(b) > 0 {
			v, k := protowire.ConsumeVarint(b)
			if k < 0 {
				return nil, fmt.Errorf("%s: bad packed varint: %v", what, protowire.ParseError(k))
			}
			if len(dst) >= limit {
				return nil, fmt.Errorf("%s has more than %d values", what, limit)
			}
			dst = append(dst, int64(v))
			b = b[k:]
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s (field %d) has wire type %s, want varint or packed varints", what, f.num, typeName(f.typ))
}

// floats appends a repeated float field (fixed32), packed or not.
func (m *msg) floats(f field, dst []float32, limit int, what string) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		if len(dst) >= limit {
			return nil, fmt.Errorf("%s has more than %d values", what, limit)
		}
		return append(dst, f32(uint32(f.v))), nil
	case protowire.BytesType:
		if f.n%4 != 0 {
			return nil, fmt.Errorf("%s: packed floats of %d bytes (not a multiple of 4)", what, f.n)
		}
		if f.n/4 > int64(limit-len(dst)) {
			return nil, fmt.Errorf("%s has more than %d values", what, limit)
		}
		b, err := m.src.at(f.off, int(f.n))
		if err != nil {
			return nil, err
		}
		for ; len(b) >= 4; b = b[4:] {
			v, _ := protowire.ConsumeFixed32(b)
			dst = append(dst, f32(v))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s (field %d) has wire type %s, want fixed32 or packed floats", what, f.num, typeName(f.typ))
}
