package reproduce

import (
	"context"
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
)

// Result is every published figure computed for one chip family, beside
// the paper's, with the detail needed to redraw the paper's comparison
// figures. Its JSON is stable: fields in this order, slices in grid order.
type Result struct {
	Family string   `json:"family"`
	Chips  []string `json:"chips"` // S, M, L of the family
	Seed   uint64   `json:"seed"`
	// Pipeline is the pipeline mode, named only when it is not the
	// default per-input pipeline.
	Pipeline string `json:"pipeline,omitempty"`
	// Figures in the order of paper-figures.json.
	Figures []Figure `json:"figures"`
	// HeldOutDistance is the mean over held-out figures of their distance
	// (PaperFigure.Distance: |ln(ours / paper)|, 0 inside a range);
	// FitDistance the same over the fit targets.
	HeldOutDistance float64 `json:"held_out_distance"`
	FitDistance     float64 `json:"fit_distance"`
	// Throughput per network: every configuration's three bars and the
	// mean ratios.
	Throughput []NetworkThroughput `json:"throughput"`
	// Breakdown is ResNet18 on chip M at batch 16: each method's partitions
	// with their time split.
	Breakdown []MethodBreakdown `json:"resnet18_m_16"`
	// Replacement is ResNet18's weight-replacement against MVM energy on
	// the compass plan, per chip and batch, in both readings.
	Replacement []ReplacementPoint `json:"replacement_curve"`
	// EDP is ResNet18 on chip S under the EDP objective, per batch.
	EDP []EDPPoint `json:"edp_resnet18_s"`
	// SerialisedIO re-costs the same latency plans with every activation
	// transfer serialised after compute: compass / layerwise per network.
	SerialisedIO []SerialisedRatio `json:"serialised_io"`
	// ChipPower is each chip's peak power (Table I's chip power), S, M, L.
	ChipPower []ChipPower `json:"chip_power"`
}

// ChipPower is one chip's peak power (hw.Chip.PeakPowerMW) in its two
// parts: the static power and every crossbar running MVMs back to back.
type ChipPower struct {
	Chip     string  `json:"chip"`
	StaticMW float64 `json:"static_mw"`
	MVMMW    float64 `json:"mvm_mw"`
	PeakMW   float64 `json:"peak_mw"`
}

// Figure is one published figure and ours.
type Figure struct {
	PaperFigure
	Paper    string  `json:"paper"` // the paper's figure as text
	Ours     float64 `json:"ours"`
	Distance float64 `json:"distance"`
}

// Bars are one configuration's throughput (inferences/s) per method.
type Bars struct {
	Chip      string  `json:"chip"`
	Batch     int     `json:"batch"`
	Greedy    float64 `json:"greedy"`
	Layerwise float64 `json:"layerwise"`
	Compass   float64 `json:"compass"`
}

// NetworkThroughput is one network's panel of the throughput figure.
type NetworkThroughput struct {
	Model       string  `json:"model"`
	Bars        []Bars  `json:"bars"`         // chips S, M, L x batches 1-16
	VsGreedy    float64 `json:"vs_greedy"`    // mean of compass / greedy
	VsLayerwise float64 `json:"vs_layerwise"` // mean of compass / layerwise
	Tallest     float64 `json:"tallest"`      // the tallest bar
}

// PartitionTime is one partition's time split, in seconds per batch.
type PartitionTime struct {
	FirstLayer  string  `json:"first_layer"`
	LastLayer   string  `json:"last_layer"`
	Crossbars   int     `json:"crossbars_used"`
	WeightLoadS float64 `json:"weight_load_s"`
	WriteS      float64 `json:"write_s"`
	ComputeS    float64 `json:"compute_s"`
	IOS         float64 `json:"io_s"`
	TimeS       float64 `json:"time_s"`
}

// MethodBreakdown is one method's plan on ResNet18-M-16.
type MethodBreakdown struct {
	Method         string          `json:"method"`
	ThroughputPerS float64         `json:"throughput_per_s"`
	LatencyS       float64         `json:"latency_s"`
	FirstShare     float64         `json:"first_partition_share"`
	Partitions     []PartitionTime `json:"partitions"`
}

