package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
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
// count tests (not only classCores) decide.
func TestPacksSurelyImpliesPackCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	claimed, claimedBeyondClassCores := 0, 0
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
			if h.classCores > cores {
				claimedBeyondClassCores++
			}
			if !PackCounts(h.counts, cores, perCore) {
				t.Fatalf("packsSurely says %v packs on %d cores of %d; PackCounts does not", h.counts, cores, perCore)
			}
		}
	}
	if claimedBeyondClassCores == 0 {
		t.Error("only classCores ever settled a histogram: the sum and count tests went unchecked")
	}
	t.Logf("%d histograms claimed to pack, %d of them beyond classCores", claimed, claimedBeyondClassCores)
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

// CountUnits is the unit count Map builds, on the zoo on every preset and
// on random graphs and chips, and fails where Map fails.
func TestCountUnitsIsMapsCount(t *testing.T) {
	check := func(what string, g *model.Graph, chip *hw.Chip) error {
		t.Helper()
		m, mapErr := Map(g, chip)
		n, err := CountUnits(g, chip)
		switch {
		case mapErr != nil || err != nil:
			if mapErr == nil || err == nil || err.Error() != mapErr.Error() {
				t.Fatalf("%s: CountUnits error %v, Map error %v", what, err, mapErr)
			}
		case n != len(m.Units):
			t.Fatalf("%s: CountUnits = %d, Map built %d units", what, n, len(m.Units))
		}
		return err
	}
	for _, name := range zoo.Names() {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range hw.PresetNames() {
			check(name+"/"+p, g, preset(t, p))
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	g, err := zoo.Build("mobilenet_v2") // depthwise, grouped and dense layers
	if err != nil {
		t.Fatal(err)
	}
	for trial := 0; trial < 200; trial++ {
		chip := *preset(t, "M")
		chip.CrossbarsPerCore = 1 + rng.IntN(16)
		chip.CrossbarRows = 4 << rng.IntN(6)
		chip.CrossbarCols = 4 << rng.IntN(6)
		check(fmt.Sprintf("mobilenet_v2 on %dx%d crossbars, %d a core", chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore), g, &chip)
	}
	noXbar := model.NewBuilder("noxbar")
	noXbar.Unary(model.OpReLU, "r", noXbar.Input("x", 4))
	if err := check("no crossbar layer", build(t, noXbar), preset(t, "M")); err == nil || !strings.Contains(err.Error(), "no Conv or Linear") {
		t.Errorf("no crossbar layer: %v", err)
	}
	wide := model.NewBuilder("wide")
	wide.Linear("fc", wide.Input("x", 1<<20), 1<<20, false)
	if err := check("a layer too large to map", build(t, wide), preset(t, "M")); err == nil || !strings.Contains(err.Error(), `layer "fc" needs more than`) {
		t.Errorf("a layer too large to map: %v", err)
	}
}

// CountUnits does not build units: ResNet18 on 1x4 crossbars (millions of
// units) allocates no more than on chip M's own crossbars.
func TestCountUnitsAllocatesNoUnit(t *testing.T) {
	g, err := zoo.Build("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	m := preset(t, "M")
	tiny := *m
	tiny.CrossbarRows, tiny.CrossbarCols = 1, 4
	var nTiny, nM int
	allocsTiny := testing.AllocsPerRun(3, func() { nTiny, _ = CountUnits(g, &tiny) })
	allocsM := testing.AllocsPerRun(3, func() { nM, _ = CountUnits(g, m) })
	if nTiny < 1000*nM {
		t.Fatalf("%d units on 1x4 crossbars, %d on M: the case does not test a large count", nTiny, nM)
	}
	if allocsTiny > allocsM {
		t.Errorf("CountUnits allocates %v times for %d units, %v for %d", allocsTiny, nTiny, allocsM, nM)
	}
}

// The bench-bounds ResNet18 case: counting its units costs what counting
// ResNet18's units on chip M costs.
func BenchmarkCountUnitsResNet18TinyCrossbars(b *testing.B) {
	g, err := zoo.Build("resnet18")
	if err != nil {
		b.Fatal(err)
	}
	chip := *preset(b, "M")
	chip.CrossbarRows, chip.CrossbarCols = 1, 4
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CountUnits(g, &chip); err != nil {
			b.Fatal(err)
		}
	}
}

// mixedUnits is 4,096 units of 29 random sizes on 256 cores of 64
// crossbars: windows the sufficient condition often cannot settle, the
// sliding window's worst kind of input.
func mixedUnits() (sizes []int, cores, perCore int) {
	rng := rand.New(rand.NewPCG(29, 64))
	kinds := make([]int, 29)
	for i := range kinds {
		kinds[i] = 1 + rng.IntN(64)
	}
	sizes = make([]int, 4096)
	for i := range sizes {
		sizes[i] = kinds[rng.IntN(len(kinds))]
	}
	return sizes, 256, 64
}

func BenchmarkValidEndsMixedUnits(b *testing.B) {
	sizes, cores, perCore := mixedUnits()
	for b.Loop() {
		validEnds(sizes, cores, perCore)
	}
}

// The straightforward map on the same units, for comparison.
func BenchmarkValidEndsMixedUnitsReference(b *testing.B) {
	sizes, cores, perCore := mixedUnits()
	for b.Loop() {
		referenceValidEnds(sizes, cores, perCore)
	}
}

// Larger chips and units up to 64 crossbars, where the sufficient
// condition's count and sum tests decide most windows.
func TestValidEndsMatchesReferenceOnMixedUnits(t *testing.T) {
	sizes, cores, perCore := mixedUnits()
	for _, c := range []int{16, 64, cores * 5 / 8} {
		sub := sizes[:1000+4*c]
		compareEnds(t, fmt.Sprintf("%d mixed units on %d cores of %d", len(sub), c, perCore), validEnds(sub, c, perCore), referenceValidEnds(sub, c, perCore))
	}
}
