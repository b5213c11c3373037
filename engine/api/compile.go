package api

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model"
)

// CompileRequest is one compilation: a model on a chip at a batch size.
type CompileRequest struct {
	Model     string       `json:"model"`               // zoo name or graph file (CLI)
	Graph     *model.Graph `json:"-"`                   // an already loaded model (takes precedence over Model)
	Chip      string       `json:"chip"`                // preset name or chip file (CLI)
	ChipSpec  *hw.Chip     `json:"chip_spec,omitempty"` // a full chip description (takes precedence over Chip)
	Batch     int          `json:"batch"`
	Methods   []string     `json:"methods"`
	Objective string       `json:"objective"`
	Seed      uint64       `json:"seed"`
	GA        *GASettings  `json:"ga,omitempty"`
	Refine    int          `json:"refine,omitempty"` // optimal-sim: plans to schedule and simulate (0: DefaultRefine)
	Limits    *Limits      `json:"limits,omitempty"` // bounds on the work (nil: DefaultLimits)
	// Placement is the placement policy (PlacementPolicies): "unit"
	// (the default when empty) keeps every replica of a unit whole on one
	// core; "crossbar" fills the cores crossbar by crossbar, a replica
	// that does not fit what is left of a core continuing on the next
	// (its partial sums sent back and added), so a span fits when its
	// crossbars do.
	Placement string `json:"placement,omitempty"`
	// Pipeline is how a partition's layers hand an input on: "per-input"
	// (the default, ""), a layer starting an input after the previous
	// layer's whole output, or "row", a layer starting once the input rows
	// its window reads are ready. The searches cost spans in this mode.
	Pipeline string `json:"pipeline,omitempty"`

	// Progress, if set, receives the GA's generations (method, generation).
	Progress func(method string, g Generation) `json:"-"`
}

// reportedPlacement is the policy a result names: empty for the default,
// so a request that names the default ("unit", as the CLI sends it) and
// one that omits it (as the page does) give the same bytes.
func reportedPlacement(p string) string {
	if mapping.Policy(p) == mapping.PolicyUnit {
		return ""
	}
	return p
}

// PlacementPolicies lists the values CompileRequest.Placement takes, the
// default first.
func PlacementPolicies() []string {
	var out []string
	for _, p := range mapping.Policies() {
		out = append(out, string(p))
	}
	return out
}

// Generation is one generation of a GA search as reported to
// CompileRequest.Progress and in a result's history.
type Generation = partition.Generation

// GAOptions are the settings a GA search ran with, as a result's GA
// report gives them (CompileRequest's GA fields, defaults filled in).
type GAOptions = partition.GAOptions

// Seconds and joules in results; the engine works in ns and pJ.
const (
	nsToS = 1e-9
	pJToJ = 1e-12
)

// EnergyJ is an energy breakdown in joules.
type EnergyJ struct {
	MVM         float64 `json:"mvm"`
	ADC         float64 `json:"adc"`
	VFU         float64 `json:"vfu"`
	LocalMemory float64 `json:"local_memory"`
	Bus         float64 `json:"bus"`
	DRAM        float64 `json:"dram"`
	Write       float64 `json:"crossbar_write"`
	Static      float64 `json:"static"`
}

func energyJ(e estimate.Energy, scale float64) EnergyJ {
	k := pJToJ * scale
	return EnergyJ{e.MVM * k, e.ADC * k, e.VFU * k, e.LocalMemory * k, e.Bus * k, e.DRAM * k, e.Write * k, e.Static * k}
}

// Replica is one layer's share of a partition and its replication.
type Replica struct {
	Layer     string `json:"layer"`
	Units     int    `json:"units"`
	Crossbars int    `json:"crossbars"` // at replication 1
	Replicas  int    `json:"replicas"`
}

