package api

import (
	"context"
	"fmt"
	"math"
	"reflect"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/internal/sim"
	"github.com/compass-go/compass/engine/isa"
)

// SimPartition is one partition's simulated phases: each phase's length
// (the window from its first to its last instruction; phases overlap), the
// windows themselves in seconds from the start of the batch, and the
// estimator's durations for the same partition.
type SimPartition struct {
	Index            int     `json:"index"`
	WeightLoadS      float64 `json:"weight_load_s"`
	WriteS           float64 `json:"write_s"`
	ComputeS         float64 `json:"compute_s"`
	IOS              float64 `json:"io_s"`
	ReplacementStart float64 `json:"replacement_start_s"`
	ReplacementEnd   float64 `json:"replacement_end_s"`
	ComputeStart     float64 `json:"compute_start_s"`
	ComputeEnd       float64 `json:"compute_end_s"`
	IOStart          float64 `json:"io_start_s"`
	IOEnd            float64 `json:"io_end_s"`
	End              float64 `json:"end_s"`
	SpillBytes       int64   `json:"spill_bytes"`  // per batch: buffers beyond local memory written to DRAM
	ReloadBytes      int64   `json:"reload_bytes"` // and read back
	// The estimator's figures for the same partition.
	EstWeightLoadS float64 `json:"estimated_weight_load_s"`
	EstWriteS      float64 `json:"estimated_write_s"`
	EstComputeS    float64 `json:"estimated_compute_s"`
	EstIOS         float64 `json:"estimated_io_s"`
}

// TraceEvent is one busy interval of the simulation's timeline: a core (or,
// Core = -1, the bus) executing one instruction.
type TraceEvent = sim.TraceEvent

// SimResult is a simulated method.
type SimResult struct {
	Method              string           `json:"method"`
	ThroughputPerS      float64          `json:"throughput_per_s"`
	EnergyPerInferenceJ float64          `json:"energy_per_inference_j"`
	EDPJS               float64          `json:"edp_j_s"`
	LatencyS            float64          `json:"latency_s"`
	EnergyBreakdownJ    EnergyJ          `json:"energy_breakdown_j"` // per inference
	DRAMBytesRead       int64            `json:"dram_bytes_read"`
	DRAMBytesWritten    int64            `json:"dram_bytes_written"`
	DRAMRowHitRate      float64          `json:"dram_row_hit_rate"`
	SpillBytes          int64            `json:"spill_bytes"`  // per batch, of the DRAM bytes written
	ReloadBytes         int64            `json:"reload_bytes"` // per batch, of the DRAM bytes read
	Instructions        map[string]int64 `json:"instructions"` // by opcode
	MVMs                int64            `json:"mvms"`
	Events              int64            `json:"events"`
	CoreUtilisation     []float64        `json:"core_crossbar_utilisation"`
	Partitions          []SimPartition   `json:"partitions"`
	Estimated           MethodResult     `json:"estimated"` // the estimator's figures for the same plan
	Trace               []TraceEvent     `json:"trace,omitempty"`
	// With a trace: TraceTruncated says the trace stopped at the
	// MaxTraceBytes limit, holding the first len(Trace) of TraceEvents busy
	// intervals (in the order the simulation processed them), which end
	// by TraceEndS of LatencyS.
	TraceTruncated bool    `json:"trace_truncated,omitempty"`
	TraceEvents    int64   `json:"trace_events,omitempty"`
	TraceEndS      float64 `json:"trace_end_s,omitempty"`
}

// SimulateResult is the outcome of simulating one or more methods.
type SimulateResult struct {
	Model     string      `json:"model"`
	Chip      string      `json:"chip"`
	Batch     int         `json:"batch"`
	Objective string      `json:"objective"`
	Seed      uint64      `json:"seed"`
	Placement string      `json:"placement,omitempty"` // the placement policy, when not the default
	Pipeline  string      `json:"pipeline,omitempty"`  // as in CompileResult
	Results   []SimResult `json:"results"`
}

