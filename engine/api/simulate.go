package api

import (
	"context"
	"fmt"

	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/schedule"
	"github.com/compass-go/compass/engine/sim"
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
	Trace               []sim.TraceEvent `json:"trace,omitempty"`
	TraceTruncated      bool             `json:"trace_truncated,omitempty"`
}

// SimulateResult is the outcome of simulating one or more methods.
type SimulateResult struct {
	Model     string      `json:"model"`
	Chip      string      `json:"chip"`
	Batch     int         `json:"batch"`
	Objective string      `json:"objective"`
	Seed      uint64      `json:"seed"`
	Results   []SimResult `json:"results"`
}

// Simulate compiles the request with each method, schedules the plan and
// simulates it. With trace, each result carries a per-core timeline.
// programs, if not nil, receives each method's program.
func Simulate(ctx context.Context, req CompileRequest, trace bool, programs func(method string, p *isa.Program) error) (*SimulateResult, error) {
	est, obj, methods, err := req.prepare()
	if err != nil {
		return nil, err
	}
	g, chip := est.Mapping().Graph, est.Mapping().Chip
	out := &SimulateResult{Model: g.Name, Chip: chip.Name, Batch: req.Batch, Objective: string(obj), Seed: req.Seed}
	b := float64(req.Batch)
	for _, method := range methods {
		mr, err := runMethod(ctx, &req, est, obj, method)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		p, err := schedule.Build(est, mr.Cuts)
		if err != nil {
			return nil, fmt.Errorf("%s: scheduling: %w", method, err)
		}
		if programs != nil {
			if err := programs(method, p.Expand()); err != nil {
				return nil, err
			}
		}
		r, err := sim.Run(p, chip, sim.Options{Trace: trace})
		if err != nil {
			return nil, fmt.Errorf("%s: simulating: %w", method, err)
		}
		sr := SimResult{Method: method, LatencyS: r.LatencyNs * nsToS, ThroughputPerS: b / (r.LatencyNs * nsToS),
			EnergyPerInferenceJ: r.EnergyPJ * pJToJ / b, EnergyBreakdownJ: energyJ(r.Energy, 1/b),
			DRAMBytesRead: r.DRAM.BytesRead, DRAMBytesWritten: r.DRAM.BytesWritten, DRAMRowHitRate: r.DRAM.RowHitRate(),
			SpillBytes: r.SpillBytes, ReloadBytes: r.ReloadBytes, Instructions: map[string]int64{}, MVMs: r.MVMs, Events: r.Events, Estimated: *mr,
			Trace: r.Trace, TraceTruncated: r.TraceTruncated}
		sr.EDPJS = sr.EnergyPerInferenceJ * sr.LatencyS / b
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
		out.Results = append(out.Results, sr)
	}
	return out, nil
}