// PartitionResult is one partition of a plan.
type PartitionResult struct {
	Index              int       `json:"index"`
	FirstUnit          int       `json:"first_unit"`
	EndUnit            int       `json:"end_unit"` // exclusive
	FirstLayer         string    `json:"first_layer"`
	LastLayer          string    `json:"last_layer"`
	Units              int       `json:"units"`
	CrossbarsUsed      int       `json:"crossbars_used"`
	CrossbarsAvailable int       `json:"crossbars_available"`
	Replication        []Replica `json:"replication"`
	WeightLoadS        float64   `json:"weight_load_s"`
	WriteS             float64   `json:"write_s"`
	ComputeS           float64   `json:"compute_s"`
	IOS                float64   `json:"io_s"`
	TimeS              float64   `json:"time_s"`
	BottleneckS        float64   `json:"bottleneck_s"`
	EnergyJ            float64   `json:"energy_j"` // per batch
	WeightBytes        int64     `json:"weight_bytes"`
	LoadBytes          int64     `json:"load_bytes_per_inference"`
	StoreBytes         int64     `json:"store_bytes_per_inference"`
	SpillBytes         int64     `json:"spill_bytes_per_inference"`  // buffers beyond local memory, written to DRAM
	ReloadBytes        int64     `json:"reload_bytes_per_inference"` // and read back
	SplitReplicas      int       `json:"split_replicas,omitempty"`   // replicas split over two cores (the crossbar placement), their partial sums sent between them
	Entries            []string  `json:"entries"`
	Exits              []string  `json:"exits"`
	// Placement is the core mapping: which crossbars of which core hold
	// each replica of each unit.
	Placement []Slot `json:"placement"`
}

// Slot is a run of replicas of one unit placed side by side on one core:
// replicas Replica .. Replica+Count-1, each Crossbars wide, starting at
// crossbar FirstCrossbar of core Core. Under the "crossbar" placement a
// replica split over two cores is two slots of Count 1, one per piece,
// their Crossbars summing to the unit's.
type Slot struct {
	Core          int `json:"core"`
	FirstCrossbar int `json:"first_crossbar"`
	Crossbars     int `json:"crossbars"` // per replica
	Layer         int `json:"layer"`     // index into CompileResult.Layers
	Unit          int `json:"unit"`      // global unit index
	Replica       int `json:"replica"`   // first replica of the run
	Count         int `json:"count"`     // replicas in the run
	// Per replica of the run: the bytes its buffers need in the core's
	// local memory, its share of that memory, and what it spills to DRAM
	// and reads back per inference (mapping.Buffer).
	BufferBytes int64 `json:"buffer_bytes"`
	ShareBytes  int64 `json:"share_bytes"`
	SpillBytes  int64 `json:"spill_bytes_per_inference"`
	ReloadBytes int64 `json:"reload_bytes_per_inference"`
}

// ParetoPointResult is one point of the EDP optimum's Pareto front.
type ParetoPointResult struct {
	EnergyPerInferenceJ float64 `json:"energy_per_inference_j"`
	LatencyS            float64 `json:"latency_s"`
	Partitions          int     `json:"partitions"`
	Cuts                []int   `json:"cuts"`
}

// GAReport is the GA's convergence history.
type GAReport struct {
	Options      GAOptions    `json:"options"`
	History      []Generation `json:"history"`
	StoppedEarly bool         `json:"stopped_early"`
}

// MethodResult is one method's plan and figures.
type MethodResult struct {
	Method              string              `json:"method"`
	ThroughputPerS      float64             `json:"throughput_per_s"`
	EnergyPerInferenceJ float64             `json:"energy_per_inference_j"`
	EDPJS               float64             `json:"edp_j_s"`   // energy per inference x latency per inference
	LatencyS            float64             `json:"latency_s"` // the whole batch through all partitions
	EnergyBreakdownJ    EnergyJ             `json:"energy_breakdown_j"`
	DRAMBytesRead       int64               `json:"dram_bytes_read"` // per batch
	DRAMBytesWritten    int64               `json:"dram_bytes_written"`
	SpillBytes          int64               `json:"spill_bytes"`  // per batch, of the DRAM bytes written
	ReloadBytes         int64               `json:"reload_bytes"` // per batch, of the DRAM bytes read
	Cuts                []int               `json:"cuts"`
	Partitions          []PartitionResult   `json:"partitions"`
	GA                  *GAReport           `json:"ga,omitempty"`
	Pareto              []ParetoPointResult `json:"pareto,omitempty"`
	Refine              *RefineReport       `json:"refine,omitempty"` // optimal-sim: the chosen plan's rank and simulated figures

	// layout is the plan laid out (the placement reported above), for
	// Simulate and Program to schedule; the facade clears it before it
	// returns the result.
	layout *layout.Layout
}

// LayerInfo places a layer's units in the unit sequence (for drawing).
type LayerInfo struct {
	Name      string `json:"name"`
	Op        string `json:"op"`
	FirstUnit int    `json:"first_unit"`
	Units     int    `json:"units"`
	Crossbars int    `json:"crossbars"`
}

