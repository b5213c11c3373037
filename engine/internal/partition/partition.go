// Package partition chooses where to cut a network's sequence of partition
// units so that each partition fits the chip: the paper's two baselines
// (greedy and layerwise), the COMPASS genetic algorithm as the paper
// publishes it (GA, PaperGAOptions), the exact optimum by dynamic
// programming (Optimal), and the k best plans (KBest) for checking the
// estimator's choice on the simulator.
//
// The estimator costs each partition (a span [a, b) of units) on its own:
// a span's time and energy do not depend on its neighbours. Partitioning
// is then a shortest path from unit 0 to unit n over the cut graph, whose
// nodes are the cut positions and whose edges are the valid spans, and the
// dynamic programme in Optimal solves it exactly in milliseconds on the
// whole zoo (EDP, a product of two sums, needs a Pareto front per node,
// still exact). The GA is reproduced for fidelity to the paper and for
// comparison, not because the problem needs a heuristic.
//
// Every method draws partitions only through the validity map
// (estimate.Estimator.MaxEnd), so every partitioning it returns is valid,
// and every method is costed by the same estimator.
package partition

import (
	"fmt"
	"strings"

	"github.com/compass-go/compass/engine/internal/estimate"
)

// Objective is what a search minimises.
type Objective string

// Objectives.
const (
	// Latency minimises the time of one batch through all partitions,
	// which maximises throughput (batch / time).
	Latency Objective = "latency"
	// Energy minimises the energy of one batch (so per inference).
	Energy Objective = "energy"
	// EDP minimises energy per inference x time per inference (J x s).
	// It is a product of two sums over partitions, not a sum, so the exact
	// optimum needs a Pareto-front search (see Optimal).
	EDP Objective = "edp"
)

// Objectives lists the objectives in a stable order.
func Objectives() []Objective { return []Objective{Latency, Energy, EDP} }

// ParseObjective checks an objective name.
func ParseObjective(s string) (Objective, error) {
	for _, o := range Objectives() {
		if string(o) == strings.ToLower(s) {
			return o, nil
		}
	}
	return "", fmt.Errorf("objective %q is not one of latency, energy, edp", s)
}

// Plan is a partitioning: Cuts[0] = 0 < Cuts[1] < ... < Cuts[k] = units;
// partition i is the span [Cuts[i], Cuts[i+1]).
type Plan struct {
	Cuts []int
}

// Partitions is the number of partitions.
func (p Plan) Partitions() int { return len(p.Cuts) - 1 }

// Totals are a plan's figures for one batch.
type Totals struct {
	TimeNs   float64         // batch time through all partitions
	EnergyPJ float64         // batch energy
	Energy   estimate.Energy // batch energy by component
	Batch    int
}

// ThroughputPerS is inferences per second.
func (t Totals) ThroughputPerS() float64 { return float64(t.Batch) / (t.TimeNs * 1e-9) }

// EnergyPerInferenceJ is the energy of one inference in joules.
func (t Totals) EnergyPerInferenceJ() float64 { return t.EnergyPJ * 1e-12 / float64(t.Batch) }

// EDPJS is the energy-delay product per inference: energy per inference
// (J) x time per inference (s), the time per inference being batch time
// divided by batch size (the inverse of throughput).
func (t Totals) EDPJS() float64 {
	return t.EnergyPerInferenceJ() * t.TimeNs * 1e-9 / float64(t.Batch)
}

// Score is the value the objective minimises.
func (t Totals) Score(o Objective) float64 {
	switch o {
	case Energy:
		return t.EnergyPJ
	case EDP:
		return t.EnergyPJ * t.TimeNs
	}
	return t.TimeNs
}

// Evaluate costs a plan. It checks that the plan is a valid partitioning.
func Evaluate(e *estimate.Estimator, p Plan) (Totals, []*estimate.Span, error) {
	n := e.NumUnits()
	if len(p.Cuts) < 2 || p.Cuts[0] != 0 || p.Cuts[len(p.Cuts)-1] != n {
		return Totals{}, nil, fmt.Errorf("plan cuts %v must run from 0 to %d", p.Cuts, n)
	}
	t := Totals{Batch: e.Batch()}
	spans := make([]*estimate.Span, 0, len(p.Cuts)-1)
	for i := 0; i+1 < len(p.Cuts); i++ {
		s, err := e.Span(p.Cuts[i], p.Cuts[i+1])
		if err != nil {
			return Totals{}, nil, fmt.Errorf("partition %d: %w", i, err)
		}
		t.TimeNs += s.TimeNs
		t.EnergyPJ += s.EnergyPJ
		t.Energy.Add(s.Energy)
		spans = append(spans, s)
	}
	return t, spans, nil
}

// spanCost is an additive objective's cost of one span.
func spanCost(o Objective, s estimate.SpanCost) float64 {
	if o == Energy {
		return s.EnergyPJ
	}
	return s.TimeNs
}
