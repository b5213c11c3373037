package onnx

import (
	"errors"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/model"
)

// TestNodeErrors: an error that concerns one ONNX node is a
// *model.NodeError that errors.As finds, naming the node and its op type,
// whether the reader's ordering, an operator's conversion or the IR's
// shape inference finds it; a node without a name is named by its first
// output, as the IR names it.
func TestNodeErrors(t *testing.T) {
	missing := &onnxModel{name: "miss", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "a"}}}
	missing.nodes = []node{{name: "A", op: "Add", in: []string{"x", "ghost"}, out: []string{"a"}}}
	dup := &onnxModel{name: "dup", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "a"}}}
	dup.nodes = []node{{name: "A", op: "Relu", in: []string{"x"}, out: []string{"a"}}, {name: "B", op: "Relu", in: []string{"x"}, out: []string{"a"}}}
	writesInput := &onnxModel{name: "wi", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "x"}}}
	writesInput.nodes = []node{{name: "W", op: "Relu", in: []string{"x"}, out: []string{"x"}}}
	dynReshape := &onnxModel{name: "dyn", inputs: []vinfo{img("x", "N", 4), img("s", 2)}, outputs: []vinfo{{name: "r"}}}
	dynReshape.nodes = []node{{name: "R", op: "Reshape", in: []string{"x", "s"}, out: []string{"r"}}}
	badGroups := &onnxModel{name: "conv", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "c"}}}
	badGroups.add("c", "Conv", []string{"x", badGroups.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3)})
	batchConcat := &onnxModel{name: "cat", inputs: []vinfo{img("x", "N", 3)}, outputs: []vinfo{{name: "k"}}}
	batchConcat.add("k", "Concat", []string{"x", "x"}, attr{"axis", 0})
	unnamed := &onnxModel{name: "anon", inputs: []vinfo{img("x", "N", 3)}, outputs: []vinfo{{name: "y"}}}
	unnamed.nodes = []node{{op: "Concat", in: []string{"x", "x"}, out: []string{"y"}, attrs: []attr{{"axis", 0}}}}
	cases := []struct {
		name     string
		data     []byte
		node, op string
		reason   string
	}{
		{"a missing input", missing.bytes(), "A", "Add", "missing input"},
		{"a value produced twice", dup.bytes(), "B", "Relu", "produced twice"},
		{"a node writing a graph input", writesInput.bytes(), "W", "Relu", "already a graph input"},
		{"a computed reshape target", dynReshape.bytes(), "R", "Reshape", "must be a constant"},
		{"conv groups", badGroups.bytes(), "c", "Conv", "input channels"},
		{"concat on the batch axis", batchConcat.bytes(), "k", "Concat", "batch axis"},
		{"an unnamed node", unnamed.bytes(), "y", "Concat", "batch axis"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadBytes(c.data, Options{})
			var ne *model.NodeError
			if !errors.As(err, &ne) {
				t.Fatalf("error %v (%T) is not a *model.NodeError", err, err)
			}
			if ne.Node != c.node || ne.Op != c.op {
				t.Errorf("NodeError names node %q op %q, want %q %q", ne.Node, ne.Op, c.node, c.op)
			}
			if !strings.Contains(ne.Err.Error(), c.reason) {
				t.Errorf("reason %q does not say %q", ne.Err, c.reason)
			}
			if want := `onnx: node "` + c.node + `" (` + c.op + `): `; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

// TestGraphErrorsAreNotNodeErrors: what concerns the graph as a whole (a
// cycle through several nodes, unsupported operators) names no one node.
func TestGraphErrorsAreNotNodeErrors(t *testing.T) {
	cycle := &onnxModel{name: "cyc", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "b"}}}
	cycle.nodes = []node{{name: "A", op: "Add", in: []string{"x", "b"}, out: []string{"a"}}, {name: "B", op: "Relu", in: []string{"a"}, out: []string{"b"}}}
	for name, data := range map[string][]byte{
		"cycle":       cycle.bytes(),
		"unsupported": withNode(node{name: "nms", op: "NonMaxSuppression", in: []string{"x"}, out: []string{"y"}}),
	} {
		_, err := ReadBytes(data, Options{})
		var ne *model.NodeError
		if err == nil || errors.As(err, &ne) {
			t.Errorf("%s: error %v, a NodeError: %v", name, err, ne != nil)
		}
	}
}
