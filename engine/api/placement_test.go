package api

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// A request names its placement policy: "crossbar" places replicas
// crossbar by crossbar, so the report shows replicas in two slots on two
// cores, no core holds more than its crossbars, every crossbar the plan
// uses is in exactly one slot, and the validity map ends no span earlier
// than the unit policy's. The default request's JSON carries no
// placement field, and an unknown policy is an InputError on the field.
func TestPlacementPolicyInTheReport(t *testing.T) {
	ctx := context.Background()
	req := CompileRequest{Model: "resnet18", Chip: "M", Batch: 4, Methods: []string{MethodGreedy, MethodOptimal}, Seed: 1}
	unit, err := Compile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, unit); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"placement":"`) {
		t.Error("the default request reports a placement policy")
	}
	req.Placement = "crossbar"
	dense, err := Compile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if dense.Placement != "crossbar" {
		t.Errorf("placement %q reported", dense.Placement)
	}
	for a, end := range dense.ValidEnds {
		if end < unit.ValidEnds[a] {
			t.Errorf("unit %d: crossbar placement ends valid spans at %d, unit placement at %d", a, end, unit.ValidEnds[a])
		}
	}
	const K = 16 // chip M's crossbars a core
	split := 0
	for _, r := range dense.Results {
		for _, p := range r.Partitions {
			used := map[[2]int]bool{}
			slots := map[[2]int]int{} // (unit, replica) -> slots holding it
			total := 0
			for _, sl := range p.Placement {
				if sl.FirstCrossbar < 0 || sl.FirstCrossbar+sl.Count*sl.Crossbars > K {
					t.Fatalf("%s partition %d: slot %+v overflows a core of %d crossbars", r.Method, p.Index, sl, K)
				}
				for x := sl.FirstCrossbar; x < sl.FirstCrossbar+sl.Count*sl.Crossbars; x++ {
					if used[[2]int{sl.Core, x}] {
						t.Fatalf("%s partition %d: core %d crossbar %d in two slots", r.Method, p.Index, sl.Core, x)
					}
					used[[2]int{sl.Core, x}] = true
				}
				for k := range sl.Count {
					slots[[2]int{sl.Unit, sl.Replica + k}]++
				}
				total += sl.Count * sl.Crossbars
			}
			if total != p.CrossbarsUsed {
				t.Errorf("%s partition %d: slots hold %d crossbars, the partition uses %d", r.Method, p.Index, total, p.CrossbarsUsed)
			}
			inTwo := 0
			for _, n := range slots {
				if n > 2 {
					t.Fatalf("%s partition %d: a replica in %d slots", r.Method, p.Index, n)
				}
				if n == 2 {
					inTwo++
				}
			}
			if inTwo != p.SplitReplicas {
				t.Errorf("%s partition %d: %d replicas in two slots, split_replicas says %d", r.Method, p.Index, inTwo, p.SplitReplicas)
			}
			split += inTwo
		}
	}
	if split == 0 {
		t.Error("no replica is split over two cores in the report")
	}
	req.Placement = "diagonal"
	_, err = Compile(ctx, req)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "placement" || !strings.Contains(err.Error(), "crossbar") {
		t.Errorf("placement %q: %v, want an InputError on placement naming the policies", req.Placement, err)
	}
}

// Simulated under crossbar placement, a plan runs to the end and the
// estimator's latency stays within 15% of the simulator's.
func TestSimulateCrossbarPlacement(t *testing.T) {
	r, err := Simulate(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 2,
		Methods: []string{MethodLayerwise, MethodOptimal}, Seed: 1, Placement: "crossbar"}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Placement != "crossbar" || len(r.Results) != 2 {
		t.Fatalf("placement %q, %d results", r.Placement, len(r.Results))
	}
	for _, res := range r.Results {
		if ratio := res.Estimated.LatencyS / res.LatencyS; math.Abs(ratio-1) > 0.15 {
			t.Errorf("%s: estimated %.3g s, simulated %.3g s", res.Method, res.Estimated.LatencyS, res.LatencyS)
		}
	}
}
