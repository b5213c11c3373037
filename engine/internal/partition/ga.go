package partition

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/compass-go/compass/engine/internal/estimate"
)

// GAOptions are the settings of the COMPASS genetic algorithm. The zero
// value is not usable; start from PaperGAOptions.
type GAOptions struct {
	Population  int    `json:"population"`  // individuals per generation (paper: 100)
	Generations int    `json:"generations"` // generations after the initial one (paper: 30)
	Keep        int    `json:"keep"`        // best individuals kept each generation, n_sel (paper: 20)
	Patience    int    `json:"patience"`    // stop after this many generations without a better best; 0 = never stop early
	Seed        uint64 `json:"seed"`        // all randomness comes from this seed

	// Progress, if set, is called after every generation (the initial
	// population is generation 0).
	Progress func(Generation) `json:"-"`
}

// PaperGAOptions are the paper's settings: population 100, 30 generations,
// 20 kept, 80 mutants. The paper gives no early-stopping rule; ours stops
// after 10 generations without improvement of the best fitness (the paper
// reports the best partition count settling by generation 9-10).
func PaperGAOptions(seed uint64) GAOptions {
	return GAOptions{Population: 100, Generations: 30, Keep: 20, Patience: 10, Seed: seed}
}

// OptionError is a GA option out of its range: Field is its JSON key
// ("population", "keep", ...).
type OptionError struct {
	Field string
	Msg   string
}

func (e *OptionError) Error() string { return "ga " + e.Field + " = " + e.Msg }

// Check validates the options; an error is an *OptionError naming the
// field at fault.
func (o GAOptions) Check() error {
	bad := func(field string, format string, args ...any) error {
		return &OptionError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case o.Population < 2 || o.Population > 100000:
		return bad("population", "%d: must be from 2 to 100000", o.Population)
	case o.Keep < 1 || o.Keep >= o.Population:
		return bad("keep", "%d: must be from 1 to population-1 = %d", o.Keep, o.Population-1)
	case o.Generations < 0 || o.Generations > 100000:
		return bad("generations", "%d: must be from 0 to 100000", o.Generations)
	case o.Patience < 0:
		return bad("patience", "%d: must be 0 (never stop early) or positive", o.Patience)
	}
	return nil
}

// Generation summarises one generation for convergence plots.
type Generation struct {
	Index          int     `json:"index"`
	BestScore      float64 `json:"best_score"` // objective value of the best individual
	MeanScore      float64 `json:"mean_score"`
	BestPartitions int     `json:"best_partitions"`
	MeanPartitions float64 `json:"mean_partitions"`
}

// GAResult is the GA's answer and its history.
type GAResult struct {
	Plan         Plan
	Score        float64
	History      []Generation
	StoppedEarly bool
}

// Mutation kinds, drawn with equal probability.
const (
	mutMerge = iota
	mutSplit
	mutMove
	mutFixedRandom
	numMutations
)

type individual struct {
	cuts  []int
	costs []float64 // per-partition cost f(P) used for mutation targeting
	score float64
}

// gaRun holds the state of one GA run.
type gaRun struct {
	e   *estimate.Estimator
	obj Objective
	rng *rand.Rand
	n   int
	exp []float64 // prefix sums of the population-expected cost per unit
}

