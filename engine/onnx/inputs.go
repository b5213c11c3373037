package onnx

import (
	"fmt"
	"strconv"
	"strings"
)

// InputSetting sets one graph input by name: its full shape (batch first)
// and, for a small integer input such as a sample rate or a mode flag, its
// values. An input given values is a constant of the model: shape
// computations and If conditions that read it fold.
type InputSetting struct {
	Name  string
	Shape []int
	Value []int64
}

// Input describes a graph input (not an initializer) as the file declares
// it.
type Input struct {
	Name     string
	Shape    []int    // batch first; -1 where the dimension is dynamic
	DimNames []string // the dim_param of each dimension ("" where none)
	DType    string   // element type, e.g. "float", "int64"
	// BatchAxis is the axis read as the batch (-1: a scalar); see
	// docs/onnx.md for the rule.
	BatchAxis int
	// Dynamic reports a dynamic dimension besides the batch: one that
	// must be given (a dynamic batch is 1 unless given).
	Dynamic bool
}

// fixedDim reports whether a declared dimension has a size (exporters
// write -1, 0-less dims or a dim_param for dynamic ones).
func fixedDim(d dim) bool { return d.known && d.value > 0 && d.value <= maxTensorElems }

// batchAxis is the batch axis of a graph input: a dimension named like a
// batch ("batch", "batch_size", "N"), else, when the first axis has a
// fixed size above 1 and exactly one other axis is dynamic, that axis (a
// recurrent state [directions, batch, hidden]), else the first axis.
func batchAxis(dims []dim) int {
	if len(dims) == 0 {
		return -1
	}
	for i, d := range dims {
		if p := strings.ToLower(d.param); p == "n" || p == "b" || p == "bs" || strings.Contains(p, "batch") {
			return i
		}
	}
	if fixedDim(dims[0]) && dims[0].value > 1 {
		axis, n := 0, 0
		for i, d := range dims[1:] {
			if !fixedDim(d) {
				axis, n = i+1, n+1
			}
		}
		if n == 1 {
			return axis
		}
	}
	return 0
}

// Inputs lists a model's graph inputs with their declared shapes, without
// converting the graph: what a front end shows before asking for sizes.
func Inputs(data []byte) ([]Input, error) {
	if limit := DefaultMaxBytes; int64(len(data)) > limit {
		return nil, fmt.Errorf("onnx: the model is %d bytes, larger than %d", len(data), limit)
	}
	mp, err := decodeModel(memSource(data))
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return graphInputs(mp.graph), nil
}

func graphInputs(gp *graphProto) []Input {
	inits := make(map[string]bool, len(gp.inits))
	for _, t := range gp.inits {
		inits[t.name] = true
	}
	var out []Input
	for _, in := range gp.inputs {
		if inits[in.name] {
			continue
		}
		d, _ := dtype(in.elem)
		x := Input{Name: in.name, DType: d.name, Shape: []int{}}
		if x.DType == "" {
			x.DType = "unknown"
		}
		named := false
		bax := batchAxis(in.dims)
		x.BatchAxis = bax
		for i, dm := range in.dims {
			v := -1
			if fixedDim(dm) {
				v = int(dm.value)
			} else if i != bax {
				x.Dynamic = true
			}
			x.Shape = append(x.Shape, v)
			x.DimNames = append(x.DimNames, dm.param)
			named = named || dm.param != ""
		}
		if !named {
			x.DimNames = nil
		}
		out = append(out, x)
	}
	return out
}

// UnsupportedOp is one operator a file uses that the reader does not
// convert: how many nodes use it and the first of them.
type UnsupportedOp struct {
	Op        string
	Domain    string // "" for the default ONNX domain
	Count     int
	FirstNode string
	Why       string // what the reader lacks, when it knows more than the name
}

// maxListed bounds the operators an UnsupportedOpsError's message names
// (Ops holds them all).
const maxListed = 32

