package reproduce

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/internal/sim"
	"github.com/compass-go/compass/engine/model/zoo"
)

// The fit targets are exactly the declared subset (issue 12): the
// replacement / MVM curve over batches 1-16, the three axis ranges and
// greedy's first-partition share on ResNet18-M-16; everything else is
// held out.
func TestFitTargetsAreTheDeclaredSubset(t *testing.T) {
	figs := PaperFigures()
	var fit, held []string
	for _, f := range figs {
		if f.Role == RoleFit {
			fit = append(fit, f.ID)
		} else {
			held = append(held, f.ID)
		}
	}
	wantFit := []string{"replacement-mvm-b1", "replacement-mvm-b2", "replacement-mvm-b4", "replacement-mvm-b8", "replacement-mvm-b16",
		"axis-vgg16", "axis-resnet18", "axis-squeezenet1_1", "greedy-first-share-resnet18-M-16"}
	wantHeld := []string{"throughput-vgg16-vs-greedy", "throughput-vgg16-vs-layerwise", "throughput-resnet18-vs-greedy",
		"throughput-resnet18-vs-layerwise", "throughput-squeezenet1_1-vs-greedy", "throughput-squeezenet1_1-vs-layerwise",
		"resnet18-M-16-vs-greedy", "resnet18-M-16-vs-layerwise", "edp-resnet18-S-vs-greedy", "edp-resnet18-S-vs-layerwise",
		"energy-resnet18-S-compass-over-greedy", "throughput-mean-vs-baselines", "chip-power-S", "chip-power-M", "chip-power-L"}
	if !slices.Equal(fit, wantFit) || !slices.Equal(held, wantHeld) {
		t.Errorf("fit targets %v\nheld out %v", fit, held)
	}
	// The paper's values as the restatement of the paper gives them.
	want := map[string][2]float64{"throughput-vgg16-vs-greedy": {1.80, 1.80}, "throughput-resnet18-vs-layerwise": {1.31, 1.31},
		"resnet18-M-16-vs-greedy": {2.26, 2.26}, "edp-resnet18-S-vs-layerwise": {2.08, 2.08}, "replacement-mvm-b1": {3.6, 4.0},
		"replacement-mvm-b16": {1.18, 1.21}, "greedy-first-share-resnet18-M-16": {0.95, 1}, "throughput-mean-vs-baselines": {1.78, 1.78},
		"chip-power-S": {1570, 1570}, "chip-power-M": {2800, 2800}, "chip-power-L": {6300, 6300},
		// An axis top bounds the tallest bar; the bar passes the tick
		// below it, at least 2/3 of the top with three or more intervals.
		"axis-vgg16": {100, 150}, "axis-resnet18": {500, 750}, "axis-squeezenet1_1": {1500, 2000}}
	for _, f := range figs {
		if w, ok := want[f.ID]; ok && (f.Low != w[0] || f.High == nil || *f.High != w[1]) {
			t.Errorf("%s: paper %v-%v, want %v", f.ID, f.Low, f.High, w)
		}
	}
}

func TestDistance(t *testing.T) {
	two, one := 2.0, 1.0
	ln2 := math.Log(2)
	for _, c := range []struct {
		f    PaperFigure
		ours float64
		want float64
	}{
		{PaperFigure{Low: 2, High: &two}, 1, ln2},        // a single value, ours half of it
		{PaperFigure{Low: 2, High: &two}, 4, ln2},        // twice it
		{PaperFigure{Low: 2, High: &two}, 2, 0},          // equal
		{PaperFigure{Low: 1, High: &two}, 1.5, 0},        // inside a range
		{PaperFigure{Low: 1, High: &two}, 4, ln2},        // above it: from the high end
		{PaperFigure{Low: 1, High: &two}, 0.25, 2 * ln2}, // below it: from the low end
		{PaperFigure{Low: 1}, 100, 0},                    // only a lower bound
		{PaperFigure{Low: 1}, 0.5, ln2},
		{PaperFigure{Low: 1, High: &one}, 0, math.Inf(1)}, // not positive
	} {
		if got := c.f.Distance(c.ours); math.Abs(got-c.want) > 1e-12 && !(math.IsInf(got, 1) && math.IsInf(c.want, 1)) {
			t.Errorf("low %v high %v ours %v: distance %v, want %v", c.f.Low, c.f.High, c.ours, got, c.want)
		}
	}
}

