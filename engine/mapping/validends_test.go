package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

// referenceValidEnds is the straightforward validity map: from every start,
// add units one by one and pack the whole span each time, stopping at the
// first that does not pack (units^2 packings). validEnds must equal it.
func referenceValidEnds(sizes []int, cores, perCore int) []int {
	n := len(sizes)
	ends := make([]int, n)
	counts := make([]int, perCore+1)
	for a := 0; a < n; a++ {
		clear(counts)
		b := a
		for b < n {
			counts[sizes[b]]++
			if !PackCounts(counts, cores, perCore) {
				break
			}
			b++
		}
		ends[a] = b
	}
	return ends
}

func unitSizes(m *Mapping) []int {
	sizes := make([]int, len(m.Units))
	for i, u := range m.Units {
		sizes[i] = u.Crossbars
	}
	return sizes
}

func compareEnds(t *testing.T, what string, got, want []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d ends, reference has %d", what, len(got), len(want))
	}
	for a := range want {
		if got[a] != want[a] {
			t.Fatalf("%s: ValidEnds[%d] = %d, reference %d", what, a, got[a], want[a])
		}
	}
}

// Every zoo model on every preset chip: the map Map builds is the
// reference map of its units.
func TestValidEndsMatchesReferenceOnZoo(t *testing.T) {
	for _, name := range zoo.Names() {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range hw.PresetNames() {
			chip := preset(t, p)
			m, err := Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			want := referenceValidEnds(unitSizes(m), chip.Cores, chip.CrossbarsPerCore)
			compareEnds(t, name+"/"+p, m.ValidEnds(), want)
			if m.Fits != (want[0] == len(m.Units)) {
				t.Errorf("%s/%s: Fits = %v, reference ends[0] = %d of %d units", name, p, m.Fits, want[0], len(m.Units))
			}
		}
	}
}

// Random unit sequences on small chips, many of them near capacity with
// mixed sizes, where packsSurely does not settle the window and validEnds
// packs its prefixes one by one: the map must match the reference, and
// such windows must occur, or that path goes untested.
func TestValidEndsMatchesReferenceOnRandomUnits(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2501))
	unsettled := 0
	for trial := 0; trial < 20000; trial++ {
		perCore := 1 + rng.IntN(12)
		cores := 1 + rng.IntN(6)
		n := rng.IntN(40)
		// A few distinct sizes, as a network's layers give.
		kinds := make([]int, 1+rng.IntN(4))
		for i := range kinds {
			kinds[i] = 1 + rng.IntN(perCore)
		}
		sizes := make([]int, n)
		for i := range sizes {
			sizes[i] = kinds[rng.IntN(len(kinds))]
		}
		want := referenceValidEnds(sizes, cores, perCore)
		compareEnds(t, fmt.Sprintf("sizes %v on %d cores of %d", sizes, cores, perCore), validEnds(sizes, cores, perCore), want)
		for a := 1; a < n; a++ {
			h := newCrossbarHistogram(perCore)
			for _, s := range sizes[a:want[a-1]] {
				h.add(s)
			}
			if !h.packsSurely(cores) {
				unsettled++
			}
		}
	}
	if unsettled == 0 {
		t.Error("packsSurely settled every window: the per-prefix checks went untested")
	}
	t.Logf("%d windows packed prefix by prefix", unsettled)
}

// Random small graphs (chains of Conv, grouped Conv and Linear layers) on
// random chips: Map's map matches the reference on the units Map built.
func TestValidEndsMatchesReferenceOnRandomGraphs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 780))
	base := preset(t, "M")
	for trial := 0; trial < 300; trial++ {
		chip := *base
		chip.Name = fmt.Sprintf("random%d", trial)
		chip.Cores = 1 + rng.IntN(12)
		chip.CrossbarsPerCore = 1 + rng.IntN(16)
		chip.CrossbarRows = 8 << rng.IntN(4)
		chip.CrossbarCols = 8 << rng.IntN(4)
		if err := chip.Validate(); err != nil {
			t.Fatalf("chip %+v: %v", chip, err)
		}
		b := model.NewBuilder(fmt.Sprintf("g%d", trial))
		ch := 4 << rng.IntN(4)
		x := b.Input("x", ch, 8, 8)
		layers := 1 + rng.IntN(12)
		for i := 0; i < layers; i++ {
			out := 4 << rng.IntN(5)
			k := 1 + 2*rng.IntN(2)
			spec := model.Conv2D(out, k, 1, k/2)
			if rng.IntN(3) == 0 && ch%4 == 0 && out%4 == 0 {
				spec = spec.WithGroups(4)
			}
			x = b.Conv(fmt.Sprintf("c%d", i), x, spec)
			x = b.Unary(model.OpReLU, fmt.Sprintf("r%d", i), x)
			ch = out
		}
		x = b.Flatten("f", x, 1)
		b.Linear("fc", x, 10+rng.IntN(100), true)
		g := build(t, b)
		m, err := Map(g, &chip)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		want := referenceValidEnds(unitSizes(m), chip.Cores, chip.CrossbarsPerCore)
		compareEnds(t, fmt.Sprintf("trial %d (%d units on %d cores of %d)", trial, len(m.Units), chip.Cores, chip.CrossbarsPerCore), m.ValidEnds(), want)
	}
}

