package estimate_test

import (
	"math/rand/v2"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model/zoo"
)

// The estimator finds the replicas crossbar placement splits by a closed
// form over the fill (a multiple of crossbars_per_core inside a replica);
// the layout places them one by one. The two agree on every span of
// random plans, and under unit placement nothing is split.
func TestSplitReplicasMatchTheLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	total := 0
	for _, c := range []struct {
		model, chip string
		batch       int
	}{{"resnet18", "M", 1}, {"resnet18", "S", 16}, {"vgg16", "M", 4}, {"mobilenet_v2", "L", 2}, {"googlenet", "S", 8}} {
		g, err := zoo.Build(c.model)
		if err != nil {
			t.Fatal(err)
		}
		chip, _ := hw.Preset(c.chip)
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatal(err)
		}
		for _, policy := range mapping.Policies() {
			e, err := estimate.NewPlaced(m, c.batch, policy)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				cuts := []int{0}
				for a := 0; a < e.NumUnits(); {
					b := a + 1 + rng.IntN(e.MaxEnd(a)-a)
					cuts = append(cuts, b)
					a = b
				}
				lay, err := layout.FromPlan(e, cuts)
				if err != nil {
					t.Fatal(err)
				}
				for pi, p := range lay.Partitions {
					placed := 0
					for _, r := range p.Replicas {
						if len(r.Pieces) > 1 {
							placed++
						}
					}
					s := e.MustSpan(cuts[pi], cuts[pi+1])
					if s.SplitReplicas != placed {
						t.Fatalf("%s on %s, %s: span [%d, %d): the estimator counts %d split replicas, the layout places %d", c.model, c.chip, policy, s.Start, s.End, s.SplitReplicas, placed)
					}
					if policy == mapping.PolicyUnit && placed != 0 {
						t.Fatalf("unit placement split %d replicas", placed)
					}
					total += placed
				}
			}
		}
	}
	if total == 0 {
		t.Error("no span had a split replica: the comparison proved nothing")
	}
}
