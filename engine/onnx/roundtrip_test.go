package onnx

import (
	"context"
	"reflect"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

// sameGraph checks that got has want's nodes, in order, with the same
// names, ops, attributes, output shapes and per-node statistics.
func sameGraph(t *testing.T, want, got *model.Graph) {
	t.Helper()
	if len(got.Nodes) != len(want.Nodes) {
		var names []string
		for _, n := range got.Nodes {
			names = append(names, string(n.Op)+":"+n.Name)
		}
		t.Fatalf("%s: imported %d nodes, want %d: %v", want.Name, len(got.Nodes), len(want.Nodes), names)
	}
	for i, w := range want.Nodes {
		g := got.Nodes[i]
		if g.Name != w.Name || g.Op != w.Op || !g.Out.Equal(w.Out) {
			t.Fatalf("%s: node %d is %s %q %v, want %s %q %v", want.Name, i, g.Op, g.Name, g.Out, w.Op, w.Name, w.Out)
		}
		if !reflect.DeepEqual(g.Conv, w.Conv) || !reflect.DeepEqual(g.Linear, w.Linear) || !reflect.DeepEqual(g.Pool, w.Pool) {
			t.Fatalf("%s: node %q attributes differ: conv %+v/%+v linear %+v/%+v pool %+v/%+v", want.Name, w.Name, g.Conv, w.Conv, g.Linear, w.Linear, g.Pool, w.Pool)
		}
		if gs, ws := got.NodeStats(i), want.NodeStats(i); gs != ws {
			t.Fatalf("%s: node %q stats %+v, want %+v", want.Name, w.Name, gs, ws)
		}
		if w.Op.Crossbar() {
			gi := got.Nodes[got.Producers(i)[0]].Out
			wi := want.Nodes[want.Producers(i)[0]].Out
			if !gi.Equal(wi) {
				t.Fatalf("%s: layer %q input %v, want %v", want.Name, w.Name, gi, wi)
			}
		}
	}
	if gt, wt := got.Totals(), want.Totals(); gt != wt {
		t.Fatalf("%s: totals %+v, want %+v", want.Name, gt, wt)
	}
}

// zooDtypes gives each network's weights a different data type, so that
// the round trip covers the raw_data sizes of all of them.
var zooDtypes = map[string]int32{
	"vgg16": 3, "alexnet": 2, "resnet18": 10, "resnet34": 16, "resnet50": 1,
	"squeezenet1_0": 11, "squeezenet1_1": 22, "googlenet": 5, "mobilenet_v2": 1, "vit_b_16": 3,
}

func TestZooRoundTrip(t *testing.T) {
	for _, name := range zoo.Names() {
		t.Run(name, func(t *testing.T) {
			want, err := zoo.Build(name)
			if err != nil {
				t.Fatal(err)
			}
			data := fromIR(want, zooDtypes[name]).bytes()
			got, err := ReadBytes(data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if name != "vit_b_16" {
				sameGraph(t, want, got)
				return
			}
			// ViT: the class token and position embedding are initializers,
			// which import as Constant nodes (not learned parameters), and
			// q x k^T is a Transpose then a MatMul.
			gt, wt := got.Totals(), want.Totals()
			var paramElems int64
			for _, n := range want.Nodes {
				if n.Op == model.OpParameter {
					paramElems += n.Out.Elems()
				}
			}
			if gt.Weights != wt.Weights || gt.MACs != wt.MACs || gt.VecOps != wt.VecOps || gt.Biases != wt.Biases || gt.Params != wt.Params-paramElems {
				t.Fatalf("vit totals %+v, want %+v (params less %d)", gt, wt, paramElems)
			}
			if len(got.CrossbarLayers()) != len(want.CrossbarLayers()) {
				t.Fatalf("%d crossbar layers, want %d", len(got.CrossbarLayers()), len(want.CrossbarLayers()))
			}
			for k, i := range want.CrossbarLayers() {
				j := got.CrossbarLayers()[k]
				if got.Nodes[j].Name != want.Nodes[i].Name || got.NodeStats(j) != want.NodeStats(i) {
					t.Fatalf("layer %d: %q %+v, want %q %+v", k, got.Nodes[j].Name, got.NodeStats(j), want.Nodes[i].Name, want.NodeStats(i))
				}
			}
		})
	}
}

// TestImportedGraphsCompile runs imported graphs, with their Constant,
// Pad and Slice nodes, through mapping, the estimator and the exact
// partitioner: the import's new op kinds are valid input for every stage.
func TestImportedGraphsCompile(t *testing.T) {
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	vit, _ := zoo.Build("vit_b_16")
	graphs := map[string][]byte{"vit_b_16": fromIR(vit, 3).bytes()}
	for name, build := range map[string]func() (*onnxModel, *model.Builder){"pad": padConv, "split": splitGraph, "fold": shapeFold} {
		m, _ := build()
		graphs[name] = m.bytes()
	}
	for name, data := range graphs {
		g, err := ReadBytes(data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e, err := estimate.New(m, 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := partition.Optimal(context.Background(), e, partition.Latency)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res == nil {
			t.Fatalf("%s: no plan", name)
		}
	}
}
