package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/calibrate"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/reproduce"
	"github.com/compass-go/compass/engine/model"
)

// Chip families for Reproduce.
const (
	FamilySourced = "sourced" // chips S, M, L: every figure sourced (docs/hardware.md)
	FamilyFit     = "fit"     // chips S-fit, M-fit, L-fit: the MVM timing and energy fitted to the paper
)

// ReproduceRequest asks for the COMPASS paper's published figures
// computed for one chip family.
type ReproduceRequest struct {
	// Family is FamilySourced (the default when empty) or FamilyFit.
	Family string `json:"family"`
	// ChipSpecs, if given, replace the family's chips: three chips, in
	// the roles of S, M and L (Family then only names the result).
	ChipSpecs []*hw.Chip `json:"chip_specs,omitempty"`
	// Seed seeds the paper's GA (docs/reproduction.md uses 1).
	Seed uint64 `json:"seed"`
	// Pipeline is the pipeline mode every plan is costed in, as in
	// CompileRequest ("per-input", the default when empty, or "row").
	Pipeline string  `json:"pipeline,omitempty"`
	Limits   *Limits `json:"limits,omitempty"` // nil: DefaultLimits
	// Progress, if set, receives the configurations done (network, chip,
	// objective) out of the total (10).
	Progress func(done, total int) `json:"-"`
}

// ReproduceResult is every published figure beside ours, with the detail
// to redraw the paper's comparison figures. Its JSON (stable: the same
// request gives the same bytes natively and in WebAssembly):
//
//	family, chips ["S","M","L"], seed
//	figures[]: id, role ("fit" | "held-out"), unit, low, high (omitted:
//	  no upper bound), title, where (in the paper), reading (how ours is
//	  computed), paper (the paper's figure as text), ours, distance
//	  (|ln(ours/paper)|, 0 inside the paper's range)
//	held_out_distance, fit_distance: mean distance over each role
//	throughput[]: per network (vgg16, resnet18, squeezenet1_1): model,
//	  bars[] {chip, batch, greedy, layerwise, compass} in inferences/s
//	  (chips S, M, L x batches 1-16), vs_greedy, vs_layerwise, tallest
//	resnet18_m_16[]: per method (greedy, layerwise, compass): method,
//	  throughput_per_s, latency_s, first_partition_share, partitions[]
//	  {first_layer, last_layer, crossbars_used, weight_load_s, write_s,
//	  compute_s, io_s, time_s}
//	replacement_curve[]: ResNet18 on the compass plan, per chip and batch:
//	  chip, batch, replacement_j, mvm_j (both per batch), ratio
//	  (replacement / MVM), with_mvm ((replacement + MVM) / MVM = 1 + ratio)
//	edp_resnet18_s[]: per batch: batch, greedy/layerwise/compass
//	  {energy_per_inference_j, edp_j_s} (EDP objective, chip S)
//	serialised_io[]: per network: model, estimated, serialised (compass /
//	  layerwise throughput as estimated and with activation I/O serialised)
//	chip_power[]: per chip (S, M, L): chip, static_mw, mvm_mw (every
//	  crossbar running MVMs back to back), peak_mw (their sum: Table I's
//	  chip power)
type ReproduceResult = reproduce.Result

// ReproducedFigure is one figure of a ReproduceResult.
type ReproducedFigure = reproduce.Figure

// PaperFiguresJSON is the list of the paper's published figures the
// reproduction compares (id, role, the paper's value or range, where in
// the paper), as embedded in the engine.
func PaperFiguresJSON() []byte { return reproduce.PaperFiguresJSON() }

// familyChips resolves a request's three chips.
func familyChips(family string, specs []*hw.Chip) (string, []*hw.Chip, error) {
	if family == "" {
		family = FamilySourced
	}
	if len(specs) != 0 {
		if len(specs) != 3 {
			return "", nil, &InputError{Field: "chip_specs", Err: fmt.Errorf("%d chips given: give three, in the roles of S, M and L", len(specs))}
		}
		out := make([]*hw.Chip, 3)
		for i, c := range specs {
			if c == nil {
				return "", nil, &InputError{Field: fmt.Sprintf("chip_specs[%d]", i), Err: errors.New("missing chip")}
			}
			if err := c.Validate(); err != nil {
				return "", nil, asInputError(fmt.Sprintf("chip_specs[%d]", i), err)
			}
			cc := *c
			out[i] = &cc
		}
		return family, out, nil
	}
	var names []string
	switch family {
	case FamilySourced:
		names = []string{"S", "M", "L"}
	case FamilyFit:
		names = []string{"S-fit", "M-fit", "L-fit"}
	default:
		return "", nil, &InputError{Field: "family", Err: fmt.Errorf("family %q is not %q or %q", family, FamilySourced, FamilyFit)}
	}
	var out []*hw.Chip
	for _, n := range names {
		c, err := hw.Preset(n)
		if err != nil {
			return "", nil, &InternalError{Stage: "reproduce", Err: err}
		}
		out = append(out, c)
	}
	return family, out, nil
}

