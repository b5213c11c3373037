package partition_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/internal/partition"
)

// TestGADeterministic checks that a GA run is a function of its options:
// the same seed gives the same plan, score and history, whether the
// estimator is fresh or already warm, and for every objective.
func TestGADeterministic(t *testing.T) {
	ctx := context.Background()
	m := zooMapping(t, "resnet18", "M")
	for _, obj := range partition.Objectives() {
		opt := partition.PaperGAOptions(42)
		e1 := newEstimator(t, m, 4)
		r1, err := partition.GA(ctx, e1, obj, opt)
		if err != nil {
			t.Fatal(err)
		}
		// Same estimator, now warm.
		r2, err := partition.GA(ctx, e1, obj, opt)
		if err != nil {
			t.Fatal(err)
		}
		// A fresh estimator.
		r3, err := partition.GA(ctx, newEstimator(t, m, 4), obj, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(r1, r3) {
			t.Errorf("%s: two runs with seed 42 differ: plan %v / %v / %v, score %v / %v / %v, %d / %d / %d generations",
				obj, short(r1.Plan.Cuts), short(r2.Plan.Cuts), short(r3.Plan.Cuts), r1.Score, r2.Score, r3.Score,
				len(r1.History), len(r2.History), len(r3.History))
		}
		tot, ok := checkPlan(t, "ga "+string(obj), e1, r1.Plan)
		if ok && !relClose(tot.Score(obj), r1.Score, relTol) {
			t.Errorf("%s: GA Score %v but its plan evaluates to %v", obj, r1.Score, tot.Score(obj))
		}
		// Another seed is allowed to give another run; report it.
		r4, err := partition.GA(ctx, e1, obj, partition.PaperGAOptions(43))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: seed 42 score %.6g in %d generations, seed 43 score %.6g in %d generations (histories equal: %v)",
			obj, r1.Score, len(r1.History)-1, r4.Score, len(r4.History)-1, reflect.DeepEqual(r1.History, r4.History))
	}
}

// TestGAHistoryAndProgress checks the history and the Progress callback:
// one call per generation, indices 0, 1, 2, ..., the calls equal to the
// history, generation 0 the initial population (what a run of zero
// generations returns), a best score that never rises (the best
// individuals are kept), and early stopping after Patience generations
// without improvement.
func TestGAHistoryAndProgress(t *testing.T) {
	ctx := context.Background()
	m := zooMapping(t, "squeezenet1_1", "S")
	for _, obj := range partition.Objectives() {
		for _, opt := range []partition.GAOptions{
			partition.PaperGAOptions(5),
			{Population: 20, Generations: 25, Keep: 5, Patience: 0, Seed: 9},
			{Population: 20, Generations: 400, Keep: 5, Patience: 3, Seed: 9},
		} {
			label := fmt.Sprintf("%s pop %d gens %d keep %d patience %d", obj, opt.Population, opt.Generations, opt.Keep, opt.Patience)
			e := newEstimator(t, m, 2)
			var calls []partition.Generation
			opt.Progress = func(g partition.Generation) { calls = append(calls, g) }
			res, err := partition.GA(ctx, e, obj, opt)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			h := res.History
			if len(h) == 0 || len(h) > opt.Generations+1 {
				t.Fatalf("%s: history of %d generations", label, len(h))
			}
			if !reflect.DeepEqual(calls, h) {
				t.Errorf("%s: Progress was called %d times, history has %d entries (or they differ)", label, len(calls), len(h))
			}
			for i, g := range calls {
				if g.Index != i {
					t.Errorf("%s: Progress call %d has Index %d", label, i, g.Index)
					break
				}
			}
			for i, g := range h {
				if i > 0 && g.BestScore > h[i-1].BestScore {
					t.Errorf("%s: best score rose from %v to %v at generation %d", label, h[i-1].BestScore, g.BestScore, i)
				}
				if g.MeanScore < g.BestScore*(1-relTol) || g.BestPartitions < 1 || g.MeanPartitions < 1 {
					t.Errorf("%s: generation %d: %+v", label, i, g)
				}
			}
			last := h[len(h)-1]
			if res.Score != last.BestScore || res.Plan.Partitions() != last.BestPartitions {
				t.Errorf("%s: result score %v (%d partitions), last generation's best %v (%d partitions)",
					label, res.Score, res.Plan.Partitions(), last.BestScore, last.BestPartitions)
			}
			// Stopping: all generations, or Patience without improvement.
			gens := len(h) - 1
			if res.StoppedEarly {
				if opt.Patience == 0 || gens >= opt.Generations || gens < opt.Patience {
					t.Errorf("%s: stopped early after %d generations", label, gens)
				} else {
					for i := gens - opt.Patience + 1; i <= gens; i++ {
						if h[i].BestScore < h[gens-opt.Patience].BestScore {
							t.Errorf("%s: stopped early at %d but generation %d improved", label, gens, i)
						}
					}
					if gens-opt.Patience > 0 && !(h[gens-opt.Patience].BestScore < h[gens-opt.Patience-1].BestScore) {
						// The stale count restarts at the last improvement,
						// so the generation before the stale run improved
						// (or is the initial population).
						t.Errorf("%s: stopped at %d, but generation %d did not improve either", label, gens, gens-opt.Patience)
					}
				}
			} else if gens != opt.Generations {
				// Not stopping early means running every generation (a run
				// may also run out of patience exactly at the last one).
				t.Errorf("%s: ran %d of %d generations without stopping early", label, gens, opt.Generations)
			}

			// Generation 0 is the initial population: a run of zero
			// generations with the same seed returns exactly it.
			zero := opt
			zero.Generations = 0
			zero.Progress = nil
			r0, err := partition.GA(ctx, e, obj, zero)
			if err != nil {
				t.Fatalf("%s: zero generations: %v", label, err)
			}
			if len(r0.History) != 1 || !reflect.DeepEqual(r0.History[0], h[0]) || h[0].Index != 0 {
				t.Errorf("%s: zero-generation history %+v, full run's generation 0 %+v", label, r0.History, h[0])
			}
			if r0.Score != h[0].BestScore || r0.StoppedEarly {
				t.Errorf("%s: zero-generation run scores %v (stopped early %v), generation 0's best %v", label, r0.Score, r0.StoppedEarly, h[0].BestScore)
			}
			if tot, ok := checkPlan(t, label+" zero generations", e, r0.Plan); ok && !relClose(tot.Score(obj), r0.Score, relTol) {
				t.Errorf("%s: zero-generation plan evaluates to %v, score %v", label, tot.Score(obj), r0.Score)
			}
		}
	}
}

