package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/partition"
)

// Method names.
const (
	MethodGreedy    = "greedy"    // the paper's greedy baseline
	MethodLayerwise = "layerwise" // the paper's layerwise baseline
	MethodCompass   = "compass"   // the paper's genetic algorithm as published (partition.PaperGAOptions)
	MethodOptimal   = "optimal"   // the exact optimum by dynamic programming over the cut graph
)

// Methods lists the methods "all" runs, in the order results are
// reported: every method the estimator alone decides. MethodOptimalSim,
// which also runs the simulator, is asked for by name and reported last.
func Methods() []string {
	return []string{MethodGreedy, MethodLayerwise, MethodCompass, MethodOptimal}
}

// knownMethods are every method a request may name, in report order.
func knownMethods() []string { return append(Methods(), MethodOptimalSim) }

// retiredMethods are names a request may still use, with what to use
// instead.
var retiredMethods = map[string]string{
	"compass-paper": "compass is now the paper's GA as published (population 100, 30 generations, keep 20); optimal gives the exact optimum",
}

// ParseMethods expands a comma-separated method list; "all" means every
// method of Methods (optimal-sim is named on its own).
func ParseMethods(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("no method given: use one or more of %s, or all", strings.Join(knownMethods(), ", "))
	}
	var out []string
	for _, m := range strings.Split(spec, ",") {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "all" {
			for _, a := range Methods() {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
			continue
		}
		if why, ok := retiredMethods[m]; ok {
			return nil, fmt.Errorf("method %q is no longer a method: %s", m, why)
		}
		if !slices.Contains(knownMethods(), m) {
			return nil, fmt.Errorf("method %q is not one of %s, all", m, strings.Join(knownMethods(), ", "))
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	// Report in the canonical order whatever order they were asked in.
	known := knownMethods()
	slices.SortFunc(out, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	return out, nil
}

// GASettings override the compass method's GA settings (nil fields keep
// the paper's, partition.PaperGAOptions: population 100, 30 generations,
// keep 20, patience 10).
type GASettings struct {
	Population  *int `json:"population,omitempty"`
	Generations *int `json:"generations,omitempty"`
	Keep        *int `json:"keep,omitempty"`
	Patience    *int `json:"patience,omitempty"`

	// Informed and MoveReach were settings of the retired project GA; a
	// request that sets either is refused with what to use instead.
	Informed  *bool `json:"informed,omitempty"`
	MoveReach *int  `json:"move_reach,omitempty"`
}

// retiredGA is why a retired GA setting is refused.
const retiredGA = "the project's GA with informed mutations was retired: compass is the paper's GA as published (its settings are population, generations, keep and patience), and optimal gives the exact optimum"

// gaOptions are the GA options the request gives the GA method named
// (compass, the only one): the paper's settings with the request's "ga"
// overrides. A bad override is an *InputError naming its "ga" key.
func (req *CompileRequest) gaOptions(method string) (partition.GAOptions, error) {
	if method != MethodCompass {
		return partition.GAOptions{}, &InputError{Field: "methods", Err: fmt.Errorf("method %q is not a genetic algorithm: only %s takes GA settings", method, MethodCompass)}
	}
	o := partition.PaperGAOptions(req.Seed)
	if s := req.GA; s != nil {
		if s.Informed != nil {
			return o, &InputError{Field: "ga.informed", Err: errors.New(retiredGA)}
		}
		if s.MoveReach != nil {
			return o, &InputError{Field: "ga.move_reach", Err: errors.New(retiredGA)}
		}
		if s.Population != nil {
			o.Population = *s.Population
		}
		if s.Generations != nil {
			o.Generations = *s.Generations
		}
		if s.Keep != nil {
			o.Keep = *s.Keep
		}
		if s.Patience != nil {
			o.Patience = *s.Patience
		}
	}
	if err := o.Check(); err != nil {
		var oe *partition.OptionError
		if errors.As(err, &oe) {
			return o, &InputError{Field: "ga." + oe.Field, Err: err}
		}
		return o, &InputError{Field: "ga", Err: err}
	}
	return o, nil
}

// checkMethodWork refuses, before any search, a method whose work over
// the model's units exceeds the limits.
func (req *CompileRequest) checkMethodWork(methods []string, units int64, lim Limits) error {
	if req.Refine != 0 && !slices.Contains(methods, MethodOptimalSim) {
		return &InputError{Field: "refine", Err: fmt.Errorf("refine = %d applies only to method %s, which is not among the methods %v: add %s or leave refine out",
			req.Refine, MethodOptimalSim, methods, MethodOptimalSim)}
	}
	for _, method := range methods {
		switch method {
		case MethodCompass:
			opt, err := req.gaOptions(method)
			if err != nil {
				return err
			}
			pop := int64(opt.Population)
			if err := overLimit(method+" GA plan cuts (population x units)", pop*units, lim.MaxGAPlanCuts, liftGAPlanCuts); err != nil {
				return err
			}
			if err := overLimit(method+" GA work (population x (generations+1) x units)", pop*int64(opt.Generations+1)*units, lim.MaxGAWork, liftGAWork); err != nil {
				return err
			}
		case MethodOptimalSim:
			if err := req.checkRefine(lim); err != nil {
				return err
			}
		}
	}
	return nil
}

// searches reports whether any method costs every valid span (the GA and
// the optimal searches do; greedy and layerwise cost only their plan's
// spans).
func searches(methods []string) bool {
	for _, m := range methods {
		if m != MethodGreedy && m != MethodLayerwise {
			return true
		}
	}
	return false
}

func runMethod(ctx context.Context, req *CompileRequest, est *estimate.Estimator, obj partition.Objective, method string) (*MethodResult, error) {
	var plan partition.Plan
	mr := &MethodResult{Method: method}
	switch method {
	case MethodGreedy:
		plan = partition.Greedy(est)
	case MethodLayerwise:
		plan = partition.Layerwise(est)
	case MethodCompass:
		opt, err := req.gaOptions(method)
		if err != nil {
			return nil, err
		}
		if req.Progress != nil {
			opt.Progress = func(g partition.Generation) { req.Progress(method, g) }
		}
		ga, err := partition.GA(ctx, est, obj, opt)
		if err != nil {
			return nil, err
		}
		plan = ga.Plan
		opt.Progress = nil
		mr.GA = &GAReport{Options: opt, History: ga.History, StoppedEarly: ga.StoppedEarly}
	case MethodOptimal:
		op, err := partition.Optimal(ctx, est, obj)
		if err != nil {
			return nil, frontLimit(err)
		}
		plan = op.Plan
		b := float64(est.Batch())
		for _, p := range op.Pareto {
			mr.Pareto = append(mr.Pareto, ParetoPointResult{EnergyPerInferenceJ: p.EnergyPJ * pJToJ / b,
				LatencyS: p.TimeNs * nsToS, Partitions: p.Plan.Partitions(), Cuts: p.Plan.Cuts})
		}
	case MethodOptimalSim:
		p, err := refine(ctx, req, est, obj, mr)
		if err != nil {
			return nil, frontLimit(err)
		}
		plan = p
	}
	tot, spans, err := partition.Evaluate(est, plan)
	if err != nil {
		return nil, &InternalError{Stage: method + " plan", Err: err}
	}
	if err := trafficWithin(est.Batch(), spans); err != nil {
		return nil, err
	}
	if err := fillMethod(mr, est, plan, tot, spans); err != nil {
		return nil, &InternalError{Stage: method + " placement", Err: err}
	}
	if err := checkOutputs("estimate ("+method+")", mr); err != nil {
		return nil, err
	}
	return mr, nil
}

// frontLimit turns an EDP optimum's Pareto fronts grown past their fixed
// bound (*partition.FrontError) into a *LimitError; other errors pass.
func frontLimit(err error) error {
	var fe *partition.FrontError
	if !errors.As(err, &fe) {
		return err
	}
	what := "Pareto points of one prefix in the exact EDP optimum"
	if fe.Total {
		what = "Pareto points over all prefixes in the exact EDP optimum"
	}
	return &LimitError{What: what, Need: int64(fe.Points), Limit: int64(fe.Limit),
		Lift: "nothing (the bound is fixed): use the compass method, or the latency or energy objective"}
}
