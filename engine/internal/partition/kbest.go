package partition

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/compass-go/compass/engine/internal/estimate"
)

// RankedPlan is one of the best plans by the estimator: the plan and its
// estimated objective value (Totals.Score).
type RankedPlan struct {
	Plan  Plan
	Score float64
}

// KBest returns up to k plans in order of increasing estimated objective:
// the runner-up plans the simulator can check the estimator's optimum
// against. Fewer than k come back when the network has fewer valid
// partitionings (or, for EDP, a smaller Pareto front).
//
// For latency and energy, which are sums over partitions, these are
// exactly the k shortest paths through the cut graph: a dynamic programme
// that keeps, at every cut position b, the k cheapest partitionings of
// the prefix [0, b) as labels (cost, previous cut, that cut's label). The
// k best paths to b extend k best paths to their previous cut (a path
// that is not among the k best to its previous cut has k cheaper ones
// there, each giving a cheaper path to b by the same last span), and two
// labels differ in their last span or in their prefix, so the paths are
// distinct. It extends k labels over every span, O(spans x k) candidates, each
// inserted into a rank-ordered list of k in O(k) (O(spans x k^2) in the
// worst case), and keeps (units+1) x k labels of memory. Ties keep the path found first (earlier previous cut, then its
// better label), so the ranking is deterministic.
//
// For EDP (energy x time, not a sum) the candidates are the plans of the
// exact Pareto front that Optimal computes, ranked by energy x time (ties
// in the front's order, by increasing energy): the first is Optimal's EDP
// plan, and every
// plan that is best for any weighting of energy against time is on the
// front, but a dominated plan can have a lower EDP than the front's k-th
// point, so for k > 1 these are the k best front plans, not the k best
// plans overall.
func KBest(ctx context.Context, e *estimate.Estimator, o Objective, k int) ([]RankedPlan, error) {
	if k < 1 {
		return nil, fmt.Errorf("k = %d: ask for at least one plan", k)
	}
	if o == EDP {
		return kBestFront(ctx, e, k)
	}
	return kShortestPaths(ctx, e, o, k)
}

// label is one partitioning of a prefix [0, b): its cost, the cut before
// its last span, and its index among that cut's labels.
type label struct {
	cost     float64
	from, at int
}

func kShortestPaths(ctx context.Context, e *estimate.Estimator, o Objective, k int) ([]RankedPlan, error) {
	n := e.NumUnits()
	labels := make([][]label, n+1)
	labels[0] = []label{{from: -1}}
	for a := 0; a < n; a++ {
		if a%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		prefix := labels[a]
		row := e.Costs(a)
		for b := a + 1; b <= e.MaxEnd(a); b++ {
			c := spanCost(o, row[b-a-1])
			for j, l := range prefix {
				// prefix is in rank order, so its extensions are too:
				// once one misses the k best at b, the rest do.
				if !insertLabel(&labels[b], label{l.cost + c, a, j}, k) {
					break
				}
			}
		}
	}
	out := make([]RankedPlan, 0, len(labels[n]))
	for i, l := range labels[n] {
		var rev []int
		for b, at := n, i; b > 0; {
			rev = append(rev, b)
			p := labels[b][at]
			b, at = p.from, p.at
		}
		rev = append(rev, 0)
		slices.Reverse(rev)
		out = append(out, RankedPlan{Plan: Plan{Cuts: rev}, Score: l.cost})
	}
	return out, nil
}

// ranksAfter reports whether cost x ranks after cost y: it is larger, or
// NaN where y is not (a NaN cost, from a broken cost model, ranks last
// instead of comparing false with everything).
func ranksAfter(x, y float64) bool {
	if math.IsNaN(x) {
		return !math.IsNaN(y)
	}
	return !math.IsNaN(y) && x > y
}

// insertLabel inserts l into list, which is in rank order, after every
// label that does not rank after it, keeping at most k; it reports whether
// l is among them.
func insertLabel(list *[]label, l label, k int) bool {
	s := *list
	i := len(s)
	for i > 0 && ranksAfter(s[i-1].cost, l.cost) {
		i--
	}
	if i >= k {
		return false
	}
	if len(s) < k {
		s = append(s, label{})
	}
	copy(s[i+1:], s[i:len(s)-1])
	s[i] = l
	*list = s
	return true
}

func kBestFront(ctx context.Context, e *estimate.Estimator, k int) ([]RankedPlan, error) {
	res, err := Optimal(ctx, e, EDP)
	if err != nil {
		return nil, err
	}
	out := make([]RankedPlan, len(res.Pareto))
	for i, p := range res.Pareto {
		out[i] = RankedPlan{Plan: p.Plan, Score: p.EnergyPJ * p.TimeNs}
	}
	slices.SortStableFunc(out, func(x, y RankedPlan) int {
		switch {
		case ranksAfter(x.Score, y.Score):
			return 1
		case ranksAfter(y.Score, x.Score):
			return -1
		}
		return 0
	})
	return out[:min(k, len(out))], nil
}