// GA runs the COMPASS genetic algorithm without crossover, as the paper
// describes it: individuals are partitionings drawn at random through the
// validity map (never seeded with another method's answer); each
// generation keeps the best Keep and fills the population with mutants of
// parents drawn from them with replacement. A mutant changes one partition
// of its parent: the one whose cost is worst relative to what the
// population spends on the same units (score R = f(P) / expected(P), the
// expected cost of a span being the population average of each unit's
// share of its partition's cost). The four mutations are equally likely:
// merge the worst-scoring valid neighbouring pair, split the target at a
// random point, move one unit across one of its boundaries, or keep the
// best-scoring partition and redraw all others at random. A mutation that
// cannot apply (a one-unit partition cannot split; no neighbour pair can
// merge validly) falls back to the fixed-random mutation.
//
// Fitness is the objective summed over partitions (latency, energy); for
// EDP it is total energy x total time, and a partition's cost for
// targeting is its share E(P)/E + T(P)/T (the gradient of log EDP).
func GA(ctx context.Context, e *estimate.Estimator, obj Objective, opt GAOptions) (*GAResult, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	r := &gaRun{e: e, obj: obj, n: e.NumUnits(),
		rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))}
	r.exp = make([]float64, r.n+1)
	pop := make([]*individual, opt.Population)
	for i := range pop {
		pop[i] = r.evaluate(r.randomCuts(nil, 0, r.n))
	}
	res := &GAResult{}
	sortPopulation(pop)
	res.History = append(res.History, summarise(0, pop))
	if opt.Progress != nil {
		opt.Progress(res.History[0])
	}
	best, stale := pop[0].score, 0
	for gen := 1; gen <= opt.Generations; gen++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.expectations(pop)
		next := make([]*individual, 0, opt.Population)
		next = append(next, pop[:opt.Keep]...)
		for len(next) < opt.Population {
			parent := pop[r.rng.IntN(opt.Keep)]
			next = append(next, r.mutate(parent))
		}
		pop = next
		sortPopulation(pop)
		g := summarise(gen, pop)
		res.History = append(res.History, g)
		if opt.Progress != nil {
			opt.Progress(g)
		}
		if pop[0].score < best {
			best, stale = pop[0].score, 0
		} else if stale++; opt.Patience > 0 && stale >= opt.Patience {
			res.StoppedEarly = gen < opt.Generations
			break
		}
	}
	res.Plan = Plan{Cuts: slices.Clone(pop[0].cuts)}
	res.Score = pop[0].score
	return res, nil
}

// sortPopulation orders by score, then fewer partitions, then cuts, so the
// order (and the run) is deterministic.
func sortPopulation(pop []*individual) {
	slices.SortStableFunc(pop, func(a, b *individual) int {
		switch {
		case a.score < b.score:
			return -1
		case a.score > b.score:
			return 1
		}
		if d := len(a.cuts) - len(b.cuts); d != 0 {
			return d
		}
		return slices.Compare(a.cuts, b.cuts)
	})
}

func summarise(gen int, pop []*individual) Generation {
	g := Generation{Index: gen, BestScore: pop[0].score, BestPartitions: len(pop[0].cuts) - 1}
	for _, p := range pop {
		g.MeanScore += p.score
		g.MeanPartitions += float64(len(p.cuts) - 1)
	}
	g.MeanScore /= float64(len(pop))
	g.MeanPartitions /= float64(len(pop))
	return g
}

// randomCuts appends to cuts a random partitioning of [from, to) drawn
// through the validity map: each partition's end is uniform among the
// valid ends that do not pass `to`.
func (r *gaRun) randomCuts(cuts []int, from, to int) []int {
	if len(cuts) == 0 {
		cuts = append(cuts, from)
	}
	for x := from; x < to; {
		hi := min(r.e.MaxEnd(x), to)
		x += 1 + r.rng.IntN(hi-x)
		cuts = append(cuts, x)
	}
	return cuts
}

func (r *gaRun) evaluate(cuts []int) *individual {
	ind := &individual{cuts: cuts, costs: make([]float64, len(cuts)-1)}
	var te, tt float64
	for i := 0; i+1 < len(cuts); i++ {
		c := r.row(cuts[i])[cuts[i+1]-cuts[i]-1]
		te += c.EnergyPJ
		tt += c.TimeNs
		if r.obj == Energy {
			ind.costs[i] = c.EnergyPJ
		} else {
			ind.costs[i] = c.TimeNs
		}
	}
	switch r.obj {
	case EDP:
		ind.score = te * tt
		for i := 0; i+1 < len(cuts); i++ {
			c := r.row(cuts[i])[cuts[i+1]-cuts[i]-1]
			ind.costs[i] = c.EnergyPJ/te + c.TimeNs/tt
		}
	case Energy:
		ind.score = te
	default:
		ind.score = tt
	}
	return ind
}

