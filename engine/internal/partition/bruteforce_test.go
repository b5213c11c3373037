package partition_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model"
)

// randInstance is a small random network mapped on a small random chip.
type randInstance struct {
	name     string
	m        *mapping.Mapping
	residual bool // has a residual Add joining a block's input
	head     bool // ends in Flatten + Linear
}

// randomChip derives a small valid chip from preset S: 1-4 cores of 1-4
// crossbars of 16-64 rows and columns, 1/2/4-bit cells, 4/8-bit weights.
func randomChip(t testing.TB, rng *rand.Rand, name string) *hw.Chip {
	t.Helper()
	chip, err := hw.Preset("S")
	if err != nil {
		t.Fatal(err)
	}
	dims := []int{16, 32, 64}
	chip.Name = name
	chip.Cores = 1 + rng.IntN(4)
	chip.CrossbarsPerCore = 1 + rng.IntN(4)
	chip.CrossbarRows = dims[rng.IntN(len(dims))]
	chip.CrossbarCols = dims[rng.IntN(len(dims))]
	chip.BitsPerCell = []int{1, 2, 4}[rng.IntN(3)]
	chip.WeightBits = []int{4, 8}[rng.IntN(2)]
	// One row at a time, one ADC per crossbar: both within any size above.
	chip.CrossbarWriteParallelRows = 1
	chip.ADCsPerCrossbar = 1
	if err := chip.Validate(); err != nil {
		t.Fatalf("random chip %s is invalid (generator bug): %v", name, err)
	}
	return chip
}

// randomChannels draws a channel count from 1..64, favouring small ones.
func randomChannels(rng *rand.Rand) int {
	if rng.IntN(2) == 0 {
		return 1 + rng.IntN(8)
	}
	return 1 + rng.IntN(64)
}

// randomNetwork builds a chain of 2-5 Conv/Linear layers on a [c,h,h]
// input: convolutions (kernel 1 or 3, stride 1 or 2) with optional
// BatchNorm, ReLU and MaxPool after them, optionally one residual block
// (two convolutions whose output is added to the block input), and
// optionally a Flatten + Linear head.
func randomNetwork(rng *rand.Rand, name string) (g *model.Graph, residual, head bool, err error) {
	b := model.NewBuilder(name)
	c := 1 + rng.IntN(16)
	h := 4 + rng.IntN(9)
	x := b.Input("input", c, h, h)
	layers := 2 + rng.IntN(4)
	head = rng.IntN(3) == 0
	convs := layers
	if head {
		convs--
	}
	for i := 0; i < convs; {
		if convs-i >= 2 && !residual && rng.IntN(3) == 0 {
			k := []int{1, 3}[rng.IntN(2)]
			skip := x
			y := b.Conv("", x, model.Conv2D(c, k, 1, k/2))
			if rng.IntN(2) == 0 {
				y = b.Unary(model.OpBatchNorm, "", y)
			}
			y = b.Unary(model.OpReLU, "", y)
			y = b.Conv("", y, model.Conv2D(c, k, 1, k/2))
			if rng.IntN(2) == 0 {
				y = b.Unary(model.OpBatchNorm, "", y)
			}
			x = b.Binary(model.OpAdd, "", skip, y)
			x = b.Unary(model.OpReLU, "", x)
			residual = true
			i += 2
			continue
		}
		out := randomChannels(rng)
		k := []int{1, 3}[rng.IntN(2)]
		stride := 1
		if h >= 6 && rng.IntN(4) == 0 {
			stride = 2
		}
		x = b.Conv("", x, model.Conv2D(out, k, stride, k/2))
		h = (h+2*(k/2)-k)/stride + 1
		c = out
		if rng.IntN(2) == 0 {
			x = b.Unary(model.OpBatchNorm, "", x)
		}
		if rng.IntN(2) == 0 {
			x = b.Unary(model.OpReLU, "", x)
		}
		if h >= 4 && rng.IntN(4) == 0 {
			x = b.Pool(model.OpMaxPool, "", x, model.Pool2D(2, 2, 0))
			h /= 2
		}
		i++
	}
	if head {
		if rng.IntN(2) == 0 {
			x = b.Unary(model.OpGlobalAvgPool, "", x)
		}
		x = b.Flatten("", x, 0)
		b.Linear("", x, 1+rng.IntN(32), rng.IntN(2) == 0)
	}
	g, err = b.Build()
	return g, residual, head, err
}

