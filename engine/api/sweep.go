package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/parallel"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/reproduce"
	"github.com/compass-go/compass/engine/model"
)

// SweepRequest is a grid of compilations.
type SweepRequest struct {
	Models []string       `json:"models"`
	Graphs []*model.Graph `json:"-"` // optional, parallel to Models: already loaded models
	Chips  []string       `json:"chips"`
	// ChipSpecs are full chip descriptions (an edited preset, as
	// CompileRequest's chip_spec), swept after the named Chips; a row names
	// its chip by the description's name.
	ChipSpecs []*hw.Chip `json:"chip_specs,omitempty"`
	Batches   []int      `json:"batches"`
	Methods   []string   `json:"methods"`
	Objective string     `json:"objective"`
	Seed      uint64     `json:"seed"`
	Pipeline  string     `json:"pipeline,omitempty"` // per-input (default) or row (CompileRequest.Pipeline)
	Simulate  bool       `json:"simulate,omitempty"` // also schedule and simulate every plan
	Limits    *Limits    `json:"limits,omitempty"`   // bounds on each compilation's work (nil: DefaultLimits)
	Workers   int        `json:"-"`                  // parallel compilations; 0 = GOMAXPROCS. Results do not depend on it.

	Progress func(done, total int) `json:"-"`
}

// PaperGrid is the COMPASS paper's evaluation grid: its three networks on
// chips S, M, L at batches 1, 2, 4, 8, 16.
func PaperGrid() SweepRequest {
	return SweepRequest{Models: []string{"vgg16", "resnet18", "squeezenet1_1"}, Chips: []string{"S", "M", "L"},
		Batches: []int{1, 2, 4, 8, 16}, Methods: Methods(), Objective: "latency", Seed: 1}
}

// SweepFigure is one method's headline figures on one configuration.
type SweepFigure struct {
	Method              string  `json:"method"`
	ThroughputPerS      float64 `json:"throughput_per_s"`
	EnergyPerInferenceJ float64 `json:"energy_per_inference_j"`
	EDPJS               float64 `json:"edp_j_s"`
	LatencyS            float64 `json:"latency_s"`
	Partitions          int     `json:"partitions"`
	// The simulator's figures for the same plan (with Simulate).
	SimThroughputPerS      float64 `json:"simulated_throughput_per_s,omitempty"`
	SimEnergyPerInferenceJ float64 `json:"simulated_energy_per_inference_j,omitempty"`
	SimLatencyS            float64 `json:"simulated_latency_s,omitempty"`
}

// objective is the value the named objective minimises.
func (f *SweepFigure) objective(name string) float64 {
	switch name {
	case "energy":
		return f.EnergyPerInferenceJ
	case "edp":
		return f.EDPJS
	}
	return f.LatencyS
}

// SweepRow is one configuration of the grid.
type SweepRow struct {
	Model   string        `json:"model"`
	Chip    string        `json:"chip"`
	Batch   int           `json:"batch"`
	Figures []SweepFigure `json:"figures"`
}

// Figure returns the named method's figures, or nil.
func (r *SweepRow) Figure(method string) *SweepFigure {
	for i := range r.Figures {
		if r.Figures[i].Method == method {
			return &r.Figures[i]
		}
	}
	return nil
}

// SweepResult holds every row, in grid order (model, chip, batch).
type SweepResult struct {
	Objective string     `json:"objective"`
	Seed      uint64     `json:"seed"`
	Pipeline  string     `json:"pipeline,omitempty"` // as in CompileResult
	Rows      []SweepRow `json:"rows"`
}

