package sim

import (
	"fmt"
	"testing"

	"github.com/compass-go/compass/engine/estimate"
	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/mapping"
	"github.com/compass-go/compass/engine/model/zoo"
	"github.com/compass-go/compass/engine/partition"
	"github.com/compass-go/compass/engine/schedule"
)

func TestZZDebug(t *testing.T) {
	g, _ := zoo.Build("vit_b_16")
	chip, _ := hw.Preset("L")
	m, _ := mapping.Map(g, chip)
	e, _ := estimate.New(m, 1)
	plan := partition.Greedy(e)
	p, _ := schedule.Build(e, plan.Cuts)
	r, err := Run(p, chip, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prev := 0.0
	for i, pr := range r.Partitions {
		s := e.MustSpan(plan.Cuts[i], plan.Cuts[i+1])
		fmt.Printf("p%d est %.1f (wl %.1f wr %.1f comp %.1f io %.1f; fill %.1f bott %.2f) | sim %.1f: comp %.1f-%.1f io %.1f-%.1f layers %d\n", i, s.TimeNs/1e3, s.WeightLoadNs/1e3, s.WriteNs/1e3, s.ComputeNs/1e3, s.IONs/1e3, s.FillNs/1e3, s.BottleneckNs/1e3,
			(pr.End-prev)/1e3, pr.Compute.StartNs/1e3, pr.Compute.EndNs/1e3, pr.IO.StartNs/1e3, pr.IO.EndNs/1e3, len(s.Layers))
		if i == 1 {
			for _, lp := range s.Layers {
				fmt.Printf("    %s r=%d cores=%d stage %.2f\n", m.Layers[lp.Layer].Name, lp.Replicas, lp.Cores, lp.StageNs/1e3)
			}
		}
		prev = pr.End
	}
}
