package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
)

// int4Linear is x [1024] -> Linear 1024->2048 whose weights keep 4 bits
// (a quantized ONNX layer's weight_bits).
func int4Linear(t *testing.T) *model.Graph {
	t.Helper()
	b := model.NewBuilder("int4")
	x := b.Input("x", 1024)
	b.Linear("fc", x, 2048, false)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	g.Nodes[g.Index("fc")].WeightBits = 4
	return g
}

// On the 8-bit ReRAM chip (2 bits a cell) an int4 layer takes 2 columns a
// weight, not the chip's 4: the unit count before mapping counts it so, and
// a request whose mapping has exactly max_units units is compiled, not
// refused.
func TestUnitsCountAtEachLayersWeightBits(t *testing.T) {
	g := int4Linear(t)
	chip, err := hw.Preset("ReRAM")
	if err != nil {
		t.Fatal(err)
	}
	if chip.WeightBits != 8 || chip.BitsPerCell != 2 {
		t.Fatalf("ReRAM: %d-bit weights, %d bits a cell; the test needs 8 and 2", chip.WeightBits, chip.BitsPerCell)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	// 1024 x 2048 weights x 2 columns over one core's 32 crossbars of
	// 128 x 128 cells: 8 units.
	if n, err := mapping.CountUnits(g, chip); err != nil || n != 8 || n != len(m.Units) {
		t.Errorf("units counted %d (%v), want 8, the mapping's %d", n, err, len(m.Units))
	}
	lim := DefaultLimits()
	lim.MaxUnits = len(m.Units)
	res, err := Compile(context.Background(), CompileRequest{Graph: g, ChipSpec: chip, Batch: 1, Methods: []string{MethodGreedy}, Limits: &lim})
	if err != nil {
		t.Fatalf("max_units = %d, the mapping's own units: %v", lim.MaxUnits, err)
	}
	if len(res.Results) != 1 {
		t.Errorf("%d results, want 1", len(res.Results))
	}
}

// Inspect counts the weights' bytes at each layer's own precision: the
// int4 layer on the 8-bit chip is 1024 x 2048 x 4 bits, and its row says 4.
func TestInspectWeightBytesAtEachLayersPrecision(t *testing.T) {
	g := int4Linear(t)
	chip, err := hw.Preset("ReRAM")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Inspect(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	if res.WeightBytes != 1024*2048/2 {
		t.Errorf("weight bytes %d, want %d (4 bits a weight)", res.WeightBytes, 1024*2048/2)
	}
	if len(res.Layers) != 1 || res.Layers[0].WeightBits != 4 {
		t.Errorf("layers %+v, want one at 4 weight bits", res.Layers)
	}
	// A layer without weight_bits is at the chip's 8.
	g.Nodes[g.Index("fc")].WeightBits = 0
	if res, err = Inspect(g, chip); err != nil {
		t.Fatal(err)
	}
	if res.WeightBytes != 1024*2048 || res.Layers[0].WeightBits != 8 {
		t.Errorf("without weight_bits: %d bytes at %d bits, want %d at 8", res.WeightBytes, res.Layers[0].WeightBits, 1024*2048)
	}
}

// panicContext panics when asked whether it is done: a stand-in for a
// bug deep inside a search.
type panicContext struct{ context.Context }

func (panicContext) Err() error { panic("search bug") }

// A panic inside Simulate or Program is an *InternalError naming the
// stage, never a crash of the caller.
func TestSimulateAndProgramRecoverPanics(t *testing.T) {
	g := int4Linear(t)
	req := CompileRequest{Graph: g, Chip: "M", Batch: 1, Methods: []string{MethodOptimal}}
	ctx := panicContext{context.Background()}
	check := func(stage string, err error) {
		t.Helper()
		var ie *InternalError
		if !errors.As(err, &ie) || ie.Stage != stage || !strings.Contains(err.Error(), "search bug") {
			t.Errorf("%s: error %v, want an *InternalError of stage %q carrying the panic", stage, err, stage)
		}
	}
	_, err := Simulate(ctx, req, false, nil)
	check("simulate", err)
	_, err = Program(ctx, req)
	check("program", err)
}