// randomInstances draws count instances with 2..12 partition units,
// deterministically from seed.
func randomInstances(t testing.TB, count int, seed uint64) []randInstance {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var out []randInstance
	const maxAttempts = 200000
	for attempt := 0; len(out) < count; attempt++ {
		if attempt == maxAttempts {
			t.Fatalf("only %d of %d random instances with 2..12 units after %d attempts", len(out), count, maxAttempts)
		}
		name := fmt.Sprintf("rand%d", attempt)
		chip := randomChip(t, rng, name+"-chip")
		g, residual, head, err := randomNetwork(rng, name)
		if err != nil {
			t.Fatalf("random network %s does not build (generator bug): %v", name, err)
		}
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatalf("random network %s does not map on %dx%d crossbars: %v", name, chip.CrossbarRows, chip.CrossbarCols, err)
		}
		if n := len(m.Units); n < 2 || n > 12 {
			continue
		}
		out = append(out, randInstance{name: name, m: m, residual: residual, head: head})
	}
	return out
}

// scored is one enumerated partitioning and its totals.
type scored struct {
	cuts []int
	tot  partition.Totals
}

// enumerate returns every valid partitioning of e, found by depth-first
// search through the validity map, with its totals from Evaluate.
func enumerate(t testing.TB, e *estimate.Estimator) []scored {
	t.Helper()
	n := e.NumUnits()
	var out []scored
	cuts := []int{0}
	var walk func(a int)
	walk = func(a int) {
		if a == n {
			c := slices.Clone(cuts)
			tot, _, err := partition.Evaluate(e, partition.Plan{Cuts: c})
			if err != nil {
				t.Fatalf("Evaluate(%v): %v", c, err)
			}
			out = append(out, scored{c, tot})
			return
		}
		for b := a + 1; b <= e.MaxEnd(a); b++ {
			cuts = append(cuts, b)
			walk(b)
			cuts = cuts[:len(cuts)-1]
		}
	}
	walk(0)
	return out
}

// dominates reports whether (e1, t1) is at least as good as (e2, t2) in
// both energy and time and better in one. The comparison is exact: Optimal
// and Evaluate both sum a plan's spans from the first to the last, so the
// same plan gets bit-identical totals from both, and two plans whose times
// differ only by rounding (say one ulp) are legitimately both on the front.
func dominates(e1, t1, e2, t2 float64) bool {
	return e1 <= e2 && t1 <= t2 && (e1 < e2 || t1 < t2)
}

