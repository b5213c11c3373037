package model

import (
	"errors"
	"strings"
	"testing"
)

// TestInferNodeErrors holds every check of Infer that concerns one named
// node to a *NodeError that errors.As finds, naming that node and its op,
// and whose text starts with them.
func TestInferNodeErrors(t *testing.T) {
	cases := []struct {
		name   string
		build  func(g *Graph)
		node   string
		op     string
		reason string // a word of what is wrong
	}{
		{"unknown op", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "f", Op: "Frobnicate", Inputs: []string{"x"}})
		}, "f", "", "unknown op"},
		{"arity", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "a", Op: OpAdd, Inputs: []string{"x"}})
		}, "a", "Add", "exactly 2"},
		{"dangling input", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "r", Op: OpReLU, Inputs: []string{"ghost"}})
		}, "r", "ReLU", "dangling"},
		{"duplicate name", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "x", Op: OpReLU, Inputs: []string{"x"}})
		}, "x", "ReLU", "twice"},
		{"self loop", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "s", Op: OpReLU, Inputs: []string{"s"}})
		}, "s", "ReLU", "cycle"},
		{"weight_bits on a vector op", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "r", Op: OpReLU, Inputs: []string{"x"}, WeightBits: 4})
		}, "r", "ReLU", "weight_bits = 4"},
		{"weight_bits out of range", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "fc", Op: OpLinear, Inputs: []string{"x"}, Linear: &LinearSpec{OutFeatures: 2}, WeightBits: 17})
		}, "fc", "Linear", "weight_bits = 17"},
		{"shape rule", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{6, 8, 8}})
			g.Add(&Node{Name: "c", Op: OpConv, Inputs: []string{"x"}, Conv: ptr(Conv2D(8, 3, 1, 1).WithGroups(4))})
		}, "c", "Conv", "groups = 4"},
		{"output too large", func(g *Graph) {
			g.Add(&Node{Name: "big", Op: OpInput, Shape: Shape{1 << 30, 1 << 30, 4}})
		}, "big", "Input", "too large"},
		{"missing attributes", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3}})
			g.Add(&Node{Name: "fc", Op: OpLinear, Inputs: []string{"x"}})
		}, "fc", "Linear", "linear"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := New("bad")
			tc.build(g)
			err := g.Infer()
			var ne *NodeError
			if !errors.As(err, &ne) {
				t.Fatalf("error %v (%T) is not a *NodeError", err, err)
			}
			if ne.Node != tc.node || ne.Op != tc.op {
				t.Errorf("NodeError names node %q op %q, want %q %q", ne.Node, ne.Op, tc.node, tc.op)
			}
			if !strings.Contains(ne.Err.Error(), tc.reason) {
				t.Errorf("reason %q does not say %q", ne.Err, tc.reason)
			}
			prefix := `node "` + tc.node + `"`
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %s", err, prefix)
			}
		})
	}
}

// TestCycleNodeError: a cycle's NodeError names a member of the cycle,
// the one its text lists first.
func TestCycleNodeError(t *testing.T) {
	g := New("loop")
	g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
	g.Add(&Node{Name: "a", Op: OpAdd, Inputs: []string{"x", "c"}})
	g.Add(&Node{Name: "b", Op: OpReLU, Inputs: []string{"a"}})
	g.Add(&Node{Name: "c", Op: OpReLU, Inputs: []string{"b"}})
	err := g.Infer()
	var ne *NodeError
	if !errors.As(err, &ne) {
		t.Fatalf("error %v (%T) is not a *NodeError", err, err)
	}
	ops := map[string]string{"a": "Add", "b": "ReLU", "c": "ReLU"}
	if op, ok := ops[ne.Node]; !ok || ne.Op != op {
		t.Fatalf("NodeError names %q (%s), not a member of the cycle a, b, c", ne.Node, ne.Op)
	}
	if want := `: "` + ne.Node + `" -> `; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not list the cycle from %q", err, ne.Node)
	}
}

// TestUnnamedNodeIsNotANodeError: a node without a name has nothing for a
// front end to point at; its error says its position instead.
func TestUnnamedNodeIsNotANodeError(t *testing.T) {
	g := New("anon")
	g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
	g.Add(&Node{Op: OpReLU, Inputs: []string{"x"}})
	err := g.Infer()
	if err == nil || !strings.Contains(err.Error(), "node 1 (ReLU) has an empty name") {
		t.Fatalf("error %v does not name the unnamed node by position", err)
	}
	var ne *NodeError
	if errors.As(err, &ne) {
		t.Errorf("an unnamed node's error is a NodeError naming %q", ne.Node)
	}
}