// TestGACancel checks that cancelling the context from the Progress
// callback after generation 2 stops the GA at once with context.Canceled,
// and that a context cancelled beforehand is refused too.
func TestGACancel(t *testing.T) {
	m := zooMapping(t, "vgg16", "S")
	e := newEstimator(t, m, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := partition.PaperGAOptions(1)
	opt.Generations = 100000
	opt.Patience = 0 // would run for a long time if not cancelled
	var seen []int
	opt.Progress = func(g partition.Generation) {
		seen = append(seen, g.Index)
		if g.Index == 2 {
			cancel()
		}
	}
	res, err := partition.GA(ctx, e, partition.Latency, opt)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("GA cancelled after generation 2 returned %v, %v; want nil, context.Canceled", res, err)
	}
	if !reflect.DeepEqual(seen, []int{0, 1, 2}) {
		t.Errorf("Progress saw generations %v after cancelling at 2, want [0 1 2]", seen)
	}

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	opt.Progress = nil
	if res, err := partition.GA(done, e, partition.Latency, opt); !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("GA on a cancelled context returned %v, %v; want nil, context.Canceled", res, err)
	}
}

// TestGAOptionsCheck checks that bad options are refused with an error
// naming the field and its value, before any work, and that the built-in
// settings pass.
func TestGAOptionsCheck(t *testing.T) {
	for _, o := range []partition.GAOptions{partition.PaperGAOptions(0),
		{Population: 2, Keep: 1, Generations: 0}, {Population: 100000, Keep: 99999, Generations: 100000, Patience: 1}} {
		if err := o.Check(); err != nil {
			t.Errorf("Check(%+v) = %v", o, err)
		}
	}
	base := partition.PaperGAOptions(1)
	cases := []struct {
		field string
		value int
		mod   func(*partition.GAOptions)
	}{
		{"population", 0, func(o *partition.GAOptions) { o.Population = 0 }},
		{"population", 1, func(o *partition.GAOptions) { o.Population, o.Keep = 1, 1 }},
		{"population", -5, func(o *partition.GAOptions) { o.Population = -5 }},
		{"population", 100001, func(o *partition.GAOptions) { o.Population = 100001 }},
		{"keep", 0, func(o *partition.GAOptions) { o.Keep = 0 }},
		{"keep", -1, func(o *partition.GAOptions) { o.Keep = -1 }},
		{"keep", 100, func(o *partition.GAOptions) { o.Keep = 100 }},
		{"keep", 150, func(o *partition.GAOptions) { o.Keep = 150 }},
		{"generations", -1, func(o *partition.GAOptions) { o.Generations = -1 }},
		{"generations", 100001, func(o *partition.GAOptions) { o.Generations = 100001 }},
		{"patience", -1, func(o *partition.GAOptions) { o.Patience = -1 }},
	}
	e := newEstimator(t, zooMapping(t, "resnet18", "S"), 1)
	for _, c := range cases {
		o := base
		c.mod(&o)
		called := false
		o.Progress = func(partition.Generation) { called = true }
		err := o.Check()
		if err == nil {
			t.Errorf("%s = %d: Check accepted %+v", c.field, c.value, o)
			continue
		}
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, c.field) || !strings.Contains(msg, fmt.Sprint(c.value)) {
			t.Errorf("%s = %d: error %q does not name the field and value", c.field, c.value, err)
		}
		for _, other := range []string{"generations", "patience"} {
			if other != c.field && strings.Contains(msg, other) {
				t.Errorf("%s = %d: error %q names %s", c.field, c.value, err, other)
			}
		}
		res, gerr := partition.GA(context.Background(), e, partition.Latency, o)
		if gerr == nil || res != nil || gerr.Error() != err.Error() || called {
			t.Errorf("%s = %d: GA returned %v, %v (progress called %v); want Check's error %q", c.field, c.value, res, gerr, called, err)
		}
	}
}
