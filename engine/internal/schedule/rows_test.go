package schedule

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model/zoo"
)

// The row pipeline's row counters add up: in every partition of every
// method's plan, each RECV of a band of a tensor waits for exactly as
// many contributions as the partition's SENDs and LOAD_DATAs make to that
// band of that input, so no band is waited for that never comes, and none
// is passed before all of it is in. Its loop form expands to the program
// generated input by input, and it really moves rows in bands.
func TestRowCountersAddUp(t *testing.T) {
	for _, c := range []struct {
		model, chip string
		batch       int
	}{{"resnet18", "M", 4}, {"squeezenet1_1", "S", 3}, {"googlenet", "M", 1}, {"mobilenet_v2", "S", 3}, {"vgg16", "L", 3}} {
		g, err := zoo.Build(c.model)
		if err != nil {
			t.Fatal(err)
		}
		chip, _ := hw.Preset(c.chip)
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatal(err)
		}
		e, err := estimate.NewPipeline(m, c.batch, estimate.Row)
		if err != nil {
			t.Fatal(err)
		}
		ga, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
		if err != nil {
			t.Fatal(err)
		}
		for name, cuts := range map[string][]int{"greedy": partition.Greedy(e).Cuts, "layerwise": partition.Layerwise(e).Cuts, "compass": ga.Plan.Cuts} {
			what := fmt.Sprintf("%s on %s, batch %d, %s", c.model, c.chip, c.batch, name)
			lp, err := Build(e, cuts)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			flat, err := build(e, cuts, true)
			if err != nil {
				t.Fatal(err)
			}
			p := lp.Expand()
			if !reflect.DeepEqual(p, flat.Expand()) {
				t.Fatalf("%s: the loop form does not expand to the program generated input by input", what)
			}
			bands := 0
			for pi, part := range p.Partitions {
				type key struct{ node, band, input int32 }
				made, want := map[key]int64{}, map[key]int64{}
				for _, st := range part.Streams {
					for _, in := range st.Instrs {
						k := key{in.Node, in.Band, in.Input}
						switch {
						case in.Node < 0:
						case in.Op == isa.Send, in.Op == isa.LoadData:
							made[k]++
						case in.Op == isa.Recv:
							if w, ok := want[k]; ok && w != in.Count {
								t.Fatalf("%s partition %d: RECVs of node %d band %d wait for %d and %d contributions", what, pi, in.Node, in.Band, w, in.Count)
							}
							want[k] = in.Count
							if in.Band > 0 {
								bands++
							}
						}
					}
				}
				for k, w := range want {
					if made[k] != w {
						t.Fatalf("%s partition %d: RECV of node %s band %d input %d waits for %d contributions, %d are made",
							what, pi, g.Nodes[k.node].Name, k.band, k.input, w, made[k])
					}
				}
			}
			if name == "greedy" && bands == 0 {
				t.Errorf("%s: no tensor is received by band", what)
			}
		}
	}
}
