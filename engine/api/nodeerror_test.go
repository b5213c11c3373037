package api

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/compass-go/compass/engine/onnx/onnxtest"
)

// TestNodeErrorsReachFrontEnds: a model whose one node is at fault fails
// Compile, InspectModel and LoadModelBytes with an *InputError on "model"
// inside which errors.As finds the *NodeError naming that node and its op,
// for each kind of node check (the JSON graph's and the ONNX reader's).
func TestNodeErrorsReachFrontEnds(t *testing.T) {
	head := `{"name":"bad","nodes":[{"name":"x","op":"Input","shape":[8]},`
	cases := []struct {
		name, file string
		data       []byte
		node, op   string
	}{
		{"unknown op", "g.json", []byte(head + `{"name":"f","op":"Frobnicate","inputs":["x"]}]}`), "f", ""},
		{"arity", "g.json", []byte(head + `{"name":"a","op":"Add","inputs":["x"]}]}`), "a", "Add"},
		{"dangling input", "g.json", []byte(head + `{"name":"fc","op":"Linear","inputs":["nope"],"linear":{"out_features":4}}]}`), "fc", "Linear"},
		{"duplicate name", "g.json", []byte(head + `{"name":"x","op":"ReLU","inputs":["x"]}]}`), "x", "ReLU"},
		{"self loop", "g.json", []byte(head + `{"name":"r","op":"ReLU","inputs":["r"]}]}`), "r", "ReLU"},
		{"shape", "g.json", []byte(head + `{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":0}}]}`), "fc", "Linear"},
		{"weight bits", "g.json", []byte(head + `{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":4},"weight_bits":40}]}`), "fc", "Linear"},
		{"onnx operator", "m.onnx", onnxtest.ConvModel([]any{1, 3, 8, 8}, 4, "Reshape"), "reshape_0", "Reshape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.file)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, compileErr := Compile(context.Background(), CompileRequest{Model: path, Chip: "M", Batch: 1, Methods: []string{MethodGreedy}})
			_, inspectErr := InspectModel(InspectRequest{Model: path, Chip: "M"})
			_, loadErr := LoadModelBytes(c.file, c.data)
			for what, err := range map[string]error{"Compile": compileErr, "InspectModel": inspectErr, "LoadModelBytes": loadErr} {
				var in *InputError
				if !errors.As(err, &in) || in.Field != "model" {
					t.Errorf("%s: error %v is not an InputError on model", what, err)
				}
				var ne *NodeError
				if !errors.As(err, &ne) {
					t.Errorf("%s: errors.As finds no NodeError in %v", what, err)
					continue
				}
				if ne.Node != c.node || ne.Op != c.op {
					t.Errorf("%s: NodeError names node %q op %q, want %q %q", what, ne.Node, ne.Op, c.node, c.op)
				}
			}
		})
	}
}
