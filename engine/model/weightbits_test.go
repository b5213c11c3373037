package model

import (
	"encoding/json"
	"strings"
	"testing"
)

func bitsGraph(op Op, bits int) *Graph {
	g := New("bits")
	g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4, 6, 6}})
	n := &Node{Name: "layer", Op: op, Inputs: []string{"x"}, WeightBits: bits}
	switch op {
	case OpConv, OpConvTranspose:
		n.Conv = &ConvSpec{OutChannels: 8, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1}
	case OpLinear:
		n.Linear = &LinearSpec{OutFeatures: 5}
	}
	g.Add(n)
	return g
}

// TestWeightBitsValidation: Conv, ConvTranspose and Linear accept a weight
// width of 1..16 bits or none; other widths, and a width on a node without
// crossbar weights, are errors naming the node, the field and the fix.
func TestWeightBitsValidation(t *testing.T) {
	for _, op := range []Op{OpConv, OpConvTranspose, OpLinear} {
		for _, bits := range []int{0, 1, 4, 8, 16} {
			if err := bitsGraph(op, bits).Infer(); err != nil {
				t.Errorf("%s with weight_bits %d: %v", op, bits, err)
			}
		}
		for _, bits := range []int{-1, 17, 32} {
			err := bitsGraph(op, bits).Infer()
			if err == nil {
				t.Errorf("%s with weight_bits %d accepted", op, bits)
				continue
			}
			for _, s := range []string{`node "layer"`, "weight_bits = ", "1..16", "0 (omit it)"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s, %d bits: error %q does not say %q", op, bits, err, s)
				}
			}
		}
	}
	g := New("relu")
	g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
	g.Add(&Node{Name: "r", Op: OpReLU, Inputs: []string{"x"}, WeightBits: 8})
	err := g.Infer()
	if err == nil || !strings.Contains(err.Error(), `node "r" (ReLU): weight_bits = 8`) || !strings.Contains(err.Error(), "remove weight_bits") {
		t.Errorf("weight_bits on a ReLU: %v", err)
	}
}

// TestWeightBitsJSON: the width survives a JSON round trip as
// "weight_bits", and a node without one writes no such key (so graphs
// without quantized layers serialise as before).
func TestWeightBitsJSON(t *testing.T) {
	g := bitsGraph(OpConv, 4)
	g.Add(&Node{Name: "fc", Op: OpLinear, Inputs: []string{"layer"}, Linear: &LinearSpec{OutFeatures: 3}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"weight_bits"`); n != 1 || !strings.Contains(string(b), `"weight_bits":4`) {
		t.Fatalf("JSON has %d weight_bits keys: %s", n, b)
	}
	var back Graph
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Infer(); err != nil {
		t.Fatal(err)
	}
	if l, fc := back.Nodes[back.Index("layer")], back.Nodes[back.Index("fc")]; l.WeightBits != 4 || fc.WeightBits != 0 {
		t.Errorf("after the round trip: layer %d bits, fc %d; want 4 and 0", l.WeightBits, fc.WeightBits)
	}
	// A width out of range in a JSON graph is caught by Infer.
	bad := strings.Replace(string(b), `"weight_bits":4`, `"weight_bits":20`, 1)
	var g2 Graph
	if err := json.Unmarshal([]byte(bad), &g2); err != nil {
		t.Fatal(err)
	}
	if err := g2.Infer(); err == nil || !strings.Contains(err.Error(), "weight_bits = 20") {
		t.Errorf("weight_bits 20 from JSON: %v", err)
	}
}
