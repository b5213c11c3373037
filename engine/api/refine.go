package api

import (
	"context"
	"fmt"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/sim"
	"github.com/compass-go/compass/engine/isa"
)

// MethodOptimalSim is the optimum checked on the simulator: the
// estimator's k best plans (partition.KBest: the k shortest paths through
// the cut graph for latency and energy, the Pareto front ranked by energy
// x time for EDP), each scheduled and simulated, and the one with the best
// simulated objective returned. It runs the simulator in Compile as well
// as in Simulate, so it is not part of "all" (Methods): it is asked for by
// name.
const MethodOptimalSim = "optimal-sim"

// DefaultRefine is how many plans optimal-sim simulates when a request
// does not say. On the paper's grid the best of the first 8 plans recovers
// three quarters of the simulated gain the first 32 give, at a quarter of
// the simulations (docs/search.md has the figures), and 8 simulations of
// VGG16 on chip S at batch 16 (about 257,000 events each) take about a
// second natively.
const DefaultRefine = 8

// RefineFigures are one plan's figures (per inference, or for the whole
// batch for the latency).
type RefineFigures struct {
	ThroughputPerS      float64 `json:"throughput_per_s"`
	LatencyS            float64 `json:"latency_s"`
	EnergyPerInferenceJ float64 `json:"energy_per_inference_j"`
	EDPJS               float64 `json:"edp_j_s"`
}

// refineFigures are a plan's headline figures from its batch totals, by
// the formulas of MethodResult's (partition.Totals).
func refineFigures(t partition.Totals) RefineFigures {
	return RefineFigures{ThroughputPerS: t.ThroughputPerS(), LatencyS: t.TimeNs * nsToS,
		EnergyPerInferenceJ: t.EnergyPerInferenceJ(), EDPJS: t.EDPJS()}
}

// RefinePlan is one of the plans optimal-sim simulated: its rank by the
// estimator (0: the estimator's optimum, the optimal method's plan), its
// estimated and simulated figures.
type RefinePlan struct {
	Rank       int           `json:"rank"`
	Partitions int           `json:"partitions"`
	Cuts       []int         `json:"cuts"`
	Estimated  RefineFigures `json:"estimated"`
	Simulated  RefineFigures `json:"simulated"`
}

// RefineReport is optimal-sim's account of its choice: the rank of the
// chosen plan among the plans it simulated (0 when the estimator's optimum
// is also the simulator's), the chosen plan's estimated and simulated
// figures, the estimator's optimum's simulated figures (what optimal gives
// on the simulator), and every plan it simulated.
type RefineReport struct {
	Asked            int           `json:"asked"` // plans asked for (refine)
	Rank             int           `json:"rank"`
	Estimated        RefineFigures `json:"estimated"`
	Simulated        RefineFigures `json:"simulated"`
	OptimumSimulated RefineFigures `json:"optimum_simulated"`
	Plans            []RefinePlan  `json:"plans"`
}

// refinePlans is the number of plans the request asks optimal-sim to
// simulate.
func (req *CompileRequest) refinePlans() int {
	if req.Refine == 0 {
		return DefaultRefine
	}
	return req.Refine
}

// checkRefine refuses, before any search, an optimal-sim whose plan count
// is not positive or exceeds Limits.MaxRefine.
func (req *CompileRequest) checkRefine(lim Limits) error {
	k := req.refinePlans()
	if k < 1 {
		return &InputError{Field: "refine", Err: fmt.Errorf("%d plans: optimal-sim needs at least 1 (0 for the default %d)", k, DefaultRefine)}
	}
	return overLimit("plans for optimal-sim to schedule and simulate (refine)", int64(k), int64(lim.MaxRefine), liftRefine)
}

// refine runs optimal-sim: the estimator's best plans, scheduled, their
// simulated work checked against the limits together (events and DRAM
// bursts summed over the plans, before any simulation starts), each
// simulated, and the best by simulated objective chosen (ties: the better
// estimated rank). ctx stops it between and within simulations.
func refine(ctx context.Context, req *CompileRequest, est *estimate.Estimator, obj partition.Objective, mr *MethodResult) (partition.Plan, error) {
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return partition.Plan{}, err
	}
	if err := req.checkRefine(lim); err != nil {
		return partition.Plan{}, err
	}
	k := req.refinePlans()
	ranked, err := partition.KBest(ctx, est, obj, k)
	if err != nil {
		return partition.Plan{}, err
	}
	chip := est.Mapping().Chip
	programs := make([]*isa.LoopProgram, len(ranked))
	var events, bursts int64
	for r, rp := range ranked {
		lay, err := layoutOf(est, rp.Plan.Cuts)
		if err != nil {
			return partition.Plan{}, &InternalError{Stage: MethodOptimalSim + " layout", Err: fmt.Errorf("plan %d: %w", r, err)}
		}
		p, err := scheduleWithin(est, lay, fmt.Sprintf("%s plan %d", MethodOptimalSim, r), lim, false)
		if err != nil {
			return partition.Plan{}, err
		}
		programs[r] = p
		events = addSat(events, p.Instructions())
		bursts = addSat(bursts, sim.DRAMBursts(p, chip))
	}
	what := fmt.Sprintf("of the %d plans %s simulates together", len(ranked), MethodOptimalSim)
	if err := overLimit("simulated events "+what, events, lim.MaxSimEvents, liftSimEvents); err != nil {
		return partition.Plan{}, err
	}
	if err := overLimit("simulated DRAM bursts at most "+what, bursts, lim.MaxSimDRAMBursts, liftSimDRAMBursts); err != nil {
		return partition.Plan{}, err
	}
	rep := &RefineReport{Asked: k}
	best, bestScore := 0, 0.0
	for r, rp := range ranked {
		res, err := sim.Run(programs[r], chip, sim.Options{MaxEvents: lim.MaxSimEvents, Context: ctx})
		programs[r] = nil // its memory can go
		if err != nil {
			if ctx.Err() != nil {
				return partition.Plan{}, ctx.Err()
			}
			return partition.Plan{}, &InternalError{Stage: "simulate", Err: fmt.Errorf("%s plan %d: %w", MethodOptimalSim, r, err)}
		}
		tot, _, err := partition.Evaluate(est, rp.Plan)
		if err != nil {
			return partition.Plan{}, &InternalError{Stage: MethodOptimalSim + " plan", Err: err}
		}
		simulated := partition.Totals{TimeNs: res.LatencyNs, EnergyPJ: res.EnergyPJ, Batch: est.Batch()}
		rep.Plans = append(rep.Plans, RefinePlan{Rank: r, Partitions: rp.Plan.Partitions(), Cuts: rp.Plan.Cuts,
			Estimated: refineFigures(tot), Simulated: refineFigures(simulated)})
		if s := simulated.Score(obj); r == 0 || s < bestScore {
			best, bestScore = r, s
		}
	}
	chosen := rep.Plans[best]
	rep.Rank, rep.Estimated, rep.Simulated = best, chosen.Estimated, chosen.Simulated
	rep.OptimumSimulated = rep.Plans[0].Simulated
	mr.Refine = rep
	return ranked[best].Plan, nil
}
