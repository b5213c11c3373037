package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

// Under crossbar-granularity placement (layout.PolicyCrossbar) replicas
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
			for _, batch := range []int{1, 3} {
				e, err := estimate.NewPlaced(m, batch, layout.PolicyCrossbar)
				if err != nil {
					t.Fatal(err)
				}
				inputs := randomInputs(rng, g, batch, chip.ActivationBits)
				ga, err := partition.GA(context.Background(), e, partition.Latency, partition.DefaultGAOptions(1))
				if err != nil {
					t.Fatal(err)
				}
				plans := map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e), "compass": ga.Plan}
				for _, method := range []string{"greedy", "layerwise", "compass"} {
					plan := plans[method]
					what := fmt.Sprintf("%s, %d-bit cells, batch %d, %s, crossbar placement", name, bits, batch, method)
					checkFunctional(t, what, e, plan, weights, inputs)
					lay, err := e.Layout(plan.Cuts)
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range lay.Partitions {
						for _, r := range p.Replicas {
							if len(r.Pieces) > 1 {
								split++
								splitHome = splitHome || (r.IsHome() && m.Layers[r.Layer].InputSplits > 1)
								splitLater = splitLater || !r.IsHome()
								if r.Pieces[0].Core == r.Pieces[1].Core {
									t.Fatalf("%s: unit %d replica %d is split on one core", what, r.Unit, r.Index)
								}
							}
						}
					}
				}
			}
		}
	}
	if split == 0 || !splitHome || !splitLater {
		t.Errorf("coverage: %d replicas split over two cores; a home of an input-split stripe split %v, a later split split %v", split, splitHome, splitLater)
	}
}

// The estimator agrees with the simulator under crossbar placement as it
// does under unit placement (TestPaperGridSimulates): within 15% on
// latency and 10% on energy for every method's plan over the paper's grid.
func TestPaperGridSimulatesCrossbarPlacement(t *testing.T) {
	worst, worstEnergy := 1.0, 1.0
	var worstName, worstEnergyName string
	splits := 0
	for _, mn := range []string{"vgg16", "resnet18", "squeezenet1_1"} {
		g, err := zoo.Build(mn)
		if err != nil {
			t.Fatal(err)
		}
		for _, cn := range []string{"S", "M", "L"} {
			chip, _ := hw.Preset(cn)
			m, err := mapping.Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			for _, B := range gridBatches() {
				e, err := estimate.NewPlaced(m, B, layout.PolicyCrossbar)
				if err != nil {
					t.Fatal(err)
				}
				paper, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
				if err != nil {
					t.Fatal(err)
				}
				opt, err := partition.Optimal(context.Background(), e, partition.Latency)
				if err != nil {
					t.Fatal(err)
				}
				plans := map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e), "compass-paper": paper.Plan, "optimal": opt.Plan}
				for _, meth := range []string{"greedy", "layerwise", "compass-paper", "optimal"} {
					name := fmt.Sprintf("%s/%s/%d/%s", mn, cn, B, meth)
					tot, _, r := simulatePlan(t, name, e, plans[meth], Options{})
					lay, err := e.Layout(plans[meth].Cuts)
					if err != nil {
						t.Fatal(err)
					}
					for _, lp := range lay.Partitions {
						for _, rep := range lp.Replicas {
							if len(rep.Pieces) > 1 {
								splits++
							}
						}
					}
					ratio := tot.TimeNs / r.LatencyNs
					if math.Abs(ratio-1) > math.Abs(worst-1) {
						worst, worstName = ratio, name
					}
					if math.Abs(ratio-1) > 0.15 {
						t.Errorf("%s: estimator %.1f us vs simulator %.1f us (%.3f): outside 15%%", name, tot.TimeNs/1e3, r.LatencyNs/1e3, ratio)
					}
					eratio := tot.EnergyPJ / r.EnergyPJ
					if math.Abs(eratio-1) > math.Abs(worstEnergy-1) {
						worstEnergy, worstEnergyName = eratio, name
					}
					if math.Abs(eratio-1) > 0.10 {
						t.Errorf("%s: estimator %.4g pJ vs simulator %.4g pJ (%.3f): outside 10%%", name, tot.EnergyPJ, r.EnergyPJ, eratio)
					}
				}
			}
		}
	}
	if splits == 0 {
		t.Error("no replica was split over two cores: the grid did not exercise crossbar placement")
	}
	t.Logf("crossbar placement: %d split replicas; worst estimator / simulator latency %.3f (%s), energy %.3f (%s)", splits, worst, worstName, worstEnergy, worstEnergyName)
}
