package api

import (
	"context"
	"testing"
)

// Each method's comparison is its figures over its references': greedy is
// 1x itself, the optimum is 0 from itself and no method is below it, and a
// reference not run leaves its field absent.
func TestCompareAgainstTheReferencesRun(t *testing.T) {
	for _, objective := range []string{"latency", "energy", "edp"} {
		res, err := Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 4,
			Methods: Methods(), Objective: objective, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		cs := res.Compare()
		if len(cs) != len(res.Results) {
			t.Fatalf("%d comparisons for %d results", len(cs), len(res.Results))
		}
		g, l := res.Result(MethodGreedy), res.Result(MethodLayerwise)
		for i, c := range cs {
			r := &res.Results[i]
			if c.Method != r.Method || c.VsGreedy == nil || c.VsLayerwise == nil || c.EDPGainVsGreedy == nil || c.GapToOptimal == nil {
				t.Fatalf("%s: comparison %+v for result %s, want every field", objective, c, r.Method)
			}
			if *c.VsGreedy != r.ThroughputPerS/g.ThroughputPerS || *c.VsLayerwise != r.ThroughputPerS/l.ThroughputPerS || *c.EDPGainVsGreedy != g.EDPJS/r.EDPJS {
				t.Errorf("%s, %s: %v x greedy, %v x layerwise, EDP gain %v; its figures give %v, %v, %v", objective, r.Method,
					*c.VsGreedy, *c.VsLayerwise, *c.EDPGainVsGreedy, r.ThroughputPerS/g.ThroughputPerS, r.ThroughputPerS/l.ThroughputPerS, g.EDPJS/r.EDPJS)
			}
			if *c.GapToOptimal < -1e-12 {
				t.Errorf("%s, %s: %v below the optimum", objective, r.Method, *c.GapToOptimal)
			}
			switch r.Method {
			case MethodGreedy:
				if *c.VsGreedy != 1 || *c.EDPGainVsGreedy != 1 {
					t.Errorf("%s: greedy is %vx itself, EDP gain %v", objective, *c.VsGreedy, *c.EDPGainVsGreedy)
				}
			case MethodOptimal:
				if *c.GapToOptimal != 0 {
					t.Errorf("%s: the optimum is %v from itself", objective, *c.GapToOptimal)
				}
			}
		}
	}
	res, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 1,
		Methods: []string{MethodLayerwise, MethodCompass}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Compare() {
		if c.VsGreedy != nil || c.EDPGainVsGreedy != nil || c.GapToOptimal != nil || c.VsLayerwise == nil {
			t.Errorf("without greedy and optimal: %+v, want only vs_layerwise", c)
		}
	}
}
