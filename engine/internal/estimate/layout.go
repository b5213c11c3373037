package estimate

import (
	"fmt"

	"github.com/compass-go/compass/engine/internal/layout"
)

// Layout lays out the plan with the given cuts (0 = c0 < ... < ck =
// units): each partition's replication as the estimator chose it when it
// costed the span, placed by the placement policy whose packing rule the
// estimator checked.
func (e *Estimator) Layout(cuts []int) (*layout.Layout, error) {
	if len(cuts) < 2 {
		return nil, fmt.Errorf("a plan needs at least two cuts (0 and %d), not %v", len(e.m.Units), cuts)
	}
	spans := make([]layout.Span, 0, len(cuts)-1)
	for i := 0; i+1 < len(cuts); i++ {
		s, err := e.Span(cuts[i], cuts[i+1])
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", i, err)
		}
		reps := make([]int, len(s.Layers))
		for k, lp := range s.Layers {
			reps[k] = lp.Replicas
		}
		spans = append(spans, layout.Span{Start: s.Start, End: s.End, Replicas: reps})
	}
	return layout.New(e.m, spans, e.policy)
}
