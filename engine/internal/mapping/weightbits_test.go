package mapping

import (
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/model"
)

// linearBits is one Linear layer of 256 inputs and out outputs whose
// weights are bits wide (0: the chip's).
func linearBits(t *testing.T, out, bits int) *model.Graph {
	t.Helper()
	g := model.New("fc")
	g.Add(&model.Node{Name: "x", Op: model.OpInput, Shape: model.Shape{256}})
	g.Add(&model.Node{Name: "fc", Op: model.OpLinear, Inputs: []string{"x"}, Linear: &model.LinearSpec{OutFeatures: out}, WeightBits: bits})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestLayerWeightBits: a layer's own weight width sets its cell columns
// per weight, ceil(bits / bits_per_cell), whatever the chip's
// weight_bits; crossbars and cells follow. Chip M: 256x256 crossbars of
// 1-bit cells, 4-bit weights, so 64 four-bit weights across one crossbar.
func TestLayerWeightBits(t *testing.T) {
	m4 := preset(t, "M")
	reram := preset(t, "ReRAM") // 128x128 crossbars of 2-bit cells, 8-bit weights
	for _, c := range []struct {
		name            string
		bits, out       int
		chip            string
		cpw, xbars      int
		cells           int64
		stripes, blocks int
	}{
		// 64 outputs x 4 columns = 256 columns: one crossbar, 64x4x256 cells.
		{"chip's 4 bits", 0, 64, "M", 4, 1, 64 * 4 * 256, 1, 1},
		// The same layer at 8 bits: 8 columns a weight, 32 weights a
		// crossbar, two stripes, twice the cells.
		{"int8 on a 4-bit chip", 8, 64, "M", 8, 2, 64 * 8 * 256, 2, 1},
		// At 4 bits given explicitly: as the chip's.
		{"int4 on a 4-bit chip", 4, 64, "M", 4, 1, 64 * 4 * 256, 1, 1},
		// 2 bits: half the columns; 128 weights across, still one crossbar.
		{"2 bits", 2, 64, "M", 2, 1, 64 * 2 * 256, 1, 1},
		// 16 bits: 16 columns, 16 weights a crossbar, 4 stripes.
		{"int16", 16, 64, "M", 16, 4, 64 * 16 * 256, 4, 1},
		// 2-bit cells, 128x128: a 3-bit weight takes ceil(3/2) = 2
		// columns (one bit of padding), 64 weights across: 64 outputs in
		// one stripe, 256 rows in two row blocks.
		{"3 bits on 2-bit cells", 3, 64, "ReRAM", 2, 2, 64 * 2 * 256, 1, 2},
		// The chip's 8 bits on 2-bit cells: 4 columns, 32 weights across.
		{"chip's 8 bits on 2-bit cells", 0, 64, "ReRAM", 4, 4, 64 * 4 * 256, 2, 2},
		// int4 on the 8-bit ReRAM chip: half its columns.
		{"int4 on an 8-bit chip", 4, 64, "ReRAM", 2, 2, 64 * 2 * 256, 1, 2},
	} {
		chip := m4
		if c.chip == "ReRAM" {
			chip = reram
		}
		m, err := Map(linearBits(t, c.out, c.bits), chip)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		l := m.Layers[0]
		if l.ColsPerWeight != c.cpw || l.Crossbars != c.xbars || l.Cells != c.cells || l.Stripes != c.stripes || l.RowBlocks != c.blocks {
			t.Errorf("%s: %d columns a weight, %d crossbars, %d cells, %d stripes, %d row blocks; want %d, %d, %d, %d, %d",
				c.name, l.ColsPerWeight, l.Crossbars, l.Cells, l.Stripes, l.RowBlocks, c.cpw, c.xbars, c.cells, c.stripes, c.blocks)
		}
		wantBits := c.bits
		if wantBits == 0 {
			wantBits = chip.WeightBits
		}
		if l.WeightBits != wantBits {
			t.Errorf("%s: layer precision %d bits, want %d", c.name, l.WeightBits, wantBits)
		}
		n := m.Graph.Nodes[l.Node]
		if WeightBits(n, chip) != wantBits || ColumnsPerWeight(n, chip) != c.cpw {
			t.Errorf("%s: WeightBits %d, ColumnsPerWeight %d; want %d and %d", c.name, WeightBits(n, chip), ColumnsPerWeight(n, chip), wantBits, c.cpw)
		}
		checkInvariants(t, m)
	}
}

// TestLayerWeightBitsMixed: in one model only the layer that has its own
// width changes; the cells of the model add up per layer.
func TestLayerWeightBitsMixed(t *testing.T) {
	g := model.New("mixed")
	g.Add(&model.Node{Name: "x", Op: model.OpInput, Shape: model.Shape{16, 8, 8}})
	g.Add(&model.Node{Name: "c1", Op: model.OpConv, Inputs: []string{"x"}, WeightBits: 8,
		Conv: &model.ConvSpec{OutChannels: 32, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1}})
	g.Add(&model.Node{Name: "c2", Op: model.OpConv, Inputs: []string{"c1"},
		Conv: &model.ConvSpec{OutChannels: 32, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1}})
	g.Add(&model.Node{Name: "up", Op: model.OpConvTranspose, Inputs: []string{"c2"}, WeightBits: 2,
		Conv: &model.ConvSpec{OutChannels: 8, KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1, Groups: 1}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	m, err := Map(g, preset(t, "M"))
	if err != nil {
		t.Fatal(err)
	}
	// c1: 144 rows x 32 outputs x 8 columns; c2: 288 rows x 32 x 4 (the
	// chip's 4 bits); up (input-stationary): 32 rows x 8x2x2 = 32 columns
	// of 2-bit weights on 1-bit cells, 2 columns each.
	want := map[string][2]int64{"c1": {8, 144 * 32 * 8}, "c2": {4, 288 * 32 * 4}, "up": {2, 32 * 32 * 2}}
	var sum int64
	for _, l := range m.Layers {
		if w := want[l.Name]; int64(l.ColsPerWeight) != w[0] || l.Cells != w[1] {
			t.Errorf("%s: %d columns a weight and %d cells, want %d and %d", l.Name, l.ColsPerWeight, l.Cells, w[0], w[1])
		}
		sum += l.Cells
	}
	if m.Cells != sum {
		t.Errorf("model cells %d, layers sum to %d", m.Cells, sum)
	}
	checkInvariants(t, m)
}

// TestLayerWeightBitsTooWide: a layer whose weight needs more columns
// than a crossbar has is refused, naming the layer and the chip fields.
func TestLayerWeightBitsTooWide(t *testing.T) {
	chip := preset(t, "M")
	chip.Name = "narrow"
	chip.CrossbarCols = 8 // 1-bit cells: a 16-bit weight needs 16 columns
	if err := chip.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := Map(linearBits(t, 4, 16), chip)
	if err == nil {
		t.Fatal("a 16-bit layer mapped onto 8-column crossbars of 1-bit cells")
	}
	for _, s := range []string{`layer "fc"`, "16-bit", "16 columns", `chip "narrow"`, "crossbar_cols = 8", "bits_per_cell"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	// 8 bits fit exactly: one weight across.
	m, err := Map(linearBits(t, 4, 8), chip)
	if err != nil {
		t.Fatal(err)
	}
	if l := m.Layers[0]; l.ColsPerWeight != 8 || l.Stripes != 4 {
		t.Errorf("8 bits on 8 columns: %d columns a weight, %d stripes; want 8 and 4", l.ColsPerWeight, l.Stripes)
	}
}
