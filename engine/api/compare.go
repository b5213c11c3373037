package api

// Comparison is one method's figures relative to the other methods run
// on the same configuration: what the CLI's comparison table, the page's
// summary cards and a sweep's summary show. A field is absent (nil) when
// its reference method was not run.
type Comparison struct {
	Method string `json:"method"`
	// VsGreedy and VsLayerwise are the method's throughput over the
	// baseline's (above 1: faster).
	VsGreedy    *float64 `json:"vs_greedy,omitempty"`
	VsLayerwise *float64 `json:"vs_layerwise,omitempty"`
	// EDPGainVsGreedy is greedy's EDP over the method's (above 1: better).
	EDPGainVsGreedy *float64 `json:"edp_gain_vs_greedy,omitempty"`
	// GapToOptimal is the method's value of the objective over the
	// optimal method's, minus 1 (0: optimal).
	GapToOptimal *float64 `json:"gap_to_optimal,omitempty"`
}

// Compare compares every method of the result with the baselines and the
// optimum run beside it, under the result's objective.
func (r *CompileResult) Compare() []Comparison {
	figs := make([]SweepFigure, len(r.Results))
	for i := range r.Results {
		figs[i] = figure(&r.Results[i])
	}
	return compare(r.Objective, figs)
}

// compare compares each figure with greedy's, layerwise's and optimal's
// among figs.
func compare(objective string, figs []SweepFigure) []Comparison {
	find := func(method string) *SweepFigure {
		for i := range figs {
			if figs[i].Method == method {
				return &figs[i]
			}
		}
		return nil
	}
	gr, lw, op := find(MethodGreedy), find(MethodLayerwise), find(MethodOptimal)
	ratio := func(v float64) *float64 { return &v }
	out := make([]Comparison, len(figs))
	for i := range figs {
		f := &figs[i]
		c := Comparison{Method: f.Method}
		if gr != nil {
			c.VsGreedy = ratio(f.ThroughputPerS / gr.ThroughputPerS)
			c.EDPGainVsGreedy = ratio(gr.EDPJS / f.EDPJS)
		}
		if lw != nil {
			c.VsLayerwise = ratio(f.ThroughputPerS / lw.ThroughputPerS)
		}
		if op != nil {
			c.GapToOptimal = ratio(f.objective(objective)/op.objective(objective) - 1)
		}
		out[i] = c
	}
	return out
}