// expectations sets r.exp to prefix sums of the population-average cost
// share per unit: m_i(x) = f(P)/|P| for the partition P of individual i
// that holds unit x.
func (r *gaRun) expectations(pop []*individual) {
	diff := r.exp // reuse: difference array first, prefix sums after
	clear(diff)
	for _, ind := range pop {
		for i := 0; i+1 < len(ind.cuts); i++ {
			a, b := ind.cuts[i], ind.cuts[i+1]
			m := ind.costs[i] / float64(b-a)
			diff[a] += m
			diff[b] -= m
		}
	}
	// diff -> per-unit average -> prefix sums, in place.
	run, cum := 0.0, 0.0
	k := float64(len(pop))
	for x := 0; x < r.n; x++ {
		run += diff[x]
		diff[x] = cum
		cum += run / k
	}
	diff[r.n] = cum
}

func (r *gaRun) expected(a, b int) float64 { return r.exp[b] - r.exp[a] }

// ratio is the mutation score R of partition i of ind.
func (r *gaRun) ratio(ind *individual, i int) float64 {
	ex := r.expected(ind.cuts[i], ind.cuts[i+1])
	if ex <= 0 {
		return 0
	}
	return ind.costs[i] / ex
}

func (r *gaRun) mutate(parent *individual) *individual {
	target, bestPart := 0, 0
	for i := range parent.costs {
		ri := r.ratio(parent, i)
		if ri > r.ratio(parent, target) {
			target = i
		}
		if ri < r.ratio(parent, bestPart) {
			bestPart = i
		}
	}
	var cuts []int
	switch r.rng.IntN(numMutations) {
	case mutMerge:
		cuts = r.merge(parent)
	case mutSplit:
		cuts = r.split(parent.cuts, target)
	case mutMove:
		cuts = r.move(parent.cuts, target)
	}
	if cuts == nil {
		cuts = r.fixedRandom(parent.cuts, bestPart)
	}
	return r.evaluate(cuts)
}

// merge joins the valid neighbouring pair with the worst combined score.
func (r *gaRun) merge(ind *individual) []int {
	c := ind.cuts
	pick, worst := -1, 0.0
	for i := 0; i+2 < len(c); i++ {
		if r.e.MaxEnd(c[i]) < c[i+2] {
			continue
		}
		ex := r.expected(c[i], c[i+2])
		if ex <= 0 {
			continue
		}
		if s := (ind.costs[i] + ind.costs[i+1]) / ex; pick < 0 || s > worst {
			pick, worst = i, s
		}
	}
	if pick < 0 {
		return nil
	}
	return slices.Delete(slices.Clone(c), pick+1, pick+2)
}

// split cuts partition i at a random interior point whose two halves are
// valid.
func (r *gaRun) split(c []int, i int) []int {
	a, b := c[i], c[i+1]
	if b-a < 2 {
		return nil
	}
	k := a + 1 + r.rng.IntN(b-a-1)
	if r.e.MaxEnd(k) < b { // [a,k) is a prefix of a valid span; check [k,b)
		return nil
	}
	return slices.Insert(slices.Clone(c), i+1, k)
}

// move shifts one boundary of partition i by one unit, in a random
// direction, when both partitions stay non-empty and valid.
func (r *gaRun) move(c []int, i int) []int {
	parts := len(c) - 1
	if parts < 2 {
		return nil
	}
	var bound int // index into c of the boundary to move
	switch {
	case i == 0:
		bound = 1
	case i == parts-1:
		bound = parts - 1
	case r.rng.IntN(2) == 0:
		bound = i
	default:
		bound = i + 1
	}
	delta := 1
	if r.rng.IntN(2) == 0 {
		delta = -1
	}
	nb := c[bound] + delta
	if nb <= c[bound-1] || nb >= c[bound+1] ||
		r.e.MaxEnd(c[bound-1]) < nb || r.e.MaxEnd(nb) < c[bound+1] {
		return nil
	}
	out := slices.Clone(c)
	out[bound] = nb
	return out
}

// fixedRandom keeps partition keep and redraws everything else.
func (r *gaRun) fixedRandom(c []int, keep int) []int {
	a, b := c[keep], c[keep+1]
	cuts := append(r.randomCuts(nil, 0, a), b)
	return r.randomCuts(cuts, b, r.n)
}

// row returns the energy and time of every valid span starting at a
// (index b-a-1), kept by the estimator in 16 bytes a span: a flat slice is
// much cheaper than the estimator's checked lookup, in WebAssembly
// especially.
func (r *gaRun) row(a int) []estimate.SpanCost { return r.e.Costs(a) }