// CompileResult is the outcome of a CompileRequest.
type CompileResult struct {
	Model              string         `json:"model"`
	Chip               string         `json:"chip"`
	Batch              int            `json:"batch"`
	Objective          string         `json:"objective"`
	Seed               uint64         `json:"seed"`
	Placement          string         `json:"placement,omitempty"` // the placement policy, when not the default
	Pipeline           string         `json:"pipeline,omitempty"`  // "row" in the row pipeline; omitted in the default, per-input
	Units              int            `json:"units"`
	CrossbarsNeeded    int            `json:"crossbars_needed"`
	CrossbarsAvailable int            `json:"crossbars_available"`
	Fits               bool           `json:"fits"`
	Layers             []LayerInfo    `json:"layers"`
	ValidEnds          []int          `json:"valid_ends"` // validity map: [a, b) valid iff a < b <= valid_ends[a]
	Results            []MethodResult `json:"results"`
}

// Result returns the named method's result, or nil.
func (r *CompileResult) Result(method string) *MethodResult {
	for i := range r.Results {
		if r.Results[i].Method == method {
			return &r.Results[i]
		}
	}
	return nil
}

func (req *CompileRequest) resolve() (*model.Graph, *hw.Chip, partition.Objective, []string, error) {
	g, chip, err := resolveModelChip(req.Model, req.Graph, req.Chip, req.ChipSpec)
	if err != nil {
		return nil, nil, "", nil, err
	}
	if req.Batch < 1 || req.Batch > estimate.MaxBatch {
		return nil, nil, "", nil, &InputError{Field: "batch", Err: fmt.Errorf("batch = %d: must be an integer from 1 to %d", req.Batch, estimate.MaxBatch)}
	}
	if _, err := estimate.ParsePipeline(req.Pipeline); err != nil {
		return nil, nil, "", nil, &InputError{Field: "pipeline", Err: err}
	}
	obj := partition.Latency
	if req.Objective != "" {
		if obj, err = partition.ParseObjective(req.Objective); err != nil {
			return nil, nil, "", nil, &InputError{Field: "objective", Err: err}
		}
	}
	methods := req.Methods
	if len(methods) == 0 {
		methods = []string{MethodCompass}
	}
	if methods, err = ParseMethods(strings.Join(methods, ",")); err != nil {
		return nil, nil, "", nil, &InputError{Field: "methods", Err: err}
	}
	return g, chip, obj, methods, nil
}

// prepare resolves the request, checks its work against the limits and
// builds the estimator every front-end operation (compile, program,
// simulate) starts from. Bad fields are *InputError, work over a limit
// *LimitError; both come before any expensive stage.
func (req *CompileRequest) prepare() (*estimate.Estimator, partition.Objective, []string, error) {
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, "", nil, err
	}
	g, chip, obj, methods, err := req.resolve()
	if err != nil {
		return nil, "", nil, err
	}
	if err := overLimit("model graph nodes", int64(len(g.Nodes)), int64(lim.MaxNodes), liftNodes); err != nil {
		return nil, "", nil, err
	}
	if err := checkUnits(g, chip, lim); err != nil {
		return nil, "", nil, err
	}
	policy := mapping.PolicyUnit
	if req.Placement != "" {
		policy = mapping.Policy(req.Placement)
		if err := policy.Check(); err != nil {
			return nil, "", nil, &InputError{Field: "placement", Err: err}
		}
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		return nil, "", nil, asInputError("model", err)
	}
	if err := req.checkMethodWork(methods, int64(len(m.Units)), lim); err != nil {
		return nil, "", nil, err
	}
	if searches(methods) {
		var spans int64
		for a, end := range policy.ValidEnds(m) {
			spans += int64(end - a)
		}
		if err := overLimit("valid spans to cost (the searches cost every one)", spans, lim.MaxSpans, liftSpans); err != nil {
			return nil, "", nil, err
		}
	}
	pipe, err := estimate.ParsePipeline(req.Pipeline)
	if err != nil {
		return nil, "", nil, &InputError{Field: "pipeline", Err: err}
	}
	est, err := estimate.NewPlacedPipeline(m, req.Batch, policy, pipe)
	if err != nil {
		return nil, "", nil, &InputError{Field: "batch", Err: err}
	}
	return est, obj, methods, nil
}

// checkUnits refuses a model whose mapping would hold more partition
// units than the limit. The count is exact (mapping.CountUnits, from each
// layer's shape) and taken before mapping.Map, which would allocate every
// unit: ResNet18 on crossbars of 1x4 cells has 729,984.
func checkUnits(g *model.Graph, chip *hw.Chip, lim Limits) error {
	n, err := mapping.CountUnits(g, chip)
	if err != nil {
		return asInputError("model", err)
	}
	return overLimit("partition units (the model's layers cut to the chip's crossbars)", int64(n), int64(lim.MaxUnits), liftUnits)
}

