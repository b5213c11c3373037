package api

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/onnx"
)

// ModelOptions are the settings of reading a model file.
type ModelOptions struct {
	// InputShape is the full shape of an ONNX model's first input, batch
	// first (e.g. [1,3,224,224]); it sets the input's dynamic dimensions.
	// Only ONNX models take it.
	InputShape []int `json:"input_shape,omitempty"`
	// Inputs set an ONNX model's graph inputs by name: a shape, or the
	// values of a small integer input (a sample rate, a mode flag). A
	// shape for the first input that differs from InputShape is an error
	// naming both.
	Inputs []InputSetting `json:"inputs,omitempty"`
}

// InputSetting sets one graph input of an ONNX model by name.
type InputSetting struct {
	Name string `json:"name"`
	// Shape is the input's full shape, batch first.
	Shape []int `json:"shape,omitempty"`
	// Value holds the values of a small integer input, such as a sample
	// rate; the model is read with that input fixed, so branches (If) and
	// shapes that depend on it fold.
	Value []int64 `json:"value,omitempty"`
}

// ModelInput describes a graph input of a model file as the file declares
// it, before any setting: what a front end shows and asks sizes for.
type ModelInput struct {
	Name string `json:"name"`
	// Shape is the declared shape, batch first, -1 where dynamic.
	Shape []int `json:"shape"`
	// DimNames are the names the file gives dimensions ("" where none).
	DimNames []string `json:"dim_names,omitempty"`
	DType    string   `json:"dtype"`
	// BatchAxis is the axis read as the batch (-1 for a scalar): the
	// first, or a recurrent state's batch axis (docs/onnx.md).
	BatchAxis int `json:"batch_axis"`
	// Dynamic reports a dynamic dimension after the batch axis: one the
	// user must give (a dynamic batch, axis 0, is 1 unless given).
	Dynamic bool `json:"dynamic"`
}

// UnsupportedOpsError lists every operator of an ONNX model that the
// reader does not convert (operator, domain, count and first node);
// errors.As finds it in a model error.
type UnsupportedOpsError = onnx.UnsupportedOpsError

// UnsupportedOp is one entry of an UnsupportedOpsError.
type UnsupportedOp = onnx.UnsupportedOp

// DynamicShapeError reports a graph input with dynamic dimensions that no
// setting gave: the input, its declared shape, which dimensions, and the
// --input flag that sets them. errors.As finds it in a model error.
type DynamicShapeError = onnx.DynamicShapeError

// ModelInputs lists the graph inputs (not initializers) of a model file
// held in memory with their declared shapes: an ONNX model's inputs, or a
// JSON graph's Input nodes (batch 1 before their shapes).
func ModelInputs(name string, data []byte) ([]ModelInput, error) {
	if isJSONModel(name, data) {
		g, err := ReadGraphJSON(bytes.NewReader(data))
		if err != nil {
			return nil, &InputError{Field: "model", Err: err}
		}
		var out []ModelInput
		for _, n := range g.Nodes {
			if n.Op == model.OpInput {
				out = append(out, ModelInput{Name: n.Name, Shape: append([]int{1}, n.Out...), DType: "float", BatchAxis: 0})
			}
		}
		return out, nil
	}
	ins, err := onnx.Inputs(data)
	if err != nil {
		return nil, &InputError{Field: "model", Err: err}
	}
	out := make([]ModelInput, len(ins))
	for k, in := range ins {
		out[k] = ModelInput{Name: in.Name, Shape: in.Shape, DimNames: in.DimNames, DType: in.DType, BatchAxis: in.BatchAxis, Dynamic: in.Dynamic}
	}
	return out, nil
}

// isONNX reports whether a model spec names an ONNX file.
func isONNX(spec string) bool { return strings.HasSuffix(strings.ToLower(spec), ".onnx") }

// isJSONModel reports whether a model file held in memory is a JSON graph.
func isJSONModel(name string, data []byte) bool {
	lower := strings.ToLower(name)
	trimmed := bytes.TrimSpace(data)
	return strings.HasSuffix(lower, ".json") || (!strings.HasSuffix(lower, ".onnx") && len(trimmed) > 0 && trimmed[0] == '{')
}

func (o ModelOptions) onnx() onnx.Options {
	opt := onnx.Options{InputShape: o.InputShape}
	for _, s := range o.Inputs {
		opt.Inputs = append(opt.Inputs, onnx.InputSetting{Name: s.Name, Shape: s.Shape, Value: s.Value})
	}
	return opt
}

func (o ModelOptions) given() bool { return len(o.InputShape) > 0 || len(o.Inputs) > 0 }

func loadONNXFile(spec string, opt ModelOptions) (*model.Graph, error) {
	g, err := onnx.ReadFile(spec, opt.onnx())
	if err != nil {
		return nil, &InputError{Field: "model", Err: err}
	}
	return g, nil
}