// reproduceOptions bounds each configuration of a reproduction or a fit
// by lim, as Compile would: nodes and units before mapping, the GA's work
// and the valid spans before the searches.
func reproduceOptions(seed uint64, lim Limits, progress func(done, total int)) reproduce.Options {
	ga := partition.PaperGAOptions(seed)
	return reproduce.Options{Seed: seed, Progress: progress,
		BeforeMap: func(g *model.Graph, chip *hw.Chip) error {
			if err := overLimit("model graph nodes", int64(len(g.Nodes)), int64(lim.MaxNodes), liftNodes); err != nil {
				return err
			}
			return checkUnits(g, chip, lim)
		},
		BeforeSearch: func(m *mapping.Mapping, batch int) error {
			units := int64(len(m.Units))
			pop := int64(ga.Population)
			if err := overLimit(MethodCompass+" GA plan cuts (population x units)", pop*units, lim.MaxGAPlanCuts, liftGAPlanCuts); err != nil {
				return err
			}
			if err := overLimit(MethodCompass+" GA work (population x (generations+1) x units)", pop*int64(ga.Generations+1)*units, lim.MaxGAWork, liftGAWork); err != nil {
				return err
			}
			var spans int64
			for a, end := range m.ValidEnds() {
				spans += int64(end - a)
			}
			return overLimit("valid spans to cost (the searches cost every one)", spans, lim.MaxSpans, liftSpans)
		}}
}

// reproduceConfigurations is the work of one reproduction: the paper's
// grid (3 networks x 3 chips x 5 batches) and ResNet18 on chip S at the
// five batches under EDP.
const reproduceConfigurations = 3*3*5 + 5

// Reproduce computes every figure the COMPASS paper publishes (the list
// in PaperFiguresJSON) for one chip family, with greedy, layerwise and
// the paper's GA (compass) on the paper's grid, beside the paper's
// values. It is deterministic (the same request gives the same result
// whatever the machine or the number of cores), bounded by req.Limits
// like Sweep (each configuration as Compile would check it, and the
// configurations against MaxSweepRows) and stops when ctx is done. Bad
// fields are *InputError, work over a limit *LimitError.
func Reproduce(ctx context.Context, req ReproduceRequest) (_ *ReproduceResult, err error) {
	defer recoverInternal("reproduce", &err)
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	family, chips, err := familyChips(req.Family, req.ChipSpecs)
	if err != nil {
		return nil, err
	}
	if err := overLimit("reproduction configurations (the paper's grid and the EDP runs)", reproduceConfigurations, int64(lim.MaxSweepRows), liftSweepRows); err != nil {
		return nil, err
	}
	pipe, err := estimate.ParsePipeline(req.Pipeline)
	if err != nil {
		return nil, &InputError{Field: "pipeline", Err: err}
	}
	opt := reproduceOptions(req.Seed, lim, req.Progress)
	opt.Pipeline = pipe
	res, err := reproduce.Run(ctx, family, chips, reproduce.PaperFigures(), opt)
	if err != nil {
		return nil, err
	}
	if err := checkOutputs("reproduce", res); err != nil {
		return nil, err
	}
	return res, nil
}

// CalibrateRequest asks for the paper-fitted chip family to be fitted
// again.
type CalibrateRequest struct {
	Seed     uint64                `json:"seed"` // seeds the paper's GA (the committed fit uses 1)
	Limits   *Limits               `json:"limits,omitempty"`
	Progress func(done, total int) `json:"-"`
}

// CalibrateResult is a fit: Params as engine/hw/fitted.json holds them
// (Params.JSON() is the file's bytes), the fit targets at the fit, and
// the search's steps (conversion time, best energy scale there, loss).
type CalibrateResult = calibrate.Result

// Calibrate fits the figures the paper does not publish (the ADC
// conversion time and the MVM energy of chips S, M, L) to the paper's fit
// targets (the figures of role "fit" in PaperFiguresJSON; the held-out
// ones are never read). It is deterministic, plans the paper's latency
// grid (45 configurations) once per conversion time its search tries, a
// fixed number of times (the total checked against Limits.MaxSweepRows,
// each configuration bounded as Compile bounds it; seconds), and stops
// when ctx is done. Progress counts the configurations (network,
// chip) of each grid run.
func Calibrate(ctx context.Context, req CalibrateRequest) (_ *CalibrateResult, err error) {
	defer recoverInternal("calibrate", &err)
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	runs := int64(calibrate.GridRuns()) * 3 * 3 * 5
	if err := overLimit("fit configurations (the paper's latency grid, once per conversion time the search tries)", runs, int64(lim.MaxSweepRows), liftSweepRows); err != nil {
		return nil, err
	}
	return calibrate.Fit(ctx, reproduce.PaperFigures(), reproduceOptions(req.Seed, lim, req.Progress))
}

// ReproducedBreakdown is one method's plan on ResNet18-M-16 in a
// ReproduceResult.
type ReproducedBreakdown = reproduce.MethodBreakdown