// ReplacementPoint is the replacement / MVM energy on one chip at one
// batch. Replacement is paid once per batch (the plan's weights read from
// DRAM, carried over the bus and written into the crossbars), MVMs once
// per input: Ratio = replacement / MVM energy of the batch (the plain
// reading), WithMVM = (replacement + MVM) / MVM = 1 + Ratio.
type ReplacementPoint struct {
	Chip         string  `json:"chip"`
	Batch        int     `json:"batch"`
	ReplacementJ float64 `json:"replacement_j"` // per batch
	MVMJ         float64 `json:"mvm_j"`         // per batch: arrays and ADCs
	Ratio        float64 `json:"ratio"`
	WithMVM      float64 `json:"with_mvm"`
}

// MethodEnergy is one method's energy and EDP.
type MethodEnergy struct {
	EnergyPerInferenceJ float64 `json:"energy_per_inference_j"`
	EDPJS               float64 `json:"edp_j_s"`
}

// EDPPoint is ResNet18 on chip S at one batch, EDP objective.
type EDPPoint struct {
	Batch     int          `json:"batch"`
	Greedy    MethodEnergy `json:"greedy"`
	Layerwise MethodEnergy `json:"layerwise"`
	Compass   MethodEnergy `json:"compass"`
}

// SerialisedRatio is compass / layerwise throughput for one network, mean
// over the grid, as estimated and with activation I/O serialised.
type SerialisedRatio struct {
	Model      string  `json:"model"`
	Estimated  float64 `json:"estimated"`
	Serialised float64 `json:"serialised"`
}

// Run computes every figure of figs for a family of three chips (S, M,
// L): the paper's grid with greedy, layerwise and compass under the
// latency objective, and ResNet18 on the first chip under EDP. The result
// is the same whatever opt.Workers; ctx stops it between configurations
// and inside the GA.
func Run(ctx context.Context, family string, chips []*hw.Chip, figs []PaperFigure, opt Options) (*Result, error) {
	gr, err := measure(ctx, chips, opt)
	if err != nil {
		return nil, err
	}
	res := &Result{Family: family, Seed: opt.Seed}
	if opt.Pipeline != estimate.PerInput {
		res.Pipeline = opt.Pipeline.String()
	}
	for _, c := range chips {
		res.Chips = append(res.Chips, c.Name)
	}
	res.Throughput = gr.throughput()
	res.Breakdown = gr.breakdown()
	res.Replacement = gr.replacement()
	res.EDP = gr.edpPoints()
	res.SerialisedIO = gr.serialisedIO()
	for _, c := range chips {
		st, peak := c.StaticPowerMW(), c.PeakPowerMW()
		res.ChipPower = append(res.ChipPower, ChipPower{Chip: c.Name, StaticMW: st, MVMMW: peak - st, PeakMW: peak})
	}
	if err := res.Refigure(figs); err != nil {
		return nil, err
	}
	return res, nil
}

