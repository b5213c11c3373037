package onnxtest_test

import (
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/onnx/onnxtest"
)

// TestIfModelTakesBranchOfValue: the written If folds to the branch its
// sr value picks, and without a value the reader names sr.
func TestIfModelTakesBranchOfValue(t *testing.T) {
	data := onnxtest.IfModel(128, 256, 16)
	for _, c := range []struct {
		sr    int64
		layer string
	}{{16000, "mm_then"}, {8000, "mm_else"}} {
		g, err := api.LoadModelBytesWith("if.onnx", data, api.ModelOptions{Inputs: []api.InputSetting{
			{Name: "x", Shape: []int{1, 128}}, {Name: "sr", Shape: []int{1}, Value: []int64{c.sr}}}})
		if err != nil {
			t.Fatalf("sr=%d: %v", c.sr, err)
		}
		layers := g.CrossbarLayers()
		if len(layers) != 1 || g.Nodes[layers[0]].Name != c.layer {
			t.Errorf("sr=%d: crossbar layers %v, want only %s", c.sr, layers, c.layer)
		}
	}
	if _, err := api.LoadModelBytesWith("if.onnx", data, api.ModelOptions{Inputs: []api.InputSetting{{Name: "x", Shape: []int{1, 128}}}}); err == nil || !strings.Contains(err.Error(), `"sr"`) {
		t.Errorf("no value for sr: error %v does not name sr", err)
	}
}
