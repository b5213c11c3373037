package schedule_test

import (
	"context"
	"math"
	"testing"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model"
)

// A small decoder, an upsampling ConvTranspose with overlapping windows
// then a ReLU and a conv, compiles and simulates with every method, with
// finite positive figures, and the simulated vector units run at least
// the ConvTranspose's overlap adds. By hand: 6x6 input pixels x 4x4
// kernel taps = 576 products per output channel on a 12x12 output
// (stride 2, padding 1), so 576 - 144 = 432 overlap adds per channel,
// 13,824 over 32 channels, per input.
func TestConvTransposeGraphSimulatesWithEveryMethod(t *testing.T) {
	g := model.New("decoder")
	g.Add(&model.Node{Name: "x", Op: model.OpInput, Shape: model.Shape{8, 6, 6}})
	g.Add(&model.Node{Name: "up", Op: model.OpConvTranspose, Inputs: []string{"x"}, Conv: &model.ConvSpec{OutChannels: 32, KernelH: 4, KernelW: 4,
		StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, DilationH: 1, DilationW: 1, Groups: 1}})
	g.Add(&model.Node{Name: "act", Op: model.OpReLU, Inputs: []string{"up"}})
	g.Add(&model.Node{Name: "head", Op: model.OpConv, Inputs: []string{"act"}, Conv: &model.ConvSpec{OutChannels: 16, KernelH: 3, KernelW: 3,
		StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, DilationH: 1, DilationW: 1, Groups: 1}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	if got := g.Nodes[g.Index("up")].Out.String(); got != "[32,12,12]" {
		t.Fatalf("ConvTranspose output %s, want [32,12,12]", got)
	}
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	const overlapAdds = 32 * (6*6*4*4 - 12*12)
	minVFUJ := overlapAdds * chip.VFUEnergyPerOpPJ * 1e-12
	for _, batch := range []int{1, 3} {
		res, err := api.Simulate(context.Background(), api.CompileRequest{Graph: g, Chip: "M", Batch: batch, Methods: api.Methods(), Seed: 1}, false, nil)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if len(res.Results) != len(api.Methods()) {
			t.Fatalf("batch %d: %d results for %d methods", batch, len(res.Results), len(api.Methods()))
		}
		for _, r := range res.Results {
			for name, v := range map[string]float64{"latency": r.LatencyS, "throughput": r.ThroughputPerS, "energy": r.EnergyPerInferenceJ,
				"EDP": r.EDPJS, "estimated latency": r.Estimated.LatencyS, "estimated energy": r.Estimated.EnergyPerInferenceJ} {
				if !(v > 0) || math.IsInf(v, 0) {
					t.Errorf("batch %d %s: %s = %v", batch, r.Method, name, v)
				}
			}
			if r.EnergyBreakdownJ.VFU < minVFUJ {
				t.Errorf("batch %d %s: the vector units spend %g J an inference, less than the %d overlap adds' %g J", batch, r.Method, r.EnergyBreakdownJ.VFU, overlapAdds, minVFUJ)
			}
		}
	}
}