// Simulate compiles the request with each method, schedules the plan and
// simulates it. With trace, each result carries a per-core timeline of at
// most Limits.MaxTraceBytes (the result says when it was cut short).
// programs, if not nil, receives each method's program, expanded (at most
// Limits.MaxProgramBytes). A request whose programs must run more than
// Limits.MaxSimEvents instructions whatever the plan is refused before the
// plans are searched, and a plan whose program does, or whose transfers
// take more than Limits.MaxSimDRAMBursts DRAM bursts (sim.DRAMBursts),
// before its simulation starts, with a *LimitError; ctx stops a running
// simulation, within a few MiB of a transfer. The simulator streams the program, so its
// memory does not grow with the batch. A simulated figure that comes out non-finite or
// negative is an *InternalError, never a result, and so is a panic inside
// it (a bug).
func Simulate(ctx context.Context, req CompileRequest, trace bool, programs func(method string, p *isa.Program) error) (_ *SimulateResult, err error) {
	defer recoverInternal("simulate", &err)
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	est, obj, methods, err := req.prepare()
	if err != nil {
		return nil, err
	}
	g, chip := est.Mapping().Graph, est.Mapping().Chip
	// Before any plan is searched: the fewest events any plan could take.
	if err := overLimit("simulated events at least (every unit's MVMs and hand-overs for every input, whatever the plan)",
		schedule.MinInstructions(est.Mapping(), req.Batch), lim.MaxSimEvents, liftSimEvents); err != nil {
		return nil, err
	}
	out := &SimulateResult{Model: g.Name, Chip: chip.Name, Batch: req.Batch, Objective: string(obj), Seed: req.Seed, Placement: reportedPlacement(req.Placement), Pipeline: pipelineName(est)}
	b := float64(req.Batch)
	for _, method := range methods {
		mr, err := runMethod(ctx, &req, est, obj, method)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		p, err := scheduleWithin(est, mr.layout, method, lim, programs != nil)
		if err != nil {
			return nil, err
		}
		if err := overLimit(method+" simulated DRAM bursts at most (its transfers' bytes over the burst size, for the batch)",
			sim.DRAMBursts(p, chip), lim.MaxSimDRAMBursts, liftSimDRAMBursts); err != nil {
			return nil, err
		}
		if programs != nil {
			if err := programs(method, p.Expand()); err != nil {
				return nil, err
			}
		}
		opt := sim.Options{Trace: trace, MaxTrace: int(max(1, lim.MaxTraceBytes/sim.TraceEventBytes)), MaxEvents: lim.MaxSimEvents, Context: ctx}
		r, err := sim.Run(p, chip, opt)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &InternalError{Stage: "simulate", Err: fmt.Errorf("%s: %w", method, err)}
		}
		// The simulated figures by the formulas of the estimated ones.
		tot := partition.Totals{TimeNs: r.LatencyNs, EnergyPJ: r.EnergyPJ, Batch: req.Batch}
		sr := SimResult{Method: method, LatencyS: r.LatencyNs * nsToS, ThroughputPerS: tot.ThroughputPerS(),
			EnergyPerInferenceJ: tot.EnergyPerInferenceJ(), EDPJS: tot.EDPJS(), EnergyBreakdownJ: energyJ(r.Energy, 1/b),
			DRAMBytesRead: r.DRAM.BytesRead, DRAMBytesWritten: r.DRAM.BytesWritten, DRAMRowHitRate: r.DRAM.RowHitRate(),
			SpillBytes: r.SpillBytes, ReloadBytes: r.ReloadBytes, Instructions: map[string]int64{}, MVMs: r.MVMs, Events: r.Events, Estimated: *mr,
			Trace: r.Trace, TraceTruncated: r.TraceTruncated}
		sr.Estimated.layout = nil
		if trace {
			sr.TraceEvents, sr.TraceEndS = r.TraceEvents, r.TraceEndNs*nsToS
		}
		for op, n := range r.Counts {
			sr.Instructions[op.String()] = n
		}
		for c := range r.CoreXbarBusyNs {
			sr.CoreUtilisation = append(sr.CoreUtilisation, r.XbarUtilisation(c))
		}
		for i, pr := range r.Partitions {
			ep := mr.Partitions[i]
			sr.Partitions = append(sr.Partitions, SimPartition{Index: i,
				WeightLoadS: pr.WeightLoad.Ns() * nsToS, WriteS: pr.Write.Ns() * nsToS, ComputeS: pr.Compute.Ns() * nsToS, IOS: pr.IO.Ns() * nsToS,
				ReplacementStart: pr.Replacement.StartNs * nsToS, ReplacementEnd: pr.Replacement.EndNs * nsToS,
				ComputeStart: pr.Compute.StartNs * nsToS, ComputeEnd: pr.Compute.EndNs * nsToS,
				IOStart: pr.IO.StartNs * nsToS, IOEnd: pr.IO.EndNs * nsToS, End: pr.End * nsToS, SpillBytes: pr.SpillBytes, ReloadBytes: pr.ReloadBytes,
				EstWeightLoadS: ep.WeightLoadS, EstWriteS: ep.WriteS, EstComputeS: ep.ComputeS, EstIOS: ep.IOS})
		}
		sr.Estimated.Partitions = nil // the simulated partitions above carry its phases
		if err := checkSimulated(&sr); err != nil {
			return nil, &InternalError{Stage: "simulate", Err: fmt.Errorf("%s: %w", method, err)}
		}
		out.Results = append(out.Results, sr)
	}
	return out, nil
}

