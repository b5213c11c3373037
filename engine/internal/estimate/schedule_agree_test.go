package estimate_test

import (
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// The estimator and the scheduler count the same vector work per
// partition when a node before every layer has a layer split over
// partitions: each partition holding part of the conv computes the whole
// ReLU before it. The span's VFU energy charges the whole ReLU per input,
// and the program of each partition runs it, up to each home's rounding.
func TestVectorOpsAgreeWithTheScheduleAcrossASplitLayer(t *testing.T) {
	b := model.NewBuilder("pre")
	x := b.Input("x", 16, 8, 8)
	x = b.Unary(model.OpReLU, "a", x)
	b.Conv("c", x, model.Conv2D(4096, 1, 1, 0))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	const B = 3
	e, err := estimate.New(m, B)
	if err != nil {
		t.Fatal(err)
	}
	if e.NumUnits() != 4 {
		t.Fatalf("%d units, want 4", e.NumUnits())
	}
	for _, cuts := range [][]int{{0, 1, 4}, {0, 2, 4}, {0, 1, 2, 3, 4}} {
		lp, err := schedule.Build(e, cuts)
		if err != nil {
			t.Fatal(err)
		}
		p := lp.Expand()
		for pi, part := range p.Partitions {
			var ops, vecInstrs int64
			for _, st := range part.Streams {
				for _, in := range st.Instrs {
					if in.Ops > 0 {
						ops += in.Ops
						vecInstrs++
					}
				}
			}
			s := e.MustSpan(cuts[pi], cuts[pi+1])
			// The ReLU's 1,024 elements, whole, per input.
			const want = B * 16 * 8 * 8
			if got := s.Energy.VFU / chip.VFUEnergyPerOpPJ; got != want {
				t.Errorf("cuts %v partition %d: the estimate charges %v vector ops, want %d (the whole ReLU per input)", cuts, pi, got, want)
			}
			// Each home computes its element range of the ReLU and rounds
			// its ops up: less than one op more per vector instruction.
			if ops < want || ops >= want+vecInstrs {
				t.Errorf("cuts %v partition %d: the program runs %d vector ops in %d instructions, want %d up to rounding", cuts, pi, ops, vecInstrs, want)
			}
		}
	}
}

// An Embedding's rows: the program loads from DRAM what the span's
// load_bytes counts, the token ids and the looked-up rows, per input.
func TestEmbeddingLoadAgreesWithTheSchedule(t *testing.T) {
	g := model.New("emb")
	g.Add(&model.Node{Name: "ids", Op: model.OpInput, Shape: model.Shape{7}})
	g.Add(&model.Node{Name: "emb", Op: model.OpEmbedding, Table: model.Shape{100, 16}, Inputs: []string{"ids"}})
	g.Add(&model.Node{Name: "fc", Op: model.OpLinear, Inputs: []string{"emb"}, Linear: &model.LinearSpec{OutFeatures: 32}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
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
	lp, err := schedule.Build(e, []int{0, e.NumUnits()})
	if err != nil {
		t.Fatal(err)
	}
	var loaded, loads int64
	for _, st := range lp.Expand().Partitions[0].Streams {
		for _, in := range st.Instrs {
			if in.Op == isa.LoadData {
				loaded += in.Bytes
				loads++
			}
		}
	}
	s := e.MustSpan(0, e.NumUnits())
	// Each load rounds its bytes up: less than one byte more per load.
	if want := B * s.LoadBytes; loaded < want || loaded >= want+loads {
		t.Errorf("the program loads %d bytes in %d LOAD_DATA, the estimate %d (%d an input)", loaded, loads, want, s.LoadBytes)
	}
}