// packsSurely never claims a packing PackCounts does not find, on random
// histograms of a few sizes near the chip's capacity, where its sum and
// count tests (not only sizeCores) decide.
func TestPacksSurelyImpliesPackCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	claimed, claimedBeyondSizeCores := 0, 0
	for trial := 0; trial < 50000; trial++ {
		perCore := 1 + rng.IntN(64)
		cores := 1 + rng.IntN(8)
		kinds := make([]int, 1+rng.IntN(3))
		for i := range kinds {
			kinds[i] = 1 + rng.IntN(perCore)
		}
		h := newCrossbarHistogram(perCore)
		for n := rng.IntN(2*cores*perCore/slices.Min(kinds) + 1); n > 0; n-- {
			h.add(kinds[rng.IntN(len(kinds))])
		}
		if h.packsSurely(cores) {
			claimed++
			if h.sizeCores > cores {
				claimedBeyondSizeCores++
			}
			if !PackCounts(h.counts, cores, perCore) {
				t.Fatalf("packsSurely says %v packs on %d cores of %d; PackCounts does not", h.counts, cores, perCore)
			}
		}
	}
	if claimedBeyondSizeCores == 0 {
		t.Error("only sizeCores ever settled a histogram: the sum and count tests went unchecked")
	}
	t.Logf("%d histograms claimed to pack, %d of them beyond sizeCores", claimed, claimedBeyondSizeCores)
}

// A chain of many equal units on a wide chip: every span is valid, the case
// that made the straightforward map quadratic.
func TestValidEndsEveryChainSpanValid(t *testing.T) {
	const n, cores, perCore = 3000, 100, 64 // 6,400 crossbars for 3,000 units
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = 2
	}
	ends := validEnds(sizes, cores, perCore)
	for a, e := range ends {
		if e != n {
			t.Fatalf("ends[%d] = %d, want %d: 3,000 two-crossbar units fit 100 cores of 64", a, e, n)
		}
	}
	// One more crossbar than the chip has: 3,201 units of 2 on 6,400.
	sizes = append(sizes, slices.Repeat([]int{2}, 201)...)
	ends = validEnds(sizes, cores, perCore)
	if ends[0] != 3200 || ends[1] != 3201 {
		t.Fatalf("ends[0], ends[1] = %d, %d; want 3200, 3201 (3,200 units of 2 fill the 6,400 crossbars)", ends[0], ends[1])
	}
}

func benchmarkChain(b *testing.B, layers, cores, perCore int) {
	bld := model.NewBuilder(fmt.Sprintf("chain%d", layers))
	x := bld.Input("x", 64)
	for i := 0; i < layers; i++ {
		x = bld.Linear(fmt.Sprintf("fc%d", i), x, 64, true)
		x = bld.Unary(model.OpReLU, fmt.Sprintf("r%d", i), x)
	}
	g := build(b, bld)
	chip := *preset(b, "M")
	chip.Cores, chip.CrossbarsPerCore = cores, perCore
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Map(g, &chip); err != nil {
			b.Fatal(err)
		}
	}
}

// The bench-bounds case: 16,384 one-crossbar layers on 16,384 cores of 64.
func BenchmarkMapChain16384WideChip(b *testing.B) { benchmarkChain(b, 16384, 16384, 64) }

// 2,000 layers on chip M's cores, where spans end at the chip's capacity.
func BenchmarkMapChain2000ChipM(b *testing.B) {
	m := preset(b, "M")
	benchmarkChain(b, 2000, m.Cores, m.CrossbarsPerCore)
}