// scheduleWithin schedules a plan's layout into its program and checks the work
// it asks for against the limits: the simulated events (one per
// instruction executed) and, when the program is to be expanded for
// export, its bytes. A plan that does not schedule is an engine fault.
func scheduleWithin(est *estimate.Estimator, lay *layout.Layout, method string, lim Limits, expand bool) (*isa.LoopProgram, error) {
	p, err := schedule.Compile(est, lay)
	if err != nil {
		return nil, &InternalError{Stage: "schedule", Err: fmt.Errorf("%s: %w", method, err)}
	}
	if err := overLimit(method+" simulated events (the instructions its program runs for the batch)", p.Instructions(), lim.MaxSimEvents, liftSimEvents); err != nil {
		return nil, err
	}
	if expand {
		if err := expandWithin(p, method, lim); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// expandWithin refuses a program whose expanded form (for export) would
// take more than Limits.MaxProgramBytes.
func expandWithin(p *isa.LoopProgram, method string, lim Limits) error {
	return overLimit(fmt.Sprintf("%s program bytes (%d instructions of %d bytes, expanded for export)", method, p.Instructions(), isa.InstrBytes),
		p.ExpandedBytes(), lim.MaxProgramBytes, liftProgramBytes)
}

// checkSimulated rejects a simulated result with a non-finite or
// negative figure (time, energy, byte count, rate; the walk compile's
// results get, badNumber), a zero latency, or a trace interval that is not
// finite or ends before it starts, naming the field.
func checkSimulated(sr *SimResult) error {
	r := *sr
	r.Trace = nil // bus intervals have core -1: checked below
	if path, bad := badNumber(reflect.ValueOf(&r), ""); path != "" {
		return fmt.Errorf("simulated %s = %v: a result must be finite and non-negative", path, bad)
	}
	if sr.LatencyS == 0 {
		return fmt.Errorf("simulated latency_s is 0")
	}
	for i, ev := range sr.Trace {
		if d := ev.EndNs - ev.StartNs; math.IsNaN(d) || math.IsInf(d, 0) || d < 0 || ev.StartNs < 0 {
			return fmt.Errorf("simulated trace[%d] runs from %v ns to %v ns", i, ev.StartNs, ev.EndNs)
		}
	}
	return nil
}
