package mapping_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/internal/sim"
	"github.com/compass-go/compass/engine/model"
)

// twoLayers is fc1 (256 -> 64, weights fc1Bits wide, 0 for the chip's),
// ReLU, fc2 (64 -> 10, the chip's width).
func twoLayers(t *testing.T, fc1Bits int) *model.Graph {
	t.Helper()
	g := model.New("two")
	g.Add(&model.Node{Name: "x", Op: model.OpInput, Shape: model.Shape{256}})
	g.Add(&model.Node{Name: "fc1", Op: model.OpLinear, Inputs: []string{"x"}, Linear: &model.LinearSpec{OutFeatures: 64}, WeightBits: fc1Bits})
	g.Add(&model.Node{Name: "relu", Op: model.OpReLU, Inputs: []string{"fc1"}})
	g.Add(&model.Node{Name: "fc2", Op: model.OpLinear, Inputs: []string{"relu"}, Linear: &model.LinearSpec{OutFeatures: 10}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	return g
}

func chipM(t *testing.T) *hw.Chip {
	t.Helper()
	c, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWeightBitsDownstream: an 8-bit layer on chip M (4-bit weights,
// 1-bit cells) costs what its cells say everywhere after the mapping: the
// weight bytes read from DRAM and the crossbar rows programmed are twice
// those of the same layer at the chip's 4 bits.
func TestWeightBitsDownstream(t *testing.T) {
	chip := chipM(t)
	type figures struct {
		weightBytes     int64
		rowsPerReplica  float64
		fc1Crossbars    int
		fc1ColsPerWeigh int
	}
	measure := func(bits int) figures {
		m, err := mapping.Map(twoLayers(t, bits), chip)
		if err != nil {
			t.Fatal(err)
		}
		// fc1 alone: units of layer 0.
		l := m.Layers[0]
		e, err := estimate.New(m, 1)
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Span(l.FirstUnit, l.FirstUnit+l.NumUnits)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Layers) != 1 || s.Layers[0].Replicas < 1 {
			t.Fatalf("span of fc1: %+v", s.Layers)
		}
		rows := s.Energy.Write / (float64(s.Layers[0].Replicas) * chip.CrossbarWriteEnergyPJ(1))
		return figures{s.WeightBytes, rows, l.Crossbars, l.ColsPerWeight}
	}
	at4, at8 := measure(0), measure(8)
	// 256 x 64 weights: 4 bits = 8192 bytes, 8 bits = 16384; one crossbar
	// of 256 rows at 4 bits, two at 8.
	if at4.weightBytes != 256*64*4/8 || at8.weightBytes != 256*64*8/8 {
		t.Errorf("weight bytes %d at 4 bits and %d at 8, want %d and %d", at4.weightBytes, at8.weightBytes, 256*64*4/8, 256*64*8/8)
	}
	if at4.fc1Crossbars != 1 || at8.fc1Crossbars != 2 || at4.fc1ColsPerWeigh != 4 || at8.fc1ColsPerWeigh != 8 {
		t.Errorf("crossbars %d and %d, columns a weight %d and %d; want 1, 2, 4, 8", at4.fc1Crossbars, at8.fc1Crossbars, at4.fc1ColsPerWeigh, at8.fc1ColsPerWeigh)
	}
	if at4.rowsPerReplica != 256 || at8.rowsPerReplica != 512 {
		t.Errorf("crossbar rows written per replica %v at 4 bits and %v at 8, want 256 and 512", at4.rowsPerReplica, at8.rowsPerReplica)
	}
}

// TestWeightBitsFunctional: the functional simulator stores an 8-bit
// layer's weights (the extremes -128 and 127 included) in eight 1-bit
// cells each on chip M, whose own weights are 4 bits, and the program's
// outputs equal the direct integer reference bit for bit. Were the layer
// mapped at the chip's 4 bits, weights outside -8..7 would be cut and the
// outputs would differ.
func TestWeightBitsFunctional(t *testing.T) {
	chip := chipM(t)
	m, err := mapping.Map(twoLayers(t, 8), chip)
	if err != nil {
		t.Fatal(err)
	}
	e, err := estimate.New(m, 2)
	if err != nil {
		t.Fatal(err)
	}
	plan := partition.Layerwise(e)
	p, err := schedule.Build(e, plan.Cuts)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 4))
	signed := func(n, bits int) []int64 {
		lo := -(int64(1) << (bits - 1))
		w := make([]int64, n)
		for k := range w {
			w[k] = lo + rng.Int64N(int64(1)<<bits)
		}
		w[0], w[1] = lo, -lo-1 // both extremes
		return w
	}
	weights := [][]int64{signed(64*256, 8), signed(10*64, chip.WeightBits)}
	inputs := map[int][][]int64{}
	for range 2 {
		v := make([]int64, 256)
		for k := range v {
			v[k] = rng.Int64N(int64(1) << chip.ActivationBits)
		}
		inputs[0] = append(inputs[0], v)
	}
	lay, err := layout.FromPlan(e, plan.Cuts)
	if err != nil {
		t.Fatal(err)
	}
	f := &sim.Functional{Layout: lay, Weights: weights, Inputs: inputs, Shift: 6}
	want, err := sim.Reference(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Run(p, chip, sim.Options{Functional: f}); err != nil {
		t.Fatal(err)
	}
	out := m.Graph.Index("fc2")
	if len(want[out]) != 2 || len(f.Outputs[out]) != 2 {
		t.Fatalf("%d reference and %d simulated outputs of fc2, want 2", len(want[out]), len(f.Outputs[out]))
	}
	nonzero := false
	for b := range want[out] {
		if !slices.Equal(f.Outputs[out][b], want[out][b]) {
			t.Errorf("input %d: fc2 gives %v, the reference %v", b, f.Outputs[out][b], want[out][b])
		}
		for _, v := range want[out][b] {
			nonzero = nonzero || v != 0
		}
	}
	if !nonzero {
		t.Error("the reference outputs are all zero: the check would not see wrong weights")
	}
}
