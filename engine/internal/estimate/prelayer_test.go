package estimate

import (
	"math"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/model"
)

// reluBeforeWideConv is input [16,8,8] -> ReLU -> conv 1x1 16->4096: the
// ReLU comes before every layer, and on chip M (256x256 crossbars at 4
// columns per weight, 64 outputs a crossbar, 16 crossbars a core) the
// conv is four units of 1,024 outputs, so a span can hold part of it.
func reluBeforeWideConv(t *testing.T) *model.Graph {
	b := model.NewBuilder("pre")
	x := b.Input("x", 16, 8, 8)
	x = b.Unary(model.OpReLU, "a", x)
	b.Conv("c", x, model.Conv2D(4096, 1, 1, 0))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// A span holding half of the conv computes the ReLU before it whole, as
// the scheduler does (model.Graph.BeforeEveryLayer): it loads the whole input x and
// nothing of the ReLU's output, and its vector work is the ReLU's 1,024
// elements, not half of them.
func TestNodeBeforeEveryLayerIsComputedWholeInEverySpan(t *testing.T) {
	const B = 2
	g := reluBeforeWideConv(t)
	e, chip := setup(t, g, "M", B)
	if e.NumUnits() != 4 {
		t.Fatalf("%d units, want 4 of 1,024 outputs", e.NumUnits())
	}
	if got := g.BeforeEveryLayer(); !slices.Equal(got, []bool{false, true, false}) {
		t.Fatalf("BeforeEveryLayer = %v, want only the ReLU", got)
	}
	const elems = 16 * 8 * 8
	act := float64(chip.ActivationBits) / 8
	for _, span := range [][2]int{{0, 2}, {2, 4}, {0, 4}, {3, 4}} {
		s, err := e.Span(span[0], span[1])
		if err != nil {
			t.Fatal(err)
		}
		x := g.Index("x")
		if !slices.Equal(s.Entries, []int{x}) || !slices.Equal(s.EntryShare, []float64{1}) {
			t.Errorf("span %v: entries %v shares %v, want the whole input x (node %d) only", span, s.Entries, s.EntryShare, x)
		}
		if want := int64(elems * act); s.LoadBytes != want {
			t.Errorf("span %v: load %d bytes an input, want the whole input's %d", span, s.LoadBytes, want)
		}
		// One VFU op per ReLU element; the conv has no partial sums.
		near(t, "VFU energy", s.Energy.VFU, B*elems*chip.VFUEnergyPerOpPJ)
	}
}

// Costing every span the same way keeps Costs and Span in agreement for
// a graph with a node before every layer.
func TestCostsAgreeWithSpansWithANodeBeforeEveryLayer(t *testing.T) {
	e, _ := setup(t, reluBeforeWideConv(t), "M", 3)
	for a := range e.NumUnits() {
		for k, c := range e.Costs(a) {
			s := e.MustSpan(a, a+k+1)
			if c.EnergyPJ != s.EnergyPJ || c.TimeNs != s.TimeNs {
				t.Errorf("[%d, %d): Costs %+v, Span %v pJ %v ns", a, a+k+1, c, s.EnergyPJ, s.TimeNs)
			}
		}
	}
}

// An Embedding's looked-up rows come from its table in DRAM: a span
// holding its layer loads, per input, the token ids and the lookup's
// whole output (7 tokens x 16 wide), as the scheduler's table LOAD_DATA
// does.
func TestEmbeddingLookupIsLoadedFromDRAM(t *testing.T) {
	build := func(embed bool) *model.Graph {
		g := model.New("emb")
		src := "ids"
		if embed {
			g.Add(&model.Node{Name: "ids", Op: model.OpInput, Shape: model.Shape{7}})
			g.Add(&model.Node{Name: "emb", Op: model.OpEmbedding, Table: model.Shape{100, 16}, Inputs: []string{"ids"}})
			src = "emb"
		} else {
			// The lookup's [7,16] output as a graph input: what the layer
			// reads without a lookup.
			g.Add(&model.Node{Name: "ids", Op: model.OpInput, Shape: model.Shape{7, 16}})
		}
		g.Add(&model.Node{Name: "fc", Op: model.OpLinear, Inputs: []string{src}, Linear: &model.LinearSpec{OutFeatures: 32}})
		if err := g.Infer(); err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, B := range []int{1, 4} {
		e, chip := setup(t, build(true), "M", B)
		s, err := e.Span(0, e.NumUnits())
		if err != nil {
			t.Fatal(err)
		}
		act := float64(chip.ActivationBits) / 8
		ids, lookup := int64(math.Ceil(7*act)), int64(math.Ceil(7*16*act))
		if s.LoadBytes != ids+lookup {
			t.Errorf("batch %d: load %d bytes an input, want %d (ids) + %d (the looked-up rows)", B, s.LoadBytes, ids, lookup)
		}
		// The Embedding is no entry of its own: no other span computes it.
		if !slices.Equal(s.Entries, []int{0}) {
			t.Errorf("batch %d: entries %v, want the ids (node 0) only", B, s.Entries)
		}
		plain, _ := setup(t, build(false), "M", B)
		ps := plain.MustSpan(0, plain.NumUnits())
		if ps.LoadBytes != lookup {
			t.Fatalf("batch %d: the same layer on a [7,16] input loads %d bytes, want %d", B, ps.LoadBytes, lookup)
		}
		if !(s.Energy.DRAM > ps.Energy.DRAM) {
			t.Errorf("batch %d: DRAM energy %v pJ with the lookup, %v without: the ids and rows add DRAM reads", B, s.Energy.DRAM, ps.Energy.DRAM)
		}
	}
}