// Refigure computes r's Figures and distances for figs from r's detail.
func (r *Result) Refigure(figs []PaperFigure) error {
	r.Figures = nil
	var held, fit []float64
	for _, f := range figs {
		v, err := figureKinds[f.ID](r)
		if err != nil {
			return fmt.Errorf("figure %s: %w", f.ID, err)
		}
		fig := Figure{PaperFigure: f, Paper: f.PaperText(), Ours: v, Distance: f.Distance(v)}
		r.Figures = append(r.Figures, fig)
		if f.Role == RoleHeldOut {
			held = append(held, fig.Distance)
		} else {
			fit = append(fit, fig.Distance)
		}
	}
	r.HeldOutDistance, r.FitDistance = mean(held), mean(fit)
	return nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func (g *grid) throughput() []NetworkThroughput {
	var out []NetworkThroughput
	for _, name := range networks {
		nt := NetworkThroughput{Model: name}
		var vg, vl []float64
		for _, c := range g.of(name) {
			bars := Bars{Chip: g.chips[c.chip].Name, Batch: c.batch, Greedy: c.runs[0].totals.ThroughputPerS(),
				Layerwise: c.runs[1].totals.ThroughputPerS(), Compass: c.runs[2].totals.ThroughputPerS()}
			nt.Bars = append(nt.Bars, bars)
			vg = append(vg, bars.Compass/bars.Greedy)
			vl = append(vl, bars.Compass/bars.Layerwise)
			nt.Tallest = max(nt.Tallest, bars.Greedy, bars.Layerwise, bars.Compass)
		}
		nt.VsGreedy, nt.VsLayerwise = mean(vg), mean(vl)
		out = append(out, nt)
	}
	return out
}

// breakdown is ResNet18 on the family's second chip (M) at batch 16.
func (g *grid) breakdown() []MethodBreakdown {
	c := g.at("resnet18", 1, 16)
	if c == nil {
		return nil
	}
	m := c.mapping
	name := func(u int) string { return m.Layers[m.Units[u].Layer].Name }
	var out []MethodBreakdown
	for k, r := range c.runs {
		mb := MethodBreakdown{Method: methods[k], ThroughputPerS: r.totals.ThroughputPerS(), LatencyS: r.totals.TimeNs * 1e-9}
		for _, s := range r.spans {
			mb.Partitions = append(mb.Partitions, PartitionTime{FirstLayer: name(s.Start), LastLayer: name(s.End - 1),
				Crossbars: s.CrossbarsUsed, WeightLoadS: s.WeightLoadNs * 1e-9, WriteS: s.WriteNs * 1e-9,
				ComputeS: s.ComputeNs * 1e-9, IOS: s.IONs * 1e-9, TimeS: s.TimeNs * 1e-9})
		}
		if len(r.spans) > 0 {
			mb.FirstShare = r.spans[0].TimeNs / r.totals.TimeNs
		}
		out = append(out, mb)
	}
	return out
}

// replacementPJ is the energy of loading a plan's weights, per batch: for
// each partition its weight bytes read from DRAM in bursts with one
// activation per row (as the simulator charges a LOAD_WEIGHT), carried
// over the bus, and its crossbar rows written.
func replacementPJ(chip *hw.Chip, spans []*estimate.Span) float64 {
	d := &chip.DRAM
	burst, row := float64(d.BurstBytes()), float64(d.RowBytes())
	e := 0.0
	for _, s := range spans {
		w := float64(s.WeightBytes)
		e += math.Ceil(w/burst)*d.ReadBurstEnergyPJ() + math.Ceil(w/row)*d.ActivateEnergyPJ() + w*chip.BusEnergyPerBytePJ
		e += s.Energy.Write
	}
	return e
}

// replacement is ResNet18's curve on the compass plans.
func (g *grid) replacement() []ReplacementPoint {
	var out []ReplacementPoint
	for _, c := range g.of("resnet18") {
		chip, r := g.chips[c.chip], c.runs[2]
		rep := replacementPJ(chip, r.spans)
		mvm := r.totals.Energy.MVM + r.totals.Energy.ADC
		out = append(out, ReplacementPoint{Chip: chip.Name, Batch: c.batch, ReplacementJ: rep * 1e-12, MVMJ: mvm * 1e-12,
			Ratio: rep / mvm, WithMVM: 1 + rep/mvm})
	}
	return out
}

func (g *grid) edpPoints() []EDPPoint {
	var out []EDPPoint
	for _, c := range g.edp {
		me := func(r run) MethodEnergy {
			return MethodEnergy{EnergyPerInferenceJ: r.totals.EnergyPerInferenceJ(), EDPJS: r.totals.EDPJS()}
		}
		out = append(out, EDPPoint{Batch: c.batch, Greedy: me(c.runs[0]), Layerwise: me(c.runs[1]), Compass: me(c.runs[2])})
	}
	return out
}

// serialisedNs is a plan's batch time with its activation I/O (entries,
// exits, spills and reloads of every input) moved after its compute
// instead of overlapping it.
func serialisedNs(chip *hw.Chip, batch int, spans []*estimate.Span) float64 {
	rate := min(chip.DRAM.PeakBandwidthBytesPerS(), chip.BusBandwidthBytesPerS) / 1e9
	t := 0.0
	for _, s := range spans {
		t += s.WeightLoadNs + s.WriteNs + s.ComputeNs
		if io := float64(batch) * float64(s.LoadBytes+s.StoreBytes+s.SpillBytes+s.ReloadBytes); io > 0 {
			t += chip.BusLatencyNs + io/rate
		}
	}
	return t
}

func (g *grid) serialisedIO() []SerialisedRatio {
	var out []SerialisedRatio
	for _, name := range networks {
		var est, ser []float64
		for _, c := range g.of(name) {
			chip := g.chips[c.chip]
			est = append(est, c.runs[1].totals.TimeNs/c.runs[2].totals.TimeNs)
			ser = append(ser, serialisedNs(chip, c.batch, c.runs[1].spans)/serialisedNs(chip, c.batch, c.runs[2].spans))
		}
		out = append(out, SerialisedRatio{Model: name, Estimated: mean(est), Serialised: mean(ser)})
	}
	return out
}