// Sweep compiles every configuration of the grid. Configurations run in
// parallel; the result is the same whatever the number of workers. An
// omitted objective is latency, as in Compile; the result names the
// objective in force.
func Sweep(ctx context.Context, req SweepRequest) (*SweepResult, error) {
	for _, f := range []struct {
		key string
		n   int
	}{{"models", len(req.Models)}, {"chips", len(req.Chips) + len(req.ChipSpecs)}, {"batches", len(req.Batches)}} {
		if f.n == 0 {
			return nil, &InputError{Field: f.key, Err: fmt.Errorf("the sweep needs at least one model, chip (in chips or chip_specs) and batch; %s is empty", f.key)}
		}
	}
	for i, c := range req.ChipSpecs {
		if err := checkSweepChip(i, c); err != nil {
			return nil, err
		}
	}
	// The objective as Compile reads it, so that the result (and the
	// summary's gaps) name it: omitted is latency, names are lower case.
	obj := partition.Latency
	if req.Objective != "" {
		var err error
		if obj, err = partition.ParseObjective(req.Objective); err != nil {
			return nil, &InputError{Field: "objective", Err: err}
		}
	}
	req.Objective = string(obj)
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	chips := make([]sweepChip, 0, len(req.Chips)+len(req.ChipSpecs))
	for _, c := range req.Chips {
		chips = append(chips, sweepChip{name: c})
	}
	for _, c := range req.ChipSpecs {
		chips = append(chips, sweepChip{name: c.Name, spec: c})
	}
	rows := int64(len(req.Models)) * int64(len(chips)) * int64(len(req.Batches))
	if err := overLimit("sweep configurations (models x chips x batches)", rows, int64(lim.MaxSweepRows), liftSweepRows); err != nil {
		return nil, err
	}
	graphs := make([]*model.Graph, len(req.Models))
	if len(req.Graphs) != 0 && len(req.Graphs) != len(req.Models) {
		return nil, fmt.Errorf("sweep: %d graphs given for %d models", len(req.Graphs), len(req.Models))
	}
	for i, name := range req.Models {
		if len(req.Graphs) != 0 && req.Graphs[i] != nil {
			graphs[i] = req.Graphs[i]
			continue
		}
		g, err := LoadModel(name)
		if err != nil {
			return nil, asInputError("models", err)
		}
		graphs[i] = g
	}
	type job struct{ row, model, chip int }
	var jobs []job
	res := &SweepResult{Objective: req.Objective, Seed: req.Seed}
	if pipe, err := estimate.ParsePipeline(req.Pipeline); err != nil {
		return nil, &InputError{Field: "pipeline", Err: err}
	} else if pipe != estimate.PerInput {
		res.Pipeline = pipe.String()
	}
	for mi, name := range req.Models {
		for ci, c := range chips {
			for _, b := range req.Batches {
				jobs = append(jobs, job{len(res.Rows), mi, ci})
				res.Rows = append(res.Rows, SweepRow{Model: name, Chip: c.name, Batch: b})
			}
		}
	}
	err = parallel.Run(ctx, len(jobs), req.Workers, func(i int) error {
		j := jobs[i]
		row := &res.Rows[j.row]
		creq := CompileRequest{Graph: graphs[j.model], Chip: row.Chip, ChipSpec: chips[j.chip].spec, Batch: row.Batch,
			Methods: req.Methods, Objective: req.Objective, Seed: req.Seed, Pipeline: req.Pipeline, Limits: &lim}
		if err := sweepRow(ctx, req.Simulate, creq, row); err != nil {
			return fmt.Errorf("%s on %s at batch %d: %w", row.Model, row.Chip, row.Batch, err)
		}
		return nil
	}, req.Progress)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// sweepChip is one chip of the grid: a preset name or chip file, or a
// full description.
type sweepChip struct {
	name string
	spec *hw.Chip
}

// checkSweepChip validates chip_specs[i] before any compilation; a bad key
// is an *InputError on "chip_specs[i].<key>" (several joined), as
// chipSpecError gives a compile request's "chip_spec.<key>".
func checkSweepChip(i int, c *hw.Chip) error {
	field := fmt.Sprintf("chip_specs[%d]", i)
	if c == nil {
		return &InputError{Field: field, Err: fmt.Errorf("is null: give a chip description (compass chip --chip M prints one)")}
	}
	err := c.Validate()
	if err == nil {
		return nil
	}
	err = chipSpecError(err)
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var in *InputError
		if errors.As(e, &in) {
			in.Field = field + strings.TrimPrefix(in.Field, "chip_spec")
		}
	}
	return err
}

// sweepRow compiles (or simulates) one configuration into row. A panic
// becomes an *InternalError: it runs on a worker goroutine, where a panic
// would end the process.
func sweepRow(ctx context.Context, simulate bool, creq CompileRequest, row *SweepRow) (err error) {
	defer recoverInternal("sweep", &err)
	if simulate {
		sr, err := Simulate(ctx, creq, false, nil)
		if err != nil {
			return err
		}
		for _, r := range sr.Results {
			f := figure(&r.Estimated)
			f.SimThroughputPerS, f.SimEnergyPerInferenceJ, f.SimLatencyS = r.ThroughputPerS, r.EnergyPerInferenceJ, r.LatencyS
			row.Figures = append(row.Figures, f)
		}
		return nil
	}
	cr, err := Compile(ctx, creq)
	if err != nil {
		return err
	}
	for i := range cr.Results {
		row.Figures = append(row.Figures, figure(&cr.Results[i]))
	}
	return nil
}

// figure is a method result's headline figures.
func figure(r *MethodResult) SweepFigure {
	return SweepFigure{Method: r.Method, ThroughputPerS: r.ThroughputPerS, EnergyPerInferenceJ: r.EnergyPerInferenceJ,
		EDPJS: r.EDPJS, LatencyS: r.LatencyS, Partitions: len(r.Cuts) - 1}
}

// Ratio summaries of a sweep.

// NetworkSummary averages one network's ratios over its chips and batches.
type NetworkSummary struct {
	Model string `json:"model"`
	// Mean over configurations of method throughput / baseline throughput.
	VsGreedy    map[string]float64 `json:"throughput_vs_greedy"`
	VsLayerwise map[string]float64 `json:"throughput_vs_layerwise"`
	// Mean of greedy EDP / method EDP (above 1: the method is better).
	EDPVsGreedy map[string]float64 `json:"edp_gain_vs_greedy"`
	// Largest and mean gap of the method's objective value to the optimal
	// method's (method value / optimal value - 1).
	MaxGapToOptimal  map[string]float64 `json:"max_gap_to_optimal"`
	MeanGapToOptimal map[string]float64 `json:"mean_gap_to_optimal"`
	Configurations   int                `json:"configurations"`
}