// Compile partitions a model for a chip with each requested method.
// A panic inside it (a bug) is returned as an *InternalError.
func Compile(ctx context.Context, req CompileRequest) (_ *CompileResult, err error) {
	defer recoverInternal("compile", &err)
	est, obj, methods, err := req.prepare()
	if err != nil {
		return nil, err
	}
	m := est.Mapping()
	g, chip := m.Graph, m.Chip
	ends := est.Policy().ValidEnds(m)
	res := &CompileResult{Model: g.Name, Chip: chip.Name, Batch: req.Batch, Objective: string(obj), Seed: req.Seed, Placement: reportedPlacement(req.Placement), Pipeline: pipelineName(est),
		Units: len(m.Units), CrossbarsNeeded: m.CrossbarsNeeded, CrossbarsAvailable: m.CrossbarsAvailable,
		Fits: ends[0] == len(m.Units), ValidEnds: slices.Clone(ends)}
	for _, l := range m.Layers {
		res.Layers = append(res.Layers, LayerInfo{Name: l.Name, Op: string(l.Op), FirstUnit: l.FirstUnit, Units: l.NumUnits, Crossbars: l.Crossbars})
	}
	for _, method := range methods {
		mr, err := runMethod(ctx, &req, est, obj, method)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		mr.layout = nil
		res.Results = append(res.Results, *mr)
	}
	return res, nil
}

// place reports a partition's layout: one slot per piece of a replica,
// in core and crossbar order, runs of consecutive replicas of one unit
// side by side with the same buffers merged into one slot.
func place(p *layout.Partition) []Slot {
	var slots []Slot
	for _, r := range p.Replicas {
		for _, pc := range r.Pieces {
			slots = append(slots, Slot{Core: pc.Core, FirstCrossbar: pc.FirstCrossbar, Crossbars: pc.Crossbars, Layer: r.Layer, Unit: r.Unit, Replica: r.Index, Count: 1,
				BufferBytes: r.Buffer.NeedBytes, ShareBytes: r.Buffer.ShareBytes, SpillBytes: r.Buffer.SpillBytes, ReloadBytes: r.Buffer.ReloadBytes})
		}
	}
	slices.SortStableFunc(slots, func(a, b Slot) int {
		if a.Core != b.Core {
			return a.Core - b.Core
		}
		return a.FirstCrossbar - b.FirstCrossbar
	})
	// Merge runs of consecutive replicas of one unit, side by side.
	out := slots[:0]
	for _, sl := range slots {
		if k := len(out) - 1; k >= 0 {
			p := &out[k]
			if p.Core == sl.Core && p.Unit == sl.Unit && p.Replica+p.Count == sl.Replica && p.Crossbars == sl.Crossbars &&
				p.FirstCrossbar+p.Count*p.Crossbars == sl.FirstCrossbar &&
				p.BufferBytes == sl.BufferBytes && p.SpillBytes == sl.SpillBytes {
				p.Count++
				continue
			}
		}
		out = append(out, sl)
	}
	return out
}

// layoutOf lays out a plan with the replication the estimator chose for
// each of its partitions.
func layoutOf(est *estimate.Estimator, cuts []int) (*layout.Layout, error) {
	return layout.FromPlan(est, cuts)
}

