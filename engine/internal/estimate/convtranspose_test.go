package estimate_test

import (
	"math"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/model"
)

// upGraph is an 8-channel 4x4 input through a 3x3
// ConvTranspose (stride 1, no padding: 6x6 out), then a ReLU. By hand:
// 4x4 pixels x 9 kernel taps = 144 products per output channel land on
// 6x6 = 36 outputs, so 144 - 36 = 108 overlap adds per channel; the ReLU
// one op per output element.
func upGraph(t *testing.T, channels int) *model.Graph {
	t.Helper()
	g := model.New("up")
	g.Add(&model.Node{Name: "x", Op: model.OpInput, Shape: model.Shape{8, 4, 4}})
	g.Add(&model.Node{Name: "up", Op: model.OpConvTranspose, Inputs: []string{"x"}, Conv: &model.ConvSpec{OutChannels: channels, KernelH: 3, KernelW: 3,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1}})
	g.Add(&model.Node{Name: "act", Op: model.OpReLU, Inputs: []string{"up"}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	return g
}

// upOps is the graph's overlap adds and ReLU ops, per input.
func upOps(channels int) (overlapAdds, relu int64) {
	return int64(channels) * (4*4*9 - 6*6), int64(channels) * 6 * 6
}

// The span holding the ConvTranspose charges its overlap adds: its
// vector ops are the ReLU's plus exactly the overlap adds, per input.
func TestConvTransposeOverlapAddsAreCharged(t *testing.T) {
	// 64 channels: one unit, so the span's share of the layer is exactly 1.
	g := upGraph(t, 64)
	upOverlapAdds, upReLUOps := upOps(64)
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Units) != 1 {
		t.Fatalf("%d units, want 1", len(m.Units))
	}
	if m.Layers[0].InputSplits != 1 {
		t.Fatalf("the layer is split over its inputs (%d): partial sums would add vector ops", m.Layers[0].InputSplits)
	}
	const B = 3
	e, err := estimate.New(m, B)
	if err != nil {
		t.Fatal(err)
	}
	s := e.MustSpan(0, e.NumUnits())
	if got, want := s.Energy.VFU/chip.VFUEnergyPerOpPJ, float64(B*(upOverlapAdds+upReLUOps)); got != want {
		t.Errorf("the span charges %v vector ops, want %v (%d overlap adds + %d ReLU ops per input, %d inputs)", got, want, upOverlapAdds, upReLUOps, B)
	}
}

// The scheduled program runs the vector ops the estimate charges, the
// overlap adds included, in every partition, up to each instruction's
// rounding; and over all partitions the overlap adds and the ReLU once.
func TestConvTransposeVectorOpsAgreeWithTheSchedule(t *testing.T) {
	// 1,024 channels: the layer spreads over several units.
	g := upGraph(t, 1024)
	upOverlapAdds, upReLUOps := upOps(1024)
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	const B = 2
	e, err := estimate.New(m, B)
	if err != nil {
		t.Fatal(err)
	}
	U := e.NumUnits()
	if U < 2 {
		t.Fatalf("%d units: the test needs the layer over several units to cut it", U)
	}
	plans := [][]int{{0, U}}
	if e.MaxEnd(0) >= 1 && e.MaxEnd(1) >= U {
		plans = append(plans, []int{0, 1, U})
	}
	every := []int{0}
	for u := 1; u <= U; u++ {
		every = append(every, u)
	}
	plans = append(plans, every)
	for _, cuts := range plans {
		lp, err := schedule.Build(e, cuts)
		if err != nil {
			t.Fatal(err)
		}
		var totalProg, totalInstrs int64
		var totalEst float64
		for pi, part := range lp.Expand().Partitions {
			var ops, instrs, adds int64
			for _, st := range part.Streams {
				for _, in := range st.Instrs {
					if in.Ops > 0 {
						ops += in.Ops
						instrs++
						if int(in.Node) == g.Index("up") {
							adds += in.Ops
						}
					}
				}
			}
			if adds == 0 {
				t.Errorf("cuts %v partition %d: no vector instruction adds the ConvTranspose's overlapping products", cuts, pi)
			}
			est := e.MustSpan(cuts[pi], cuts[pi+1]).Energy.VFU / chip.VFUEnergyPerOpPJ
			// The estimate rounds the partition's share up once per
			// input, the program each instruction.
			if float64(ops) < est-B || float64(ops) >= est+float64(instrs) {
				t.Errorf("cuts %v partition %d: the program runs %d vector ops in %d instructions, the estimate %v", cuts, pi, ops, instrs, est)
			}
			totalProg += ops
			totalInstrs += instrs
			totalEst += est
		}
		want := B * (upOverlapAdds + upReLUOps)
		if totalProg < want || totalProg >= want+totalInstrs {
			t.Errorf("cuts %v: the program runs %d vector ops in %d instructions, want %d up to rounding", cuts, totalProg, totalInstrs, want)
		}
		// Each partition's share of the layer is a sum of its units'
		// shares in floating point, rounded up: one op either side per
		// partition and input.
		if slack := float64(B * (len(cuts) - 1)); math.Abs(totalEst-float64(want)) > slack {
			t.Errorf("cuts %v: the estimate charges %v vector ops, want %d up to one per partition and input", cuts, totalEst, want)
		}
	}
}
