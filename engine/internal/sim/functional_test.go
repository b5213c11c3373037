package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// smallChip is a chip small enough that the test networks need several
// units, partitions, replicas and input splits: 32x16 crossbars (four
// 4-bit weights across on 1-bit cells, so a 3x3 depthwise kernel packs
// three channels to a crossbar), 2 per core, 4 cores. On 1-bit cells its
// local memory is 64 bytes, so replicas spill their buffers to DRAM.
func smallChip(t *testing.T, bitsPerCell int) *hw.Chip {
	chip, err := hw.Preset("S")
	if err != nil {
		t.Fatal(err)
	}
	chip.Name = fmt.Sprintf("tiny-%db", bitsPerCell)
	chip.CrossbarRows, chip.CrossbarCols = 32, 16
	chip.Cores, chip.CrossbarsPerCore = 4, 2
	chip.BitsPerCell = bitsPerCell
	if bitsPerCell == 1 {
		chip.LocalMemoryBytes = 64
	}
	if err := chip.Validate(); err != nil {
		t.Fatal(err)
	}
	return chip
}

func functionalNets() map[string]*model.Builder {
	nets := map[string]*model.Builder{}
	{ // a three-layer CNN
		b := model.NewBuilder("cnn3")
		x := b.Input("x", 3, 6, 6)
		x = b.Unary(model.OpReLU, "r1", b.Conv("c1", x, model.Conv2D(8, 3, 1, 1)))
		x = b.Unary(model.OpReLU, "r2", b.Conv("c2", x, model.Conv2D(6, 3, 2, 1)))
		b.Conv("c3", x, model.Conv2D(5, 1, 1, 0))
		nets["cnn3"] = b
	}
	{ // a residual block
		b := model.NewBuilder("residual")
		x := b.Input("x", 4, 5, 5)
		y := b.Unary(model.OpReLU, "ra", b.Conv("ca", x, model.Conv2D(4, 3, 1, 1)))
		y = b.Conv("cb", y, model.Conv2D(4, 3, 1, 1))
		b.Unary(model.OpReLU, "out", b.Binary(model.OpAdd, "add", y, x))
		nets["residual"] = b
	}
	{ // a depthwise block (the depthwise conv packs groups on crossbars)
		b := model.NewBuilder("depthwise")
		x := b.Input("x", 4, 5, 5)
		x = b.Clip("e", b.Conv("expand", x, model.Conv2D(8, 1, 1, 0)), 0, 6)
		x = b.Unary(model.OpReLU, "dr", b.Conv("dw", x, model.Conv2D(8, 3, 1, 1).WithGroups(8)))
		b.Conv("project", x, model.Conv2D(4, 1, 1, 0))
		nets["depthwise"] = b
	}
	{ // a layer split along both dimensions: 80 inputs = 3 row blocks of 32,
		// more than a core's 2 crossbars, and 24 outputs = 6 column stripes
		b := model.NewBuilder("split")
		x := b.Input("x", 80)
		x = b.Unary(model.OpReLU, "r", b.Linear("fc1", x, 24, false))
		b.Linear("fc2", x, 8, false)
		nets["split"] = b
	}
	return nets
}

// forFunctionalPlans runs every method's plan (greedy, layerwise, the GA)
// of every network numerically under a placement policy, on 1-bit and
// 2-bit cells, at batch 1 and 3, in both pipeline modes (in the row
// pipeline a chunk's MVMs read rows that only the bands it waited for
// hold, so a wrong row counter shows as a wrong value), with random
// weights and inputs, checks each bit-exact against Reference, and hands
// each run to visit.
func forFunctionalPlans(t *testing.T, nets map[string]*model.Builder, policy mapping.Policy, rng *rand.Rand,
	visit func(what string, e *estimate.Estimator, plan partition.Plan, lp *isa.LoopProgram)) {
	t.Helper()
	for name, b := range nets {
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		for _, bits := range []int{1, 2} {
			chip := smallChip(t, bits)
			m, err := mapping.Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			weights := randomWeights(rng, m)
			for _, pc := range []struct {
				pipe  estimate.Pipeline
				batch int
			}{{estimate.PerInput, 1}, {estimate.PerInput, 3}, {estimate.Row, 1}, {estimate.Row, 3}} {
				batch := pc.batch
				e, err := estimate.NewPlacedPipeline(m, batch, policy, pc.pipe)
				if err != nil {
					t.Fatal(err)
				}
				inputs := randomInputs(rng, g, batch, chip.ActivationBits)
				ga, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
				if err != nil {
					t.Fatal(err)
				}
				plans := map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e), "compass": ga.Plan}
				for _, method := range []string{"greedy", "layerwise", "compass"} {
					plan := plans[method]
					what := fmt.Sprintf("%s, %d-bit cells, batch %d, %s pipeline, %s (%d partitions), %s placement", name, bits, batch, pc.pipe, method, plan.Partitions(), policy)
					lp, _ := checkFunctional(t, what, e, plan, weights, inputs)
					visit(what, e, plan, lp)
				}
			}
		}
	}
}

// The generated instructions compute the network: executed numerically
// (bit-sliced crossbars, ideal ADC, shift-and-add, partial sums) they give
// bit-exactly what a direct integer computation gives, for every method's
// partitioning, on 1-bit and 2-bit cells, at batch 1 and 3, in both
// pipeline modes.
func TestFunctionalBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var replicated, carried, packed, inputSplit, spilled, banded bool
	for name, b := range functionalNets() {
		if name != "split" {
			continue
		}
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		if m, err := mapping.Map(g, smallChip(t, 1)); err != nil || m.Layers[0].InputSplits < 2 {
			t.Fatalf("the split network is not split along its inputs (%v)", err)
		}
	}
	forFunctionalPlans(t, functionalNets(), mapping.PolicyUnit, rng, func(what string, e *estimate.Estimator, plan partition.Plan, lp *isa.LoopProgram) {
		m := e.Mapping()
		p := lp.Expand()
		for pi := range p.Partitions {
			sp := e.MustSpan(plan.Cuts[pi], plan.Cuts[pi+1])
			for _, lp := range sp.Layers {
				replicated = replicated || lp.Replicas > 1
				packed = packed || m.Layers[lp.Layer].GroupsPerCrossbar > 1
				inputSplit = inputSplit || m.Layers[lp.Layer].InputSplits > 1
			}
			for _, st := range p.Partitions[pi].Streams {
				for _, in := range st.Instrs {
					carried = carried || (in.Op == isa.LoadData && in.Node == isa.PsumNode)
					spilled = spilled || (in.Op == isa.StoreData && in.Node == isa.SpillNode)
					banded = banded || (in.Op == isa.Recv && in.Node >= 0 && in.Band > 0)
				}
			}
		}
	})
	// The cases the test is for must all have occurred.
	if !replicated || !carried || !packed || !inputSplit || !spilled || !banded {
		t.Errorf("coverage: replicated %v, partial sums carried across partitions %v, packed groups %v, input splits %v, spilled buffers %v, tensors received by row band %v",
			replicated, carried, packed, inputSplit, spilled, banded)
	}
}
