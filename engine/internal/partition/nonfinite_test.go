package partition_test

import (
	"context"
	"math"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model/zoo"
)

// TestSearchesSurviveNonFiniteCosts runs every method on an estimator whose
// span costs are infinite or NaN (a chip whose bus is made impossibly slow
// or fast after validation: Validate refuses such a chip, so this reaches
// the searches only if a cost model overflows). The GA once indexed past a
// span row here (its dynamic programme found no finite path and merged
// partitions into an invalid span); now every method returns a valid
// plan, whose non-finite figures the API reports as an internal error.
func TestSearchesSurviveNonFiniteCosts(t *testing.T) {
	g, err := zoo.Build("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		set  func(c *hw.Chip)
	}{
		{"infinite time", func(c *hw.Chip) { c.BusBandwidthBytesPerS = 1e-300 }},
		{"infinite energy", func(c *hw.Chip) { c.MVMSliceEnergyPJ = 1e308 }},
		{"NaN", func(c *hw.Chip) { c.BusLatencyNs = math.NaN() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			preset, err := hw.Preset("M")
			if err != nil {
				t.Fatal(err)
			}
			chip := *preset
			m, err := mapping.Map(g, &chip)
			if err != nil {
				t.Fatal(err)
			}
			tc.set(&chip) // after validation, as an overflow would
			for _, obj := range partition.Objectives() {
				e := newEstimator(t, m, 4)
				opt := partition.PaperGAOptions(1)
				opt.Patience = 0
				ga, err := partition.GA(context.Background(), e, obj, opt)
				if err != nil {
					t.Fatalf("%s: GA: %v", obj, err)
				}
				op, err := partition.Optimal(context.Background(), e, obj)
				if err != nil {
					t.Fatalf("%s: optimal: %v", obj, err)
				}
				for name, p := range map[string]partition.Plan{"GA": ga.Plan, "optimal": op.Plan,
					"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e)} {
					tot, _, err := partition.Evaluate(e, p)
					if err != nil {
						t.Fatalf("%s: %s plan is not a valid partitioning: %v", obj, name, err)
					}
					if finite(tot.TimeNs) && finite(tot.EnergyPJ) {
						t.Errorf("%s: %s totals %v ns, %v pJ: want the non-finite cost to show", obj, name, tot.TimeNs, tot.EnergyPJ)
					}
				}
			}
		})
	}
}

func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }
