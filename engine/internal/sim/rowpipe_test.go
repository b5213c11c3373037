package sim

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/model"
)

// chainOfConvs is n 3x3 convolutions (stride 1, padding 1) of 8 channels
// on a 16x16 input, on a chip of n crossbars (one core): each layer is one
// unit of one crossbar (72 rows, 8 outputs), so the whole chain is one
// partition in which every layer has exactly one replica, and every layer
// has 16 output rows of 16 positions (16 bands of one row each).
func chainOfConvs(t *testing.T, n int) *mapping.Mapping {
	t.Helper()
	b := model.NewBuilder(fmt.Sprintf("chain%d", n))
	x := b.Input("x", 8, 16, 16)
	for i := range n {
		x = b.Conv(fmt.Sprintf("c%d", i), x, model.Conv2D(8, 3, 1, 1))
	}
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	chip, err := hw.Preset("S")
	if err != nil {
		t.Fatal(err)
	}
	chip.Name = fmt.Sprintf("chain%d", n)
	chip.Cores, chip.CrossbarsPerCore = 1, n
	if err := chip.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Units) != n || m.ValidEnds()[0] != n {
		t.Fatalf("chain of %d: %d units, valid ends %v; want one unit a layer, all in one partition", n, len(m.Units), m.ValidEnds())
	}
	return m
}

// The row pipeline's latency lies between the critical-path bound and
// the per-input pipeline's, on chains of two and three layers worked by
// hand. Every layer runs its 256 positions on one crossbar: a stage of
// 256 MVM intervals (iv), 16 iv a row.
//
// Two layers A -> B. Per input: B starts when A is done: 256 + 256 = 512
// iv. Row by row: A's row j is done at 16(j+1). B's row j reads A's rows
// j-1..j+1, so it starts at max(B's row j-1, A's row min(j+1, 15)) and
// takes 16: B0 = A1 + 16 = 48, Bj = 16(j+3) for j <= 14 (A's row j+1 and
// B's row j-1 both end at 16(j+2)), B15 = max(B14 = 272, A15 = 256) + 16 =
// 288 iv. Bound: B's last row reads A's last row, done at 256 at the
// earliest, and takes 16: 272 iv.
//
// Three layers A -> B -> C: per input 768 iv. C's row j reads B's rows up
// to j+1: C0 = B1 + 16 = 80, Cj = 16(j+5) for j <= 14, C15 = max(C14 =
// 304, B15 = 288) + 16 = 320 iv. Bound: A's last row at 256, B's last
// row 16 later, C's 16 after that: 288 iv.
func TestRowPipelineBetweenBounds(t *testing.T) {
	for _, c := range []struct {
		layers               int
		bound, row, perInput float64 // in MVM intervals
	}{
		{layers: 2, bound: 272, row: 288, perInput: 512},
		{layers: 3, bound: 288, row: 320, perInput: 768},
	} {
		m := chainOfConvs(t, c.layers)
		iv := m.Chip.MVMIntervalNs()
		lat := map[estimate.Pipeline]float64{}
		for _, pipe := range []estimate.Pipeline{estimate.PerInput, estimate.Row} {
			e, err := estimate.NewPipeline(m, 1, pipe)
			if err != nil {
				t.Fatal(err)
			}
			s := e.MustSpan(0, c.layers)
			for _, lp := range s.Layers {
				if lp.Replicas != 1 || lp.StageNs != 256*iv {
					t.Fatalf("%d layers, %s: layer %d has %d replicas and a stage of %.1f iv; the case needs 1 and 256 (crossbar-bound)",
						c.layers, pipe, lp.Layer, lp.Replicas, lp.StageNs/iv)
				}
			}
			want := c.perInput
			if pipe == estimate.Row {
				want = c.row
			}
			if got := s.FillNs / iv; math.Abs(got-want) > 1e-9*want {
				t.Errorf("%d layers, %s pipeline: the first input takes %.2f iv, worked by hand %.0f", c.layers, pipe, got, want)
			}
			// The simulator runs the same rule: its whole run (weights,
			// the input's load, the compute, the store) in this mode.
			prog, err := schedule.Build(e, []int{0, c.layers})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(prog, m.Chip, Options{})
			if err != nil {
				t.Fatal(err)
			}
			lat[pipe] = r.LatencyNs
			if cp := r.Partitions[0].Compute.Ns(); cp < c.bound*iv {
				t.Errorf("%d layers, %s pipeline: simulated compute %.1f iv, below the critical-path bound of %.0f", c.layers, pipe, cp/iv, c.bound)
			}
		}
		// The row pipeline saves in the simulator at least half of what it
		// saves by hand, and is never slower.
		if saved := (lat[estimate.PerInput] - lat[estimate.Row]) / iv; saved < (c.perInput-c.row)/2 {
			t.Errorf("%d layers: simulated %.1f iv per input, %.1f row by row: %.1f iv saved, by hand %.0f",
				c.layers, lat[estimate.PerInput]/iv, lat[estimate.Row]/iv, saved, c.perInput-c.row)
		}
	}
}

// Same request and seed, same bytes: the row pipeline's program and its
// simulation are identical from one run to the next, and its program
// stays in loop form whose size does not grow with the batch.
func TestRowPipelineDeterministicAndLooped(t *testing.T) {
	m := chainOfConvs(t, 3)
	run := func(batch int) ([]byte, *Result, int) {
		e, err := estimate.NewPipeline(m, batch, estimate.Row)
		if err != nil {
			t.Fatal(err)
		}
		plan := partition.Greedy(e)
		lp, err := schedule.Build(e, plan.Cuts)
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, part := range lp.Partitions {
			for _, st := range part.Streams {
				stored += len(st.Head) + len(st.Body) + len(st.Tail)
			}
		}
		var buf bytes.Buffer
		if err := lp.Expand().WriteMsgpack(&buf); err != nil {
			t.Fatal(err)
		}
		r, err := Run(lp, m.Chip, Options{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), r, stored
	}
	p1, r1, n3 := run(3)
	p2, r2, _ := run(3)
	if !bytes.Equal(p1, p2) || !reflect.DeepEqual(r1, r2) {
		t.Error("the same row-pipeline request gave different programs or results")
	}
	if _, _, n120 := run(120); n120 != n3 {
		t.Errorf("the loop form stores %d instructions at batch 3 and %d at batch 120", n3, n120)
	}
}