func TestParseFiguresRefusesBadLists(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"figures":[{"id":"axis-vgg16","role":"fit","low":150,"high":150},{"id":"axis-vgg16","role":"fit","low":1,"high":1}]}`, `"axis-vgg16" appears twice`},
		{`{"figures":[{"id":"axis-vgg16","role":"target","low":150,"high":150}]}`, `role "target"`},
		{`{"figures":[{"id":"axis-alexnet","role":"fit","low":150,"high":150}]}`, `axis-alexnet: no such figure`},
		{`{"figures":[{"id":"axis-vgg16","role":"fit","low":150,"high":100}]}`, `axis-vgg16: low 150`},
		{`{"figures":[{"id":"axis-vgg16","role":"fit","low":0}]}`, `axis-vgg16: low 0`},
		{`{"figures":[{"role":"fit","low":1}]}`, `figure 0 has no id`},
	} {
		if _, err := ParseFigures([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.json, err, c.want)
		}
	}
}

func sourcedChips(t *testing.T) []*hw.Chip {
	t.Helper()
	var chips []*hw.Chip
	for _, n := range []string{"S", "M", "L"} {
		c, err := hw.Preset(n)
		if err != nil {
			t.Fatal(err)
		}
		chips = append(chips, c)
	}
	return chips
}

var (
	sourcedOnce sync.Once
	sourcedRes  *Result
	sourcedErr  error
)

// sourced is the sourced family's result, computed once per test binary.
func sourced(t *testing.T) *Result {
	t.Helper()
	sourcedOnce.Do(func() {
		sourcedRes, sourcedErr = Run(context.Background(), "sourced", sourcedChips(t), PaperFigures(), Options{Seed: 1, Workers: 1})
	})
	if sourcedErr != nil {
		t.Fatal(sourcedErr)
	}
	return sourcedRes
}

// The same request gives the same bytes whatever the number of workers.
func TestRunDeterministicAcrossWorkers(t *testing.T) {
	a, err := json.Marshal(sourced(t))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), "sourced", sourcedChips(t), PaperFigures(), Options{Seed: 1, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	if string(a) != string(b) {
		t.Error("1 and 3 workers give different results")
	}
}

// Every figure of the list is computed, in its order, and the distances
// are the means the result states.
func TestRunFiguresAndDistances(t *testing.T) {
	r := sourced(t)
	figs := PaperFigures()
	if len(r.Figures) != len(figs) {
		t.Fatalf("%d figures, want %d", len(r.Figures), len(figs))
	}
	var held, fit []float64
	for i, f := range r.Figures {
		if f.ID != figs[i].ID || !(f.Ours > 0) {
			t.Errorf("figure %d: %s = %v", i, f.ID, f.Ours)
		}
		if f.Role == RoleHeldOut {
			held = append(held, f.Distance)
		} else {
			fit = append(fit, f.Distance)
		}
	}
	sum := func(v []float64) (s float64) {
		for _, x := range v {
			s += x
		}
		return s
	}
	if math.Abs(r.HeldOutDistance-sum(held)/15) > 1e-12 || math.Abs(r.FitDistance-sum(fit)/9) > 1e-12 {
		t.Errorf("held-out %v (want %v), fit %v (want %v)", r.HeldOutDistance, sum(held)/15, r.FitDistance, sum(fit)/9)
	}
	// The mean over both baselines is the mean of the six ratios, and
	// the chip powers are the chips' peak powers: Table I's 2800 and
	// 6300 mW for the sourced M and L (docs/hardware.md, D1).
	six := 0.0
	for _, n := range r.Throughput {
		six += n.VsGreedy + n.VsLayerwise
	}
	for _, f := range r.Figures {
		switch f.ID {
		case "throughput-mean-vs-baselines":
			if math.Abs(f.Ours-six/6) > 1e-12 {
				t.Errorf("mean over the baselines %v, the six ratios give %v", f.Ours, six/6)
			}
		case "chip-power-M", "chip-power-L":
			if f.Distance > 1e-9 {
				t.Errorf("%s: sourced %v mW, Table I %v mW", f.ID, f.Ours, f.Low)
			}
		case "chip-power-S":
			if s := sourcedChips(t)[0]; f.Ours != s.PeakPowerMW() {
				t.Errorf("chip-power-S: %v mW, chip S's peak power is %v mW", f.Ours, s.PeakPowerMW())
			}
		}
	}
	// Per network: 3 chips x 5 batches of bars, the ratio the mean of
	// the bars' ratios.
	for _, n := range r.Throughput {
		if len(n.Bars) != 15 {
			t.Fatalf("%s: %d bars", n.Model, len(n.Bars))
		}
		var g float64
		tallest := 0.0
		for _, b := range n.Bars {
			g += b.Compass / b.Greedy
			tallest = max(tallest, b.Greedy, b.Layerwise, b.Compass)
		}
		if math.Abs(n.VsGreedy-g/15) > 1e-12 || n.Tallest != tallest {
			t.Errorf("%s: vs greedy %v, bars give %v; tallest %v, bars give %v", n.Model, n.VsGreedy, g/15, n.Tallest, tallest)
		}
	}
}

// The weight-load time summed over a plan is the network's weights over
// the bandwidth plus one bus latency a partition, whatever the plan
// (docs/reproduction.md says so): on ResNet18-M-16 the three methods' sums
// less their partitions' latencies agree.
func TestWeightLoadIndependentOfPlan(t *testing.T) {
	r := sourced(t)
	m, _ := hw.Preset("M")
	var base []float64
	for _, mb := range r.Breakdown {
		s := 0.0
		for _, p := range mb.Partitions {
			s += p.WeightLoadS
		}
		base = append(base, s-float64(len(mb.Partitions))*m.BusLatencyNs*1e-9)
	}
	// ResNet18's crossbar weights (the zoo's count, no biases) at 4 bits.
	g, _ := zoo.Build("resnet18")
	weights := g.Totals().Weights
	want := float64(weights) * 4 / 8 / min(m.DRAM.PeakBandwidthBytesPerS(), m.BusBandwidthBytesPerS)
	for i, s := range base {
		if math.Abs(s-want) > 1e-9*want {
			t.Errorf("%s: weight load less bus latencies %v s, the network over the bandwidth %v s", r.Breakdown[i].Method, s, want)
		}
	}
}

// The replacement energy the reproduction computes from the estimator's
// spans agrees with what the simulator charges for the same plan (its
// LOAD_WEIGHT bursts, activations and bus bytes and its crossbar writes),
// and the two readings of the curve are one ratio.
func TestReplacementEnergyAgreesWithSimulator(t *testing.T) {
	r := sourced(t)
	chip, _ := hw.Preset("M")
	g, _ := zoo.Build("resnet18")
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []int{1, 16} {
		est, err := estimate.New(m, b)
		if err != nil {
			t.Fatal(err)
		}
		ga, err := partition.GA(context.Background(), est, partition.Latency, partition.PaperGAOptions(1))
		if err != nil {
			t.Fatal(err)
		}
		p, err := schedule.Build(est, ga.Plan.Cuts)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := sim.Run(p, chip, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var pt *ReplacementPoint
		for i := range r.Replacement {
			if q := &r.Replacement[i]; q.Chip == "M" && q.Batch == b {
				pt = q
			}
		}
		if pt == nil {
			t.Fatalf("no curve point for M at batch %d", b)
		}
		if got, want := pt.ReplacementJ, sr.ReplacementPJ*1e-12; math.Abs(got/want-1) > 0.01 {
			t.Errorf("batch %d: replacement %v J, the simulator %v J", b, got, want)
		}
		if got, want := pt.MVMJ, (sr.Energy.MVM+sr.Energy.ADC)*1e-12; math.Abs(got/want-1) > 0.01 {
			t.Errorf("batch %d: MVM %v J, the simulator %v J", b, got, want)
		}
		if pt.WithMVM != 1+pt.Ratio || math.Abs(pt.Ratio-pt.ReplacementJ/pt.MVMJ) > 1e-12*pt.Ratio {
			t.Errorf("batch %d: ratio %v, with MVM %v", b, pt.Ratio, pt.WithMVM)
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, "sourced", sourcedChips(t), PaperFigures(), Options{Seed: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// A hook's refusal stops the run with that error.
func TestRunHooksRefuse(t *testing.T) {
	refuse := errors.New("over the limit")
	_, err := Run(context.Background(), "sourced", sourcedChips(t), PaperFigures(), Options{Seed: 1,
		BeforeSearch: func(m *mapping.Mapping, batch int) error {
			if batch == 16 {
				return refuse
			}
			return nil
		}})
	if !errors.Is(err, refuse) {
		t.Errorf("refused: %v", err)
	}
}

// The whole reproduction of one family (the paper's grid with three
// methods, and the EDP runs): what `compass reproduce` runs three times.
func BenchmarkRunSourced(b *testing.B) {
	var chips []*hw.Chip
	for _, n := range []string{"S", "M", "L"} {
		c, err := hw.Preset(n)
		if err != nil {
			b.Fatal(err)
		}
		chips = append(chips, c)
	}
	for b.Loop() {
		if _, err := Run(context.Background(), "sourced", chips, PaperFigures(), Options{Seed: 1, Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
