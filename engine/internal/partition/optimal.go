package partition

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/compass-go/compass/engine/internal/estimate"
)

// ParetoPoint is one non-dominated partitioning of the whole network in
// (energy, time) per batch: no other partitioning is at least as good in
// both and better in one.
type ParetoPoint struct {
	EnergyPJ float64
	TimeNs   float64
	Plan     Plan
}

// OptimalResult is the exact optimum and, for EDP, the Pareto front it was
// chosen from.
type OptimalResult struct {
	Plan   Plan
	Pareto []ParetoPoint // EDP only: the whole front, by increasing energy
	Spans  int           // span evaluations performed
}

// maxFront bounds the Pareto front kept at any prefix, and maxFrontTotal
// the points kept over all prefixes (32 bytes each: 256 MiB), so that a
// pathological cost model cannot exhaust memory; exceeding either is
// reported as a *FrontError rather than silently losing exactness.
const (
	maxFront      = 1 << 16
	maxFrontTotal = 1 << 23
)

// FrontError reports an EDP optimum whose Pareto fronts grew past the
// bounds above: Points is the count reached, Limit the bound, Total whether
// it is the count over all prefixes (else one prefix's front).
type FrontError struct {
	Points, Limit int
	Total         bool
}

func (e *FrontError) Error() string {
	what := "one prefix's Pareto front"
	if e.Total {
		what = "the Pareto fronts of all prefixes"
	}
	return fmt.Sprintf("the exact EDP optimum needs %s to hold %d points, over the bound of %d: use the compass method, or the latency or energy objective", what, e.Points, e.Limit)
}

// Optimal returns the plan that minimises the objective exactly over all
// partitionings into valid contiguous spans.
//
// For latency and energy, which are sums over partitions, it is the
// shortest-path dynamic programme best[b] = min over valid [a, b) of
// best[a] + cost(a, b): O(units x longest valid span) span evaluations.
//
// For EDP = (sum of energies) x (sum of times) the sum structure is lost,
// so it keeps, for every prefix [0, b), the Pareto front of (energy, time)
// pairs over partitionings of that prefix. Any optimal plan's prefix is on
// its prefix's front (replacing it by a dominating prefix cannot raise
// either sum), so the minimum of energy x time over the final front is the
// exact optimum, and the final front itself is the energy/time trade-off
// curve of the network on this chip.
func Optimal(ctx context.Context, e *estimate.Estimator, o Objective) (*OptimalResult, error) {
	if o == EDP {
		return optimalEDP(ctx, e)
	}
	n := e.NumUnits()
	best := make([]float64, n+1)
	from := make([]int, n+1)
	for i := range best {
		best[i] = math.Inf(1)
	}
	best[0] = 0
	for b := 1; b <= n; b++ {
		from[b] = -1 // not reached yet
	}
	res := &OptimalResult{}
	for a := 0; a < n; a++ {
		if a%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		row := e.Costs(a)
		for b := a + 1; b <= e.MaxEnd(a); b++ {
			c := best[a] + spanCost(o, row[b-a-1])
			res.Spans++
			// The first path to b is kept whatever its cost (an infinite
			// or NaN cost compares false), so the plan is always a valid
			// partitioning; a non-finite cost then shows in its figures.
			if from[b] < 0 || c < best[b] {
				best[b] = c
				from[b] = a
			}
		}
	}
	res.Plan = tracePlan(from, n)
	return res, nil
}

func tracePlan(from []int, n int) Plan {
	var rev []int
	for b := n; b > 0; b = from[b] {
		rev = append(rev, b)
	}
	cuts := make([]int, 0, len(rev)+1)
	cuts = append(cuts, 0)
	for i := len(rev) - 1; i >= 0; i-- {
		cuts = append(cuts, rev[i])
	}
	return Plan{Cuts: cuts}
}

// frontPoint is a Pareto point of a prefix with a back-pointer.
type frontPoint struct {
	energy, time float64
	prev         int // the prefix end before the last span
	prevIdx      int // index of the point in front[prev]
}

func optimalEDP(ctx context.Context, e *estimate.Estimator) (*OptimalResult, error) {
	n := e.NumUnits()
	fronts := make([][]frontPoint, n+1)
	fronts[0] = []frontPoint{{prev: -1}}
	res := &OptimalResult{}
	maxLen := 0
	for a := 0; a < n; a++ {
		maxLen = max(maxLen, e.MaxEnd(a)-a)
	}
	var cand []frontPoint
	total := 1
	for b := 1; b <= n; b++ {
		if (b-1)%16 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cand = cand[:0]
		for a := max(0, b-maxLen); a < b; a++ {
			if e.MaxEnd(a) < b {
				continue
			}
			s := e.Costs(a)[b-a-1]
			res.Spans++
			for i, p := range fronts[a] {
				cand = append(cand, frontPoint{p.energy + s.EnergyPJ, p.time + s.TimeNs, a, i})
			}
		}
		f, err := prune(cand)
		if err != nil {
			return nil, fmt.Errorf("EDP search at unit %d: %w", b, err)
		}
		fronts[b] = f
		if total += len(f); total > maxFrontTotal {
			return nil, fmt.Errorf("EDP search at unit %d: %w", b, &FrontError{Points: total, Limit: maxFrontTotal, Total: true})
		}
	}
	final := fronts[n]
	bestI := 0
	for i, p := range final {
		if p.energy*p.time < final[bestI].energy*final[bestI].time {
			bestI = i
		}
	}
	trace := func(i int) Plan {
		var rev []int
		b := n
		for b > 0 {
			rev = append(rev, b)
			p := fronts[b][i]
			b, i = p.prev, p.prevIdx
		}
		cuts := []int{0}
		for k := len(rev) - 1; k >= 0; k-- {
			cuts = append(cuts, rev[k])
		}
		return Plan{Cuts: cuts}
	}
	res.Plan = trace(bestI)
	for i, p := range final {
		res.Pareto = append(res.Pareto, ParetoPoint{EnergyPJ: p.energy, TimeNs: p.time, Plan: trace(i)})
	}
	return res, nil
}

// prune keeps the non-dominated points, sorted by increasing energy (and
// so decreasing time). Among exact ties the earliest candidate is kept, so
// the result is deterministic.
func prune(pts []frontPoint) ([]frontPoint, error) {
	sort.SliceStable(pts, func(i, j int) bool {
		if pts[i].energy != pts[j].energy {
			return pts[i].energy < pts[j].energy
		}
		return pts[i].time < pts[j].time
	})
	out := pts[:0]
	bestTime := math.Inf(1)
	for _, p := range pts {
		// The first point is kept even when its time is infinite or NaN,
		// so every prefix keeps a (valid) partitioning.
		if p.time < bestTime || len(out) == 0 {
			out = append(out, p)
			bestTime = p.time
		}
	}
	if len(out) > maxFront {
		return nil, &FrontError{Points: len(out), Limit: maxFront}
	}
	return append([]frontPoint(nil), out...), nil
}
