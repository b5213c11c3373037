package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// Under crossbar-granularity placement (mapping.PolicyCrossbar) replicas
// are split over two cores, their second pieces sending partial sums to
// the first: the instructions still compute the network bit-exactly, for
// every method's plan, on 1-bit and 2-bit cells, at batch 1 and 3, and
// the simulator moves exactly the spills the estimator counts.
func TestFunctionalBitExactOnMixedCores(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	split, splitHome, splitLater := 0, false, false
	nets := functionalNets()
	{ // 128 inputs = 4 row blocks: two input splits of two crossbars
		// each, after a one-crossbar layer, so that crossbar placement
		// splits the replicas of later splits over two cores too
		b := model.NewBuilder("split4")
		y := b.Input("y", 8)
		b.Linear("fy", y, 4, false)
		x := b.Input("x", 128)
		x = b.Unary(model.OpReLU, "r", b.Linear("fc1", x, 12, false))
		b.Linear("fc2", x, 8, false)
		nets["split4"] = b
	}
	forFunctionalPlans(t, nets, mapping.PolicyCrossbar, rng, func(what string, e *estimate.Estimator, plan partition.Plan, _ *isa.LoopProgram) {
		lay, err := layout.FromPlan(e, plan.Cuts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lay.Partitions {
			for _, r := range p.Replicas {
				if len(r.Pieces) > 1 {
					split++
					splitHome = splitHome || (r.IsHome() && e.Mapping().Layers[r.Layer].InputSplits > 1)
					splitLater = splitLater || !r.IsHome()
					if r.Pieces[0].Core == r.Pieces[1].Core {
						t.Fatalf("%s: unit %d replica %d is split on one core", what, r.Unit, r.Index)
					}
				}
			}
		}
	})
	if split == 0 || !splitHome || !splitLater {
		t.Errorf("coverage: %d replicas split over two cores; a home of an input-split stripe split %v, a later split split %v", split, splitHome, splitLater)
	}
}
