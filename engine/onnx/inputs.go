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
	// Dynamic reports a dynamic dimension after the first: one that must
	// be given (a dynamic batch, axis 0, is 1 unless given).
	Dynamic bool
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
		for i, dm := range in.dims {
			v := -1
			if dm.known && dm.value > 0 && dm.value <= int64(maxTensorElems) {
				v = int(dm.value)
			} else if i > 0 {
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

// UnsupportedOpsError lists every unsupported operator of a model at once,
// in the order of first use, so a user sees the whole distance to an import.
type UnsupportedOpsError struct {
	Ops []UnsupportedOp
}

func (e *UnsupportedOpsError) Error() string {
	var b strings.Builder
	b.WriteString("the model uses ")
	if len(e.Ops) == 1 {
		b.WriteString("an operator")
	} else {
		b.WriteString(strconv.Itoa(len(e.Ops)) + " operators")
	}
	b.WriteString(" this reader does not support: ")
	for i, o := range e.Ops {
		if i > 0 {
			b.WriteString("; ")
		}
		op := strconv.Quote(o.Op)
		if o.Domain != "" {
			op += " of domain " + strconv.Quote(o.Domain)
		}
		nodes := "node"
		if o.Count != 1 {
			nodes = "nodes"
		}
		fmt.Fprintf(&b, "%s (%d %s, first %s", op, o.Count, nodes, strconv.Quote(o.FirstNode))
		if o.Why != "" {
			b.WriteString(": " + o.Why)
		}
		b.WriteString(")")
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
}

func (e *DynamicShapeError) Error() string {
	var names []string
	for _, d := range e.Dims {
		s := "dimension " + strconv.Itoa(d)
		if d < len(e.DimNames) && e.DimNames[d] != "" {
			s += " (" + e.DimNames[d] + ")"
		}
		names = append(names, s)
	}
	return fmt.Sprintf("graph input %q has shape %s with %s dynamic: give the input's full shape, e.g. %s (or in the page, the input's shape field)",
		e.Input, declString(e.Declared, e.DimNames), strings.Join(names, " and "), e.Flag)
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

// inputFlag is the --input flag that sets a shape: the declared sizes,
// 1 for a dynamic batch and the dimension's name (or D and its axis) for
// every other dynamic one, which the user replaces with a size.
func inputFlag(name string, shape []int, names []string) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		switch {
		case d > 0:
			parts[i] = strconv.Itoa(d)
		case i == 0:
			parts[i] = "1"
		case i < len(names) && names[i] != "":
			parts[i] = strings.ToUpper(names[i])
		default:
			parts[i] = "D" + strconv.Itoa(i)
		}
	}
	return "--input " + name + "=" + strings.Join(parts, ",")
}
