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
	MethodCompass      = "compass"       // the GA with this project's defaults (partition.DefaultGAOptions)
	MethodCompassPaper = "compass-paper" // the GA with the paper's settings (partition.PaperGAOptions)
	MethodGreedy       = "greedy"
	MethodLayerwise    = "layerwise"
	MethodOptimal      = "optimal"
)

// Methods lists every method in the order results are reported.
func Methods() []string {
	return []string{MethodGreedy, MethodLayerwise, MethodCompassPaper, MethodCompass, MethodOptimal}
}

// ParseMethods expands a comma-separated method list; "all" means every
// method.
func ParseMethods(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("no method given: use one or more of %s, or all", strings.Join(Methods(), ", "))
	}
	var out []string
	for _, m := range strings.Split(spec, ",") {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "all" {
			return Methods(), nil
		}
		if !slices.Contains(Methods(), m) {
			return nil, fmt.Errorf("method %q is not one of %s, all", m, strings.Join(Methods(), ", "))
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	// Report in the canonical order whatever order they were asked in.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Methods(), a) - slices.Index(Methods(), b) })
	return out, nil
}

// GASettings override the GA options of the compass method (nil fields
// keep DefaultGAOptions).
type GASettings struct {
	Population  *int  `json:"population,omitempty"`
	Generations *int  `json:"generations,omitempty"`
	Keep        *int  `json:"keep,omitempty"`
	Patience    *int  `json:"patience,omitempty"`
	Informed    *bool `json:"informed,omitempty"`
	MoveReach   *int  `json:"move_reach,omitempty"`
}

func (req *CompileRequest) gaOptions(method string) (partition.GAOptions, error) {
	if method == MethodCompassPaper {
		return partition.PaperGAOptions(req.Seed), nil
	}
	o := partition.DefaultGAOptions(req.Seed)
	if s := req.GA; s != nil {
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
		if s.Informed != nil {
			o.Informed = *s.Informed
		}
		if s.MoveReach != nil {
			o.MoveReach = *s.MoveReach
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
	for _, method := range methods {
		switch method {
		case MethodCompass, MethodCompassPaper:
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
		}
	}
	return nil
}

// searches reports whether any method costs every valid span (the GA and
// the optimum do; greedy and layerwise cost only their plan's spans).
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
	case MethodCompass, MethodCompassPaper:
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
			var fe *partition.FrontError
			if errors.As(err, &fe) {
				what := "Pareto points of one prefix in the exact EDP optimum"
				if fe.Total {
					what = "Pareto points over all prefixes in the exact EDP optimum"
				}
				return nil, &LimitError{What: what, Need: int64(fe.Points), Limit: int64(fe.Limit),
					Lift: "nothing (the bound is fixed): use the compass method, or the latency or energy objective"}
			}
			return nil, err
		}
		plan = op.Plan
		b := float64(est.Batch())
		for _, p := range op.Pareto {
			mr.Pareto = append(mr.Pareto, ParetoPointResult{EnergyPerInferenceJ: p.EnergyPJ * pJToJ / b,
				LatencyS: p.TimeNs * nsToS, Partitions: p.Plan.Partitions(), Cuts: p.Plan.Cuts})
		}
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