// UnsupportedOpsError lists every unsupported operator of a model at once,
// in the order of first use, so a user sees the whole distance to an import
// (the message names the first 32).
type UnsupportedOpsError struct {
	Ops []UnsupportedOp
}

func (e *UnsupportedOpsError) Error() string {
	var b strings.Builder
	if len(e.Ops) == 1 {
		b.WriteString("the model uses an operator this reader does not support: ")
	} else {
		fmt.Fprintf(&b, "the model uses %d operators this reader does not support: ", len(e.Ops))
	}
	for i, o := range e.Ops {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(e.Ops)-i)
			break
		}
		sep, domain, plural, why := "; ", "", "s", ""
		if i == 0 {
			sep = ""
		}
		if o.Domain != "" {
			domain = " of domain " + strconv.Quote(o.Domain)
		}
		if o.Count == 1 {
			plural = ""
		}
		if o.Why != "" {
			why = ": " + o.Why
		}
		fmt.Fprintf(&b, "%s%q%s (%d node%s, first %q%s)", sep, o.Op, domain, o.Count, plural, o.FirstNode, why)
	}
	b.WriteString(". Re-export the model without them (docs/onnx.md lists the supported operators)")
	return b.String()
}

// DynamicShapeError reports a graph input whose shape has dynamic
// dimensions that nothing gave a size.
type DynamicShapeError struct {
	Input    string
	Declared []int    // batch first; -1 where dynamic
	DimNames []string // dim_param names, "" where none
	Dims     []int    // the dynamic axes that need a size
	Flag     string   // the CLI flag that sets them, e.g. "--input x=1,3,H,W"
	// More are the other graph inputs with dynamic dimensions, so that
	// one error names every size to give.
	More []*DynamicShapeError
}

func (e *DynamicShapeError) Error() string {
	if len(e.More) == 0 {
		return e.what() + ": give the input's full shape, e.g. " + e.Flag + " (or in the page, the input's shape field)"
	}
	msg, flags := e.what(), e.Flag
	for _, m := range e.More {
		msg += "; " + m.what()
		flags += " " + m.Flag
	}
	return msg + ": give every input's full shape, e.g. " + flags + " (or in the page, the inputs' shape fields)"
}

// what names the input, its declared shape and its dynamic dimensions.
func (e *DynamicShapeError) what() string {
	var names []string
	for _, d := range e.Dims {
		s := "dimension " + strconv.Itoa(d)
		if d < len(e.DimNames) && e.DimNames[d] != "" {
			s += " (" + e.DimNames[d] + ")"
		}
		names = append(names, s)
	}
	return fmt.Sprintf("graph input %q has shape %s with %s dynamic", e.Input, declString(e.Declared, e.DimNames), strings.Join(names, " and "))
}

// declString formats a declared shape, dynamic dimensions by name or "?".
func declString(s []int, names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case d >= 0:
			b.WriteString(strconv.Itoa(d))
		case i < len(names) && names[i] != "":
			b.WriteString(names[i])
		default:
			b.WriteByte('?')
		}
	}
	b.WriteByte(']')
	return b.String()
}

// identifier reports whether a dimension name reads well as a
// placeholder: a short word of letters, digits and underscores.
func identifier(s string) bool {
	if s == "" || len(s) > 16 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// inputFlag is the --input flag that sets a shape: the declared sizes,
// 1 for a dynamic batch and a placeholder for every other dynamic one
// (the dimension's name when it is a short word, else H and W for the
// spatial axes of an image, else D and the axis), which the user replaces
// with a size.
func inputFlag(name string, shape []int, names []string, batch int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		switch {
		case d > 0:
			parts[i] = strconv.Itoa(d)
		case i == batch:
			parts[i] = "1"
		case i < len(names) && identifier(names[i]):
			parts[i] = strings.ToUpper(names[i])
		case len(shape) == 4 && i >= 2:
			parts[i] = []string{"H", "W"}[i-2]
		default:
			parts[i] = "D" + strconv.Itoa(i)
		}
	}
	return "--input " + name + "=" + strings.Join(parts, ",")
}