// exactFront is the set of distinct non-dominated (energy, time) pairs of
// the enumerated partitionings, by increasing energy.
func exactFront(all []scored) [][2]float64 {
	pts := make([][2]float64, len(all))
	for i, s := range all {
		pts[i] = [2]float64{s.tot.EnergyPJ, s.tot.TimeNs}
	}
	slices.SortFunc(pts, func(a, b [2]float64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	var front [][2]float64
	for _, p := range pts {
		if len(front) == 0 || p[1] < front[len(front)-1][1] {
			front = append(front, p)
		}
	}
	return front
}

// TestOptimalMatchesBruteForce compares Optimal with exhaustive search on
// 600 random small networks and chips, for every objective at batch 1 and
// 4, and checks the EDP Pareto front against the exhaustive one. Greedy,
// Layerwise and a short GA run must be valid and never beat the optimum.
func TestOptimalMatchesBruteForce(t *testing.T) {
	insts := randomInstances(t, 600, 20250106)
	var stats struct {
		residual, head, constrained, splitLayers, multiLayer, partitionings, frontPts, multiFronts, nontrivial int
	}
	ctx := context.Background()
	for ii, in := range insts {
		m := in.m
		n := len(m.Units)
		if in.residual {
			stats.residual++
		}
		if in.head {
			stats.head++
		}
		if m.ValidEnds()[0] < n {
			stats.constrained++
		}
		if len(m.Layers) > 1 {
			stats.multiLayer++
		}
		for _, l := range m.Layers {
			if l.NumUnits > 1 {
				stats.splitLayers++
				break
			}
		}
		for _, batch := range []int{1, 4} {
			label := fmt.Sprintf("%s (%d layers, %d units, chip %dx%d of %dx%d, %d-bit cells, %d-bit weights) batch %d",
				in.name, len(m.Layers), n, m.Chip.Cores, m.Chip.CrossbarsPerCore, m.Chip.CrossbarRows, m.Chip.CrossbarCols,
				m.Chip.BitsPerCell, m.Chip.WeightBits, batch)
			e := newEstimator(t, m, batch)

			// Every span inside the validity map obeys the validity rules;
			// the first span past it is refused.
			for a := 0; a < n; a++ {
				if end := e.MaxEnd(a); end <= a || end > n {
					t.Fatalf("%s: MaxEnd(%d) = %d outside (%d, %d]", label, a, end, a, n)
				}
				for b := a + 1; b <= e.MaxEnd(a); b++ {
					s, err := e.Span(a, b)
					if err != nil {
						t.Fatalf("%s: Span(%d,%d): %v", label, a, b, err)
					}
					checkSpan(t, label, m, s, a, b)
				}
				if b := e.MaxEnd(a) + 1; b <= n {
					if _, err := e.Span(a, b); err == nil {
						t.Errorf("%s: Span(%d,%d) past MaxEnd %d was accepted", label, a, b, e.MaxEnd(a))
					}
				}
			}

			all := enumerate(t, e)
			stats.partitionings += len(all)
			for _, obj := range partition.Objectives() {
				best := all[0]
				for _, s := range all[1:] {
					if s.tot.Score(obj) < best.tot.Score(obj) {
						best = s
					}
				}
				want := best.tot.Score(obj)
				res, err := partition.Optimal(ctx, e, obj)
				if err != nil {
					t.Fatalf("%s %s: Optimal: %v", label, obj, err)
				}
				tot, ok := checkPlan(t, fmt.Sprintf("%s %s optimal", label, obj), e, res.Plan)
				if !ok {
					continue
				}
				if got := tot.Score(obj); !relClose(got, want, relTol) {
					t.Errorf("%s %s: Optimal plan %v scores %.12g, exhaustive minimum %.12g (plan %v) over %d partitionings",
						label, obj, res.Plan.Cuts, got, want, best.cuts, len(all))
				}
				if res.Spans <= 0 {
					t.Errorf("%s %s: Optimal reports %d span evaluations", label, obj, res.Spans)
				}

				// The baselines and a short GA run are valid and never beat
				// the exhaustive minimum.
				for _, alt := range []struct {
					name string
					plan partition.Plan
				}{{"greedy", partition.Greedy(e)}, {"layerwise", partition.Layerwise(e)}} {
					at, ok := checkPlan(t, label+" "+alt.name, e, alt.plan)
					if ok && !leq(want, at.Score(obj), relTol) {
						t.Errorf("%s %s: %s scores %.12g below the exhaustive minimum %.12g", label, obj, alt.name, at.Score(obj), want)
					}
				}
				opt := partition.GAOptions{Population: 12, Generations: 8, Keep: 3, Patience: 4,
					Seed: uint64(ii*10 + batch)}
				ga, err := partition.GA(ctx, e, obj, opt)
				if err != nil {
					t.Fatalf("%s %s: GA: %v", label, obj, err)
				}
				gt, ok := checkPlan(t, label+" ga "+string(obj), e, ga.Plan)
				if ok {
					if !relClose(ga.Score, gt.Score(obj), relTol) {
						t.Errorf("%s %s: GA Score %.12g but its plan %v evaluates to %.12g", label, obj, ga.Score, ga.Plan.Cuts, gt.Score(obj))
					}
					if !leq(want, ga.Score, relTol) {
						t.Errorf("%s %s: GA scores %.12g below the exhaustive minimum %.12g", label, obj, ga.Score, want)
					}
				}
				if obj == partition.Latency && !slices.Equal(res.Plan.Cuts, partition.Greedy(e).Cuts) {
					stats.nontrivial++
				}
				if obj == partition.EDP {
					stats.frontPts += len(res.Pareto)
					if len(res.Pareto) > 1 {
						stats.multiFronts++
					}
					checkFront(t, label, e, res, all)
				}
			}
		}
	}
	t.Logf("%d instances: %d with a residual add, %d with a linear head, %d with more than one layer, %d with a layer cut into several units, "+
		"%d where the whole network does not fit the chip; %d partitionings enumerated; %d EDP front points (%d fronts of 2 or more); Optimal differs from Greedy (latency) in %d of %d cases",
		len(insts), stats.residual, stats.head, stats.multiLayer, stats.splitLayers, stats.constrained, stats.partitionings, stats.frontPts, stats.multiFronts,
		stats.nontrivial, 2*len(insts))
	// The generator must exercise what the test is about.
	if stats.residual < 60 || stats.head < 60 || stats.constrained < 150 || stats.splitLayers < 150 || stats.nontrivial < 60 || stats.multiFronts < 20 {
		t.Errorf("random instances lack variety: %+v", stats)
	}
}

// checkFront checks the EDP Pareto front of res against the exhaustive
// set of partitionings all: sorted by increasing energy and decreasing
// time, each point's plan evaluating to it, no point dominated by any
// partitioning, and the front equal to the exhaustive front.
func checkFront(t *testing.T, label string, e *estimate.Estimator, res *partition.OptimalResult, all []scored) {
	t.Helper()
	front := res.Pareto
	if len(front) == 0 {
		t.Errorf("%s: empty EDP Pareto front", label)
		return
	}
	for i, p := range front {
		if i > 0 && !(p.EnergyPJ > front[i-1].EnergyPJ && p.TimeNs < front[i-1].TimeNs) {
			t.Errorf("%s: Pareto points %d (%v pJ, %v ns) and %d (%v pJ, %v ns) are not by increasing energy and decreasing time",
				label, i-1, front[i-1].EnergyPJ, front[i-1].TimeNs, i, p.EnergyPJ, p.TimeNs)
		}
		tot, ok := checkPlan(t, fmt.Sprintf("%s pareto %d", label, i), e, p.Plan)
		if ok && (!relClose(tot.EnergyPJ, p.EnergyPJ, relTol) || !relClose(tot.TimeNs, p.TimeNs, relTol)) {
			t.Errorf("%s: Pareto point %d says (%v pJ, %v ns) but its plan %v evaluates to (%v pJ, %v ns)",
				label, i, p.EnergyPJ, p.TimeNs, p.Plan.Cuts, tot.EnergyPJ, tot.TimeNs)
		}
		for _, q := range all {
			if dominates(q.tot.EnergyPJ, q.tot.TimeNs, p.EnergyPJ, p.TimeNs) {
				t.Errorf("%s: Pareto point %d (%v pJ, %v ns) is dominated by partitioning %v (%v pJ, %v ns)",
					label, i, p.EnergyPJ, p.TimeNs, q.cuts, q.tot.EnergyPJ, q.tot.TimeNs)
				break
			}
		}
		for j, r := range front {
			if i != j && dominates(r.EnergyPJ, r.TimeNs, p.EnergyPJ, p.TimeNs) {
				t.Errorf("%s: Pareto point %d dominates Pareto point %d", label, j, i)
			}
		}
	}
	// Optimal's plan is the front point of least energy x time.
	bestEDP := front[0].EnergyPJ * front[0].TimeNs
	for _, p := range front[1:] {
		bestEDP = min(bestEDP, p.EnergyPJ*p.TimeNs)
	}
	if tot, _, err := partition.Evaluate(e, res.Plan); err != nil || !relClose(tot.Score(partition.EDP), bestEDP, relTol) {
		t.Errorf("%s: EDP plan %v scores %v (err %v), best front point %v", label, res.Plan.Cuts, tot.Score(partition.EDP), err, bestEDP)
	}
	// The front is complete: it is exactly the exhaustive front.
	want := exactFront(all)
	if len(want) != len(front) {
		t.Errorf("%s: Pareto front has %d points, the exhaustive front %d: got %v, want %v", label, len(front), len(want), frontPairs(front), want)
		return
	}
	for i, w := range want {
		if !relClose(front[i].EnergyPJ, w[0], relTol) || !relClose(front[i].TimeNs, w[1], relTol) {
			t.Errorf("%s: Pareto point %d is (%v, %v), exhaustive (%v, %v)", label, i, front[i].EnergyPJ, front[i].TimeNs, w[0], w[1])
		}
	}
}

func frontPairs(f []partition.ParetoPoint) [][2]float64 {
	out := make([][2]float64, len(f))
	for i, p := range f {
		out[i] = [2]float64{p.EnergyPJ, p.TimeNs}
	}
	return out
}
