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
}

// isONNX reports whether a model spec names an ONNX file.
func isONNX(spec string) bool { return strings.HasSuffix(strings.ToLower(spec), ".onnx") }

func loadONNXFile(spec string, opt ModelOptions) (*model.Graph, error) {
	return onnx.ReadFile(spec, onnx.Options{InputShape: opt.InputShape})
}

// LoadModelWith is LoadModel with options: an input shape for an ONNX
// model. Zoo networks and JSON graphs have fixed shapes, so an input
// shape for them is an error.
func LoadModelWith(spec string, opt ModelOptions) (*model.Graph, error) {
	if isONNX(spec) {
		return loadONNXFile(spec, opt)
	}
	if len(opt.InputShape) > 0 {
		return nil, fmt.Errorf("an input shape applies to ONNX models only, and %q is not a .onnx file", spec)
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

// LoadModelBytesWith is LoadModelBytes with options.
func LoadModelBytesWith(name string, data []byte, opt ModelOptions) (*model.Graph, error) {
	lower := strings.ToLower(name)
	trimmed := bytes.TrimSpace(data)
	if strings.HasSuffix(lower, ".json") || (!strings.HasSuffix(lower, ".onnx") && len(trimmed) > 0 && trimmed[0] == '{') {
		if len(opt.InputShape) > 0 {
			return nil, fmt.Errorf("an input shape applies to ONNX models only, and %q is a JSON graph", name)
		}
		return ReadGraphJSON(bytes.NewReader(data))
	}
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	return onnx.ReadBytes(data, onnx.Options{InputShape: opt.InputShape, Name: base})
}

// ParseInputShape parses an input shape such as "1,3,224,224" (commas or
// 'x' between positive integers).
func ParseInputShape(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == 'x' || r == 'X' })
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 || int64(v) > model.MaxElems {
			return nil, fmt.Errorf("input shape %q: %q is not a positive integer (write the full shape, batch first, e.g. 1,3,224,224)", s, p)
		}
		out = append(out, v)
	}
	return out, nil
}
