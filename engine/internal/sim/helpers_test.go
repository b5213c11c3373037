package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// simulatePlan schedules a plan and simulates it, checks the bounds the
// chip imposes and that every partition spills and reads back exactly
// what the estimator counts, and returns the estimator's totals, the
// program and the result.
func simulatePlan(t *testing.T, name string, e *estimate.Estimator, plan partition.Plan, opt Options) (partition.Totals, *isa.LoopProgram, *Result) {
	t.Helper()
	m := e.Mapping()
	chip := m.Chip
	tot, spans, err := partition.Evaluate(e, plan)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p, err := schedule.Build(e, plan.Cuts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r, err := Run(p, chip, opt)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var weightBytes int64
	for _, u := range m.Units {
		weightBytes += (u.Cells*int64(chip.BitsPerCell) + 7) / 8
	}
	B := int64(e.Batch())
	checkBounds(t, name, r, chip, weightBytes, e.Batch())
	for i, sp := range spans {
		if pr := r.Partitions[i]; pr.SpillBytes != B*sp.SpillBytes || pr.ReloadBytes != B*sp.ReloadBytes {
			t.Errorf("%s partition %d: %d bytes spilled and %d read back, the estimator %d and %d", name, i,
				pr.SpillBytes, pr.ReloadBytes, B*sp.SpillBytes, B*sp.ReloadBytes)
		}
	}
	return tot, p, r
}

// randomWeights draws every layer's weights as signed weight_bits
// integers, [output][row] as Functional.Weights wants them.
func randomWeights(rng *rand.Rand, m *mapping.Mapping) [][]int64 {
	weights := make([][]int64, len(m.Layers))
	lo, hi := -(int64(1) << (m.Chip.WeightBits - 1)), int64(1)<<(m.Chip.WeightBits-1)-1
	for li, l := range m.Layers {
		weights[li] = make([]int64, l.Rows*l.Cols*l.Groups)
		for k := range weights[li] {
			weights[li][k] = lo + rng.Int64N(hi-lo+1)
		}
	}
	return weights
}

// randomInputs draws batch tensors for every graph input, unsigned
// activation_bits integers.
func randomInputs(rng *rand.Rand, g *model.Graph, batch, activationBits int) map[int][][]int64 {
	inputs := map[int][][]int64{}
	for i, n := range g.Nodes {
		if n.Op != model.OpInput {
			continue
		}
		for range batch {
			v := make([]int64, n.Out.Elems())
			for k := range v {
				v[k] = rng.Int64N(int64(1) << activationBits)
			}
			inputs[i] = append(inputs[i], v)
		}
	}
	return inputs
}

// checkFunctional runs a plan numerically (simulatePlan with the
// functional mode) and requires every graph output of every input to
// equal the direct integer reference, bit for bit.
func checkFunctional(t *testing.T, what string, e *estimate.Estimator, plan partition.Plan, weights [][]int64, inputs map[int][][]int64) (*isa.LoopProgram, *Result) {
	t.Helper()
	m := e.Mapping()
	lay, err := layout.FromPlan(e, plan.Cuts)
	if err != nil {
		t.Fatal(err)
	}
	f := &Functional{Layout: lay, Weights: weights, Inputs: inputs, Shift: 4}
	want, err := Reference(f)
	if err != nil {
		t.Fatal(err)
	}
	_, p, r := simulatePlan(t, what, e, plan, Options{Functional: f})
	for node, outs := range want {
		got := f.Outputs[node]
		if len(got) != e.Batch() {
			t.Fatalf("%s: %d outputs of %s, want %d", what, len(got), m.Graph.Nodes[node].Name, e.Batch())
		}
		for bi := range outs {
			if len(got[bi]) == 0 {
				t.Fatalf("%s: no output", what)
			}
			if !slices.Equal(got[bi], outs[bi]) {
				t.Errorf("%s: output %s of input %d differs from the reference\n got %v\nwant %v", what, m.Graph.Nodes[node].Name, bi, got[bi], outs[bi])
			}
		}
	}
	return p, r
}
