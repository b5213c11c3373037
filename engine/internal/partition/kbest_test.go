package partition_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/internal/partition"
)

// TestKBestMatchesBruteForce compares KBest with exhaustive enumeration on
// 300 random small networks and chips at batch 1 and 4. For latency and
// energy its k plans must score exactly the k lowest of all enumerated
// partitionings, in order, each a distinct valid plan whose Evaluate
// score is the one KBest reports; asking for more plans than exist gives
// them all. For EDP they must be the exhaustive Pareto front's points
// ranked by energy x time, the first being the exhaustive EDP minimum.
func TestKBestMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	var checked, ties, fewer int
	for _, in := range randomInstances(t, 300, 20261130) {
		for _, batch := range []int{1, 4} {
			e := newEstimator(t, in.m, batch)
			all := enumerate(t, e)
			for _, obj := range partition.Objectives() {
				var want []float64
				if obj == partition.EDP {
					for _, p := range exactFront(all) {
						want = append(want, p[0]*p[1])
					}
				} else {
					for _, s := range all {
						want = append(want, s.tot.Score(obj))
					}
				}
				slices.Sort(want)
				for _, k := range []int{1, 2, 5, 40} {
					label := fmt.Sprintf("%s b%d %s k=%d (%d partitionings)", in.name, batch, obj, k, len(all))
					got, err := partition.KBest(ctx, e, obj, k)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					if len(got) != min(k, len(want)) {
						t.Fatalf("%s: %d plans, want %d", label, len(got), min(k, len(want)))
					}
					if len(got) < k {
						fewer++
					}
					seen := map[string]bool{}
					for r, rp := range got {
						tot, ok := checkPlan(t, fmt.Sprintf("%s rank %d", label, r), e, rp.Plan)
						if !ok {
							continue
						}
						key := fmt.Sprint(rp.Plan.Cuts)
						if seen[key] {
							t.Errorf("%s: rank %d repeats plan %v", label, r, rp.Plan.Cuts)
						}
						seen[key] = true
						if !relClose(tot.Score(obj), rp.Score, relTol) {
							t.Errorf("%s: rank %d plan %v evaluates to %.12g, KBest says %.12g", label, r, rp.Plan.Cuts, tot.Score(obj), rp.Score)
						}
						if !relClose(rp.Score, want[r], relTol) {
							t.Errorf("%s: rank %d scores %.12g, exhaustive rank %d %.12g (ranks %v)", label, r, rp.Score, r, want[r], want[:min(len(want), k)])
						}
						if r > 0 && rp.Score < got[r-1].Score {
							t.Errorf("%s: rank %d scores %.12g below rank %d's %.12g", label, r, rp.Score, r-1, got[r-1].Score)
						}
						if r > 0 && rp.Score == got[r-1].Score {
							ties++
						}
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d KBest calls checked; %d returned every partitioning there is (fewer than k); %d equal-score neighbours", checked, fewer, ties)
	if fewer < 100 {
		t.Errorf("only %d calls asked for more plans than exist: the instances do not exercise the short case", fewer)
	}
}

// TestKBestFirstIsOptimal checks on the paper's grid that KBest's first
// plan is Optimal's plan for every objective, and that its ranking holds
// under Evaluate with ranks at least as costly as the optimum.
func TestKBestFirstIsOptimal(t *testing.T) {
	ctx := context.Background()
	for _, net := range paperNets {
		for _, chipName := range []string{"S", "M", "L"} {
			m := zooMapping(t, net, chipName)
			for _, batch := range []int{1, 16} {
				e := newEstimator(t, m, batch)
				for _, obj := range partition.Objectives() {
					label := fmt.Sprintf("%s/%s/b%d %s", net, chipName, batch, obj)
					opt, err := partition.Optimal(ctx, e, obj)
					if err != nil {
						t.Fatalf("%s: Optimal: %v", label, err)
					}
					got, err := partition.KBest(ctx, e, obj, 8)
					if err != nil {
						t.Fatalf("%s: KBest: %v", label, err)
					}
					if len(got) == 0 || !slices.Equal(got[0].Plan.Cuts, opt.Plan.Cuts) {
						t.Fatalf("%s: KBest's first plan is not Optimal's %v", label, short(opt.Plan.Cuts))
					}
					if obj != partition.EDP && len(got) != 8 {
						t.Errorf("%s: %d plans, want 8 (the zoo networks have far more partitionings)", label, len(got))
					}
					for r, rp := range got {
						tot, ok := checkPlan(t, fmt.Sprintf("%s rank %d", label, r), e, rp.Plan)
						if ok && !relClose(tot.Score(obj), rp.Score, relTol) {
							t.Errorf("%s: rank %d evaluates to %v, KBest says %v", label, r, tot.Score(obj), rp.Score)
						}
						if r > 0 && cmp.Less(rp.Score, got[r-1].Score) {
							t.Errorf("%s: rank %d scores %v below rank %d's %v", label, r, rp.Score, r-1, got[r-1].Score)
						}
					}
				}
			}
		}
	}
}

// TestKBestRefuses checks that k below 1 is an error naming k, and that a
// cancelled context stops KBest for every objective.
func TestKBestRefuses(t *testing.T) {
	e := newEstimator(t, zooMapping(t, "vgg16", "S"), 1)
	for _, k := range []int{0, -3} {
		if got, err := partition.KBest(context.Background(), e, partition.Latency, k); err == nil || got != nil {
			t.Errorf("KBest(k=%d) = %v, %v; want an error", k, got, err)
		} else if want := fmt.Sprintf("k = %d", k); !strings.Contains(err.Error(), want) {
			t.Errorf("KBest(k=%d) error %q does not name k", k, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, obj := range partition.Objectives() {
		if got, err := partition.KBest(ctx, e, obj, 4); !errors.Is(err, context.Canceled) || got != nil {
			t.Errorf("%s: KBest on a cancelled context = %v, %v; want context.Canceled", obj, got, err)
		}
	}
}