func fillMethod(mr *MethodResult, est *estimate.Estimator, plan partition.Plan, tot partition.Totals, spans []*estimate.Span) error {
	m := est.Mapping()
	g := m.Graph
	b := float64(est.Batch())
	mr.ThroughputPerS = tot.ThroughputPerS()
	mr.EnergyPerInferenceJ = tot.EnergyPerInferenceJ()
	mr.EDPJS = tot.EDPJS()
	mr.LatencyS = tot.TimeNs * nsToS
	mr.EnergyBreakdownJ = energyJ(tot.Energy, 1/b)
	mr.Cuts = slices.Clone(plan.Cuts)
	lay, err := layoutOf(est, plan.Cuts)
	if err != nil {
		return err
	}
	mr.layout = lay
	names := func(nodes []int) []string {
		out := make([]string, len(nodes))
		for i, n := range nodes {
			out[i] = g.Nodes[n].Name
		}
		return out
	}
	for i, s := range spans {
		pr := PartitionResult{Index: i, FirstUnit: s.Start, EndUnit: s.End,
			FirstLayer: m.Layers[m.Units[s.Start].Layer].Name, LastLayer: m.Layers[m.Units[s.End-1].Layer].Name,
			Units: s.End - s.Start, CrossbarsUsed: s.CrossbarsUsed, CrossbarsAvailable: m.CrossbarsAvailable,
			WeightLoadS: s.WeightLoadNs * nsToS, WriteS: s.WriteNs * nsToS, ComputeS: s.ComputeNs * nsToS,
			IOS: s.IONs * nsToS, TimeS: s.TimeNs * nsToS, BottleneckS: s.BottleneckNs * nsToS, EnergyJ: s.EnergyPJ * pJToJ,
			WeightBytes: s.WeightBytes, LoadBytes: s.LoadBytes, StoreBytes: s.StoreBytes, SpillBytes: s.SpillBytes, ReloadBytes: s.ReloadBytes,
			SplitReplicas: s.SplitReplicas, Entries: names(s.Entries), Exits: names(s.Exits)}
		for _, lp := range s.Layers {
			pr.Replication = append(pr.Replication, Replica{Layer: m.Layers[lp.Layer].Name, Units: lp.Units, Crossbars: lp.Crossbars, Replicas: lp.Replicas})
		}
		pr.Placement = place(&lay.Partitions[i])
		mr.Partitions = append(mr.Partitions, pr)
		mr.DRAMBytesRead += s.WeightBytes + int64(est.Batch())*(s.LoadBytes+s.ReloadBytes)
		mr.DRAMBytesWritten += int64(est.Batch()) * (s.StoreBytes + s.SpillBytes)
		mr.SpillBytes += int64(est.Batch()) * s.SpillBytes
		mr.ReloadBytes += int64(est.Batch()) * s.ReloadBytes
	}
	return nil
}

// trafficWithin refuses, with a *LimitError, a plan whose DRAM traffic
// for the batch (weights once, each input's loads, reloads, stores and
// spills batch times) is more bytes than a result's 64-bit counts hold,
// rather than let the sums overflow into a negative figure. It names the
// largest batch whose traffic fits (a bound no setting lifts). A span's per-input figures are sums of
// tensor sizes, far inside int64; their totals over the plan saturate.
func trafficWithin(batch int, spans []*estimate.Span) error {
	var weights, read, written int64
	for _, s := range spans {
		weights = addSat(weights, s.WeightBytes)
		read = addSat(read, addSat(s.LoadBytes, s.ReloadBytes))
		written = addSat(written, addSat(s.StoreBytes, s.SpillBytes))
	}
	perInput := max(read, written)
	if perInput == 0 || int64(batch) <= (math.MaxInt64-weights)/perInput {
		return nil
	}
	return &LimitError{What: fmt.Sprintf("inputs in the batch (the plan moves up to %d DRAM bytes an input, and a result counts the batch's bytes in 64-bit integers, at most %d)", perInput, int64(math.MaxInt64)),
		Need: int64(batch), Limit: (math.MaxInt64 - weights) / perInput,
		Lift: "nothing (the bound is fixed): use a smaller batch or smaller tensors"}
}

// addSat is a+b for non-negative a and b, math.MaxInt64 when it overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// recoverInternal turns a panic of the calling function into an
// *InternalError in *err, so that no input can crash a front end (in
// WebAssembly a panic stops the whole engine, in a sweep it would kill
// the process from a worker goroutine). Deferred directly.
func recoverInternal(stage string, err *error) {
	if r := recover(); r != nil {
		*err = &InternalError{Stage: stage, Err: fmt.Errorf("panic: %v", r)}
	}
}

// checkOutputs walks a result (structs, pointers, slices, maps) and
// returns an *InternalError naming the first number a result must never
// hold: a float that is NaN, infinite or negative, or a negative integer
// (every figure a result reports is a time, an energy, a rate, a byte
// count or an index). The path is given in JSON keys, e.g.
// "results[1].partitions[3].io_s".
func checkOutputs(stage string, v any) error {
	if path, bad := badNumber(reflect.ValueOf(v), ""); path != "" {
		return &InternalError{Stage: stage, Err: fmt.Errorf("%s = %v: a result must be finite and non-negative", path, bad)}
	}
	return nil
}

func badNumber(v reflect.Value, path string) (string, any) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return path, f
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() < 0 {
			return path, v.Int()
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return badNumber(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, bad := badNumber(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p, bad
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			if p, bad := badNumber(v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); p != "" {
				return p, bad
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || key == "-" {
				continue
			}
			if key == "" {
				key = f.Name
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			if p, bad := badNumber(v.Field(i), sub); p != "" {
				return p, bad
			}
		}
	}
	return "", nil
}

// pipelineName is the estimator's pipeline mode as results name it:
// omitted ("") for the default, per-input.
func pipelineName(e *estimate.Estimator) string {
	if e.Pipeline() == estimate.PerInput {
		return ""
	}
	return e.Pipeline().String()
}