// LoadModelWith is LoadModel with options: input shapes and values for an
// ONNX model. Zoo networks and JSON graphs have fixed shapes, so an input
// setting for them is an error.
func LoadModelWith(spec string, opt ModelOptions) (*model.Graph, error) {
	if isONNX(spec) {
		return loadONNXFile(spec, opt)
	}
	if opt.given() {
		return nil, &InputError{Field: "model", Err: fmt.Errorf("input shapes and values apply to ONNX models only, and %q is not a .onnx file", spec)}
	}
	return LoadModel(spec)
}

// LoadModelBytes reads a model file held in memory: an ONNX model, or a
// graph in the JSON IR when the name ends in .json or the data is a JSON
// object. The name (the file's name) names the graph when the file does
// not. It touches no filesystem, so the WebAssembly page can read a file
// the user picked without uploading it; an ONNX model whose weights lie in
// external data files is an error that says so.
func LoadModelBytes(name string, data []byte) (*model.Graph, error) {
	return LoadModelBytesWith(name, data, ModelOptions{})
}

// LoadModelBytesWith is LoadModelBytes with options. Its errors are
// *InputError{Field: "model"}, wrapping the reader's typed errors.
func LoadModelBytesWith(name string, data []byte, opt ModelOptions) (*model.Graph, error) {
	if isJSONModel(name, data) {
		if opt.given() {
			return nil, &InputError{Field: "model", Err: fmt.Errorf("input shapes and values apply to ONNX models only, and %q is a JSON graph", name)}
		}
		g, err := ReadGraphJSON(bytes.NewReader(data))
		if err != nil {
			return nil, &InputError{Field: "model", Err: err}
		}
		return g, nil
	}
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	o := opt.onnx()
	o.Name = base
	g, err := onnx.ReadBytes(data, o)
	if err != nil {
		return nil, &InputError{Field: "model", Err: err}
	}
	return g, nil
}

// ParseInputSetting parses a CLI --input value: NAME=1,3,48,192 (a full
// shape, batch first) or NAME:value=16000 (the values of a small integer
// input, commas between several).
func ParseInputSetting(s string) (InputSetting, error) {
	eq := strings.LastIndexByte(s, '=')
	if eq <= 0 {
		return InputSetting{}, fmt.Errorf("--input %q: write NAME=1,3,224,224 for a shape or NAME:value=16000 for values", s)
	}
	name, rhs := s[:eq], s[eq+1:]
	if base, ok := strings.CutSuffix(name, ":value"); ok {
		if base == "" {
			return InputSetting{}, fmt.Errorf("--input %q: the input's name is missing before :value", s)
		}
		var vals []int64
		for _, p := range strings.Split(rhs, ",") {
			v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil {
				return InputSetting{}, fmt.Errorf("--input %q: %q is not an integer (write NAME:value=16000)", s, p)
			}
			vals = append(vals, v)
		}
		if len(vals) > 1<<16 {
			return InputSetting{}, fmt.Errorf("--input %q: more than %d values", s, 1<<16)
		}
		return InputSetting{Name: base, Value: vals}, nil
	}
	shape, err := ParseInputShape(rhs)
	if err != nil {
		return InputSetting{}, fmt.Errorf("--input %s: %w", name, err)
	}
	if len(shape) == 0 {
		return InputSetting{}, fmt.Errorf("--input %q: no shape after = (write %s=1,3,224,224)", s, name)
	}
	return InputSetting{Name: name, Shape: shape}, nil
}

// MergeInputSettings joins settings of the same input (a shape and a
// value given in two flags) and rejects an input set twice the same way.
func MergeInputSettings(in []InputSetting) ([]InputSetting, error) {
	var out []InputSetting
	for _, s := range in {
		merged := false
		for k := range out {
			if o := &out[k]; o.Name == s.Name {
				if (len(o.Shape) > 0 && len(s.Shape) > 0) || (len(o.Value) > 0 && len(s.Value) > 0) {
					return nil, fmt.Errorf("--input %s is given twice", s.Name)
				}
				if len(s.Shape) > 0 {
					o.Shape = s.Shape
				}
				if len(s.Value) > 0 {
					o.Value = s.Value
				}
				merged = true
			}
		}
		if !merged {
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseInputShape parses an input shape such as "1,3,224,224" (commas or
// 'x' between positive integers).
func ParseInputShape(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == 'x' || r == 'X' })
	if n := strings.Count(s, ",") + strings.Count(s, "x") + strings.Count(s, "X") + 1; n != len(parts) {
		return nil, fmt.Errorf("input shape %q has an empty dimension (two separators in a row, or one at an end): write one positive integer between each pair, e.g. 1,3,224,224", s)
	}
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("input shape %q: %q is not an integer (write the full shape, batch first, e.g. 1,3,224,224)", s, p)
		}
		if v <= 0 || int64(v) > model.MaxElems {
			return nil, fmt.Errorf("input shape %q: dimension %d must be from 1 to %d (write the full shape, batch first, e.g. 1,3,224,224)", s, v, model.MaxElems)
		}
		out = append(out, v)
	}
	return out, nil
}