// Summarise computes per-network mean ratios for every method present.
func (s *SweepResult) Summarise() []NetworkSummary {
	var out []NetworkSummary
	index := map[string]int{}
	for _, row := range s.Rows {
		i, ok := index[row.Model]
		if !ok {
			i = len(out)
			index[row.Model] = i
			out = append(out, NetworkSummary{Model: row.Model, VsGreedy: map[string]float64{}, VsLayerwise: map[string]float64{},
				EDPVsGreedy: map[string]float64{}, MaxGapToOptimal: map[string]float64{}, MeanGapToOptimal: map[string]float64{}})
		}
		ns := &out[i]
		ns.Configurations++
		for _, c := range compare(s.Objective, row.Figures) {
			if c.VsGreedy != nil {
				ns.VsGreedy[c.Method] += *c.VsGreedy
				ns.EDPVsGreedy[c.Method] += *c.EDPGainVsGreedy
			}
			if c.VsLayerwise != nil {
				ns.VsLayerwise[c.Method] += *c.VsLayerwise
			}
			if c.GapToOptimal != nil {
				ns.MeanGapToOptimal[c.Method] += *c.GapToOptimal
				ns.MaxGapToOptimal[c.Method] = max(ns.MaxGapToOptimal[c.Method], *c.GapToOptimal)
			}
		}
	}
	for i := range out {
		k := float64(out[i].Configurations)
		for _, m := range []map[string]float64{out[i].VsGreedy, out[i].VsLayerwise, out[i].EDPVsGreedy, out[i].MeanGapToOptimal} {
			for key := range m {
				m[key] /= k
			}
		}
	}
	return out
}

// PaperRatio is the COMPASS paper's mean throughput ratios of compass
// over greedy and layerwise for one network, over chips S, M, L and
// batches 1-16, kept only to print beside this project's measured figure;
// nothing is computed from it.
type PaperRatio struct {
	Model       string  `json:"model"`
	VsGreedy    float64 `json:"throughput_vs_greedy"`
	VsLayerwise float64 `json:"throughput_vs_layerwise"`
}

// PaperReportedRatios are the paper's per-network ratios (Park et al.,
// arXiv 2501.06780), read from the held-out figures of PaperFiguresJSON,
// the list the reproduction compares (docs/reproduction.md).
var PaperReportedRatios = paperRatios()

// PaperMeanRatio is the paper's mean of compass over both baselines and
// its three networks, read from PaperFiguresJSON as PaperReportedRatios.
var PaperMeanRatio = paperFigure(reproduce.MeanThroughputFigureID).Low

// paperFigure is one of the embedded paper figures; the list is checked
// by the tests, so a missing id is a broken build, not a request's error.
func paperFigure(id string) *reproduce.PaperFigure {
	f := reproduce.Find(reproduce.PaperFigures(), id)
	if f == nil {
		panic("api: paper-figures.json has no figure " + id)
	}
	return f
}

func paperRatios() []PaperRatio {
	var out []PaperRatio
	for _, m := range reproduce.Networks() {
		out = append(out, PaperRatio{Model: m,
			VsGreedy:    paperFigure(reproduce.ThroughputFigureID(m, MethodGreedy)).Low,
			VsLayerwise: paperFigure(reproduce.ThroughputFigureID(m, MethodLayerwise)).Low})
	}
	return out
}

// PaperThroughputDistance measures a sweep's compass ratios against the
// paper's throughput figures as the reproduction's held-out distance does
// (docs/reproduction.md): the mean of |ln(ours / paper)| over the paper's
// per-network ratios of the networks in summary, and over its mean of
// both baselines when the summary holds all three of its networks; n is
// the count of figures averaged (0 when the sweep ran none of the paper's
// networks or no compass). The figures compare like with like only on the
// paper's grid (a family S, M, L at batches 1-16, latency objective).
func PaperThroughputDistance(summary []NetworkSummary) (distance float64, n int) {
	figs := reproduce.PaperFigures()
	var sum float64
	var ratios []float64
	for _, ns := range summary {
		g, okG := ns.VsGreedy[MethodCompass]
		l, okL := ns.VsLayerwise[MethodCompass]
		fg := reproduce.Find(figs, reproduce.ThroughputFigureID(ns.Model, MethodGreedy))
		fl := reproduce.Find(figs, reproduce.ThroughputFigureID(ns.Model, MethodLayerwise))
		if !okG || !okL || fg == nil || fl == nil {
			continue
		}
		sum += fg.Distance(g) + fl.Distance(l)
		n += 2
		ratios = append(ratios, g, l)
	}
	if len(ratios) == 2*len(reproduce.Networks()) {
		m := 0.0
		for _, r := range ratios {
			m += r
		}
		sum += paperFigure(reproduce.MeanThroughputFigureID).Distance(m / float64(len(ratios)))
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}
