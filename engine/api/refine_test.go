package api

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/internal/partition"
)

// The grid TestOptimalSimOnThePaperGrid runs: the refine and the batches.
// The whole paper grid at refine 32 (about 5 minutes on 2 cores):
//
//	go test ./engine/api -run TestOptimalSimOnThePaperGrid -v -args -refine-grid-k 32 -refine-grid-batches 1,2,4,8,16
var (
	refineGridK       = flag.Int("refine-grid-k", DefaultRefine, "plans optimal-sim simulates in TestOptimalSimOnThePaperGrid")
	refineGridBatches = flag.String("refine-grid-batches", "1,16", "batches of the paper grid TestOptimalSimOnThePaperGrid runs")
)

// simulatedScore is the objective of simulated figures, in the units
// partition.Totals.Score uses up to a constant factor.
func simulatedScore(f RefineFigures, obj string) float64 {
	switch obj {
	case "energy":
		return f.EnergyPerInferenceJ
	case "edp":
		return f.EDPJS
	}
	return f.LatencyS
}

// TestOptimalSimOnThePaperGrid runs optimal-sim beside optimal on the
// paper's grid (VGG16, ResNet18, SqueezeNet 1.1 on chips S, M, L at batch
// 1 and 16, or the batches -refine-grid-batches names) for latency, and
// on a third of it each for energy and EDP. On every configuration optimal-sim's plan,
// simulated by Simulate, must be no worse than optimal's plan simulated
// by Simulate; its report must agree with both (rank 0 is optimal's plan
// and its simulated figures are Simulate's; the chosen plan is the
// simulated minimum of the plans it lists). It logs how often the
// simulator's best differs from the estimator's and by how much.
func TestOptimalSimOnThePaperGrid(t *testing.T) {
	var batches []int
	for _, f := range strings.Split(*refineGridBatches, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || b < 1 {
			t.Fatalf("-refine-grid-batches %q: %q is not a batch", *refineGridBatches, f)
		}
		batches = append(batches, b)
	}
	type row struct {
		label            string
		rank, plans      int
		gain, estPenalty float64
	}
	var rows []row
	ctx := context.Background()
	// A larger refine than the default gets the simulation limits scaled
	// with it (the default limits hold DefaultRefine plans of the grid).
	lim := DefaultLimits()
	if scale := int64(*refineGridK+DefaultRefine-1) / DefaultRefine; scale > 1 {
		lim.MaxSimEvents *= scale
		lim.MaxSimDRAMBursts *= scale
		lim.MaxRefine = max(lim.MaxRefine, *refineGridK)
	}
	n := 0
	for _, net := range []string{"vgg16", "resnet18", "squeezenet1_1"} {
		for _, chip := range []string{"S", "M", "L"} {
			for _, batch := range batches {
				n++
				for i, obj := range []string{"latency", "energy", "edp"} {
					if i > 0 && n%3 != i {
						continue
					}
					label := fmt.Sprintf("%s/%s/b%d/%s", net, chip, batch, obj)
					req := CompileRequest{Model: net, Chip: chip, Batch: batch, Objective: obj, Seed: 1,
						Methods: []string{MethodOptimal, MethodOptimalSim}, Refine: *refineGridK, Limits: &lim}
					sr, err := Simulate(ctx, req, false, nil)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					opt, os := sr.Results[0], sr.Results[1]
					if opt.Method != MethodOptimal || os.Method != MethodOptimalSim {
						t.Fatalf("%s: results %s, %s", label, opt.Method, os.Method)
					}
					rep := os.Estimated.Refine
					if rep == nil || len(rep.Plans) == 0 {
						t.Fatalf("%s: optimal-sim has no refine report", label)
					}
					optSim := RefineFigures{ThroughputPerS: opt.ThroughputPerS, LatencyS: opt.LatencyS, EnergyPerInferenceJ: opt.EnergyPerInferenceJ, EDPJS: opt.EDPJS}
					osSim := RefineFigures{ThroughputPerS: os.ThroughputPerS, LatencyS: os.LatencyS, EnergyPerInferenceJ: os.EnergyPerInferenceJ, EDPJS: os.EDPJS}
					if got, want := simulatedScore(osSim, obj), simulatedScore(optSim, obj); got > want {
						t.Errorf("%s: optimal-sim simulates to %v, worse than optimal's %v", label, got, want)
					}
					if !slices.Equal(rep.Plans[0].Cuts, opt.Estimated.Cuts) || rep.OptimumSimulated != optSim {
						t.Errorf("%s: rank 0 %v simulated %+v; optimal's plan %v simulates to %+v", label, rep.Plans[0].Cuts, rep.OptimumSimulated, opt.Estimated.Cuts, optSim)
					}
					if rep.Simulated != osSim || !slices.Equal(rep.Plans[rep.Rank].Cuts, os.Estimated.Cuts) {
						t.Errorf("%s: report says rank %d %v simulated %+v; Simulate ran %v to %+v", label, rep.Rank, rep.Plans[rep.Rank].Cuts, rep.Simulated, os.Estimated.Cuts, osSim)
					}
					if rep.Estimated.LatencyS != os.Estimated.LatencyS || rep.Estimated.EnergyPerInferenceJ != os.Estimated.EnergyPerInferenceJ {
						t.Errorf("%s: report's estimated figures %+v, the result's %v s, %v J", label, rep.Estimated, os.Estimated.LatencyS, os.Estimated.EnergyPerInferenceJ)
					}
					if rep.Asked != *refineGridK || len(rep.Plans) > rep.Asked {
						t.Errorf("%s: asked %d, simulated %d plans", label, rep.Asked, len(rep.Plans))
					}
					for r, p := range rep.Plans {
						if p.Rank != r {
							t.Errorf("%s: plan %d has rank %d", label, r, p.Rank)
						}
						if r > 0 && simulatedScore(p.Estimated, obj) < simulatedScore(rep.Plans[r-1].Estimated, obj)*(1-1e-12) {
							t.Errorf("%s: rank %d estimated better than rank %d", label, r, r-1)
						}
						if simulatedScore(p.Simulated, obj) < simulatedScore(rep.Simulated, obj) {
							t.Errorf("%s: rank %d simulates better than the chosen rank %d", label, r, rep.Rank)
						}
					}
					gain := 1 - simulatedScore(osSim, obj)/simulatedScore(optSim, obj)
					estPenalty := simulatedScore(rep.Estimated, obj)/simulatedScore(rep.Plans[0].Estimated, obj) - 1
					rows = append(rows, row{label, rep.Rank, len(rep.Plans), gain, estPenalty})
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "optimal-sim with refine %d: the simulator's best among the estimator's best plans\n", *refineGridK)
	fmt.Fprintf(&b, "%-28s %5s %6s %12s %14s\n", "configuration", "rank", "plans", "sim. gain", "est. penalty")
	differ, worstRank := 0, 0
	var sumGain, maxGain float64
	for _, r := range rows {
		fmt.Fprintf(&b, "%-28s %5d %6d %11.3f%% %13.3f%%\n", r.label, r.rank, r.plans, 100*r.gain, 100*r.estPenalty)
		if r.rank > 0 {
			differ++
			sumGain += r.gain
		}
		maxGain = math.Max(maxGain, r.gain)
		worstRank = max(worstRank, r.rank)
	}
	mean := 0.0
	if differ > 0 {
		mean = sumGain / float64(differ)
	}
	fmt.Fprintf(&b, "the simulator's best differs from the estimator's in %d of %d configurations; where it does, the simulated objective improves by %.3f%% on average, %.3f%% at most; the highest rank chosen is %d",
		differ, len(rows), 100*mean, 100*maxGain, worstRank)
	t.Log(b.String())
}

// TestOptimalSimRefusals checks optimal-sim's bounds: a refine over
// Limits.MaxRefine or below zero is refused before any search with the
// field or the flag that lifts it; the plans' simulated events are checked
// together before any simulation; a cancelled context stops it.
func TestOptimalSimRefusals(t *testing.T) {
	ctx := context.Background()
	base := CompileRequest{Model: "resnet18", Chip: "M", Batch: 4, Seed: 1, Methods: []string{MethodOptimalSim}}

	over := base
	over.Refine = DefaultLimits().MaxRefine + 1
	var le *LimitError
	if _, err := Compile(ctx, over); !errors.As(err, &le) || le.Need != int64(over.Refine) || !strings.Contains(le.Lift, "--max-refine") {
		t.Errorf("refine %d over the default limit: %v, want a LimitError lifted by --max-refine", over.Refine, err)
	}
	lim := Limits{MaxRefine: 3}
	over.Refine, over.Limits = 4, &lim
	if _, err := Compile(ctx, over); !errors.As(err, &le) || le.Need != 4 || le.Limit != 3 {
		t.Errorf("refine 4 over a limit of 3: %v", err)
	}
	at := over
	at.Refine = 3
	res, err := Compile(ctx, at)
	if err != nil {
		t.Fatalf("refine 3 at a limit of 3: %v", err)
	}
	if rep := res.Results[0].Refine; rep == nil || len(rep.Plans) != 3 || rep.Asked != 3 {
		t.Fatalf("refine 3: report %+v", rep)
	}

	neg := base
	neg.Refine = -1
	var ie *InputError
	if _, err := Compile(ctx, neg); !errors.As(err, &ie) || ie.Field != "refine" {
		t.Errorf("refine -1: %v, want an InputError on refine", err)
	}

	// The plans' events together: the three plans above need more than
	// any one of them, and a limit between the largest and the sum is
	// refused before any simulation.
	var sum, largest int64
	ev, err := plansEvents(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		sum += e
		largest = max(largest, e)
	}
	if sum <= largest {
		t.Fatalf("events %v: the sum is not above the largest", ev)
	}
	tight := at
	tight.Limits = &Limits{MaxRefine: 3, MaxSimEvents: sum - 1}
	if _, err := Compile(ctx, tight); !errors.As(err, &le) || le.Need != sum || !strings.Contains(le.What, "together") || !strings.Contains(le.Lift, "--max-sim-events") {
		t.Errorf("events limit %d under the plans' sum %d: %v", sum-1, sum, err)
	}
	tight.Limits = &Limits{MaxRefine: 3, MaxSimEvents: sum}
	if _, err := Compile(ctx, tight); err != nil {
		t.Errorf("events limit at the plans' sum %d: %v", sum, err)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Compile(done, base); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// plansEvents schedules the plans optimal-sim would simulate for req and
// returns each one's events (instructions for the batch), through the
// scheduler directly.
func plansEvents(ctx context.Context, req CompileRequest) ([]int64, error) {
	est, obj, _, err := req.prepare()
	if err != nil {
		return nil, err
	}
	ranked, err := partition.KBest(ctx, est, obj, req.refinePlans())
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, rp := range ranked {
		lay, err := layoutOf(est, rp.Plan.Cuts)
		if err != nil {
			return nil, err
		}
		p, err := scheduleWithin(est, lay, "test", DefaultLimits(), false)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Instructions())
	}
	return out, nil
}

// TestParseMethodsNames checks the method names: "all" runs the
// estimator's methods, optimal-sim is named on its own and reported after
// optimal, and the retired compass-paper is refused with what to use.
func TestParseMethodsNames(t *testing.T) {
	got, err := ParseMethods("optimal-sim, all")
	if err != nil || !slices.Equal(got, []string{MethodGreedy, MethodLayerwise, MethodCompass, MethodOptimal, MethodOptimalSim}) {
		t.Errorf("optimal-sim,all = %v, %v", got, err)
	}
	if got, err := ParseMethods("all"); err != nil || slices.Contains(got, MethodOptimalSim) {
		t.Errorf("all = %v, %v: it must not simulate", got, err)
	}
	_, err = ParseMethods("greedy,compass-paper")
	if err == nil || !strings.Contains(err.Error(), `"compass-paper"`) || !strings.Contains(err.Error(), "compass is now the paper's GA") || !strings.Contains(err.Error(), "optimal") {
		t.Errorf("compass-paper: %v, want an error saying compass is the paper's GA and optimal is exact", err)
	}
	_, err = Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{"compass-paper"}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "methods" {
		t.Errorf("compile with compass-paper: %v, want an InputError on methods", err)
	}
	for _, ga := range []*GASettings{{Informed: new(bool)}, {MoveReach: new(int)}} {
		_, err := Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{MethodCompass}, GA: ga})
		if !errors.As(err, &ie) || !strings.HasPrefix(ie.Field, "ga.") || !strings.Contains(err.Error(), "retired") || !strings.Contains(err.Error(), "optimal") {
			t.Errorf("retired GA setting %+v: %v", ga, err)
		}
	}
}

// TestOptimalSimSameInCompileAndSimulate checks that optimal-sim chooses
// the same plan with the same report whether Compile or Simulate runs it,
// and that two runs give the same bytes.
func TestOptimalSimSameInCompileAndSimulate(t *testing.T) {
	ctx := context.Background()
	req := CompileRequest{Model: "squeezenet1_1", Chip: "L", Batch: 4, Seed: 1, Objective: "latency", Methods: []string{MethodOptimalSim}, Refine: 6}
	c1, err := Compile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Compile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Simulate(ctx, req, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b1, b2 strings.Builder
	if err := WriteJSON(&b1, c1); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&b2, c2); err != nil {
		t.Fatal(err)
	}
	if b1.String() != b2.String() {
		t.Errorf("two compiles of the same request differ")
	}
	rep, srep := c1.Results[0].Refine, s.Results[0].Estimated.Refine
	if rep == nil || srep == nil || !reflect.DeepEqual(rep, srep) {
		t.Fatalf("compile's report %+v, simulate's %+v", rep, srep)
	}
	if len(rep.Plans) != 6 || !slices.Equal(c1.Results[0].Cuts, rep.Plans[rep.Rank].Cuts) {
		t.Errorf("compile returned cuts %v, its report chose rank %d of %d", c1.Results[0].Cuts, rep.Rank, len(rep.Plans))
	}
	if s.Results[0].LatencyS != rep.Simulated.LatencyS {
		t.Errorf("simulate's latency %v, the report's simulated %v", s.Results[0].LatencyS, rep.Simulated.LatencyS)
	}
}

// BenchmarkOptimalSim times optimal-sim at the default refine beside
// optimal simulated once, on the paper grid's largest simulation (VGG16 on
// chip S at batch 16) and on ResNet18 on chip M at batch 16.
func BenchmarkOptimalSim(b *testing.B) {
	for _, c := range []struct {
		model, chip string
	}{{"vgg16", "S"}, {"resnet18", "M"}} {
		for _, method := range []string{MethodOptimal, MethodOptimalSim} {
			b.Run(c.model+"-"+c.chip+"-16/"+method, func(b *testing.B) {
				req := CompileRequest{Model: c.model, Chip: c.chip, Batch: 16, Seed: 1, Methods: []string{method}}
				for b.Loop() {
					if _, err := Simulate(context.Background(), req, false, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// A refine setting without optimal-sim would be silently ignored; it is
// refused, naming the field, as GA settings without a GA are.
func TestRefineWithoutOptimalSimIsRefused(t *testing.T) {
	_, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 1,
		Methods: []string{MethodGreedy, MethodOptimal}, Refine: 4})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "refine" {
		t.Fatalf("refine without optimal-sim: %v, want an input error on refine", err)
	}
	if _, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 1,
		Methods: []string{MethodGreedy, MethodOptimalSim}, Refine: 2}); err != nil {
		t.Fatalf("refine with optimal-sim: %v", err)
	}
}
