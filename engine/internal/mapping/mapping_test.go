package mapping

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model"
	"github.com/compass-go/compass/engine/model/zoo"
)

func preset(t testing.TB, name string) *hw.Chip {
	t.Helper()
	c, err := hw.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func build(t testing.TB, b *model.Builder) *model.Graph {
	t.Helper()
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkInvariants verifies, from first principles, that a mapping stores
// every weight bit in exactly one cell and respects the chip.
func checkInvariants(t *testing.T, m *Mapping) {
	t.Helper()
	chip := m.Chip
	cellsPerCrossbar := int64(chip.CrossbarRows) * int64(chip.CrossbarCols)
	sumXbars, sumLayerXbars := 0, 0
	var sumCells int64
	for li, l := range m.Layers {
		st := m.Graph.NodeStats(l.Node)
		// Every weight bit has exactly one cell: cells x bits per cell =
		// weights x weight bits (a layer's own width rounded up to whole cells).
		bits := chip.WeightBits
		if wb := m.Graph.Nodes[l.Node].WeightBits; wb > 0 {
			bits = (wb + chip.BitsPerCell - 1) / chip.BitsPerCell * chip.BitsPerCell
		}
		if l.Cells*int64(chip.BitsPerCell) != st.Weights*int64(bits) {
			t.Errorf("%s: %d cells x %d bits != %d weights x %d bits", l.Name, l.Cells, chip.BitsPerCell, st.Weights, bits)
		}
		if l.Utilisation <= 0 || l.Utilisation > 1 {
			t.Errorf("%s: utilisation %v outside (0,1]", l.Name, l.Utilisation)
		}
		if int64(l.Crossbars)*cellsPerCrossbar < l.Cells {
			t.Errorf("%s: %d cells do not fit %d crossbars", l.Name, l.Cells, l.Crossbars)
		}
		units := m.Units[l.FirstUnit : l.FirstUnit+l.NumUnits]
		xb := 0
		for k, u := range units {
			if u.Layer != li || u.Index != k {
				t.Fatalf("%s: unit %d has layer %d index %d", l.Name, k, u.Layer, u.Index)
			}
			if u.Crossbars <= 0 || u.Crossbars > chip.CrossbarsPerCore {
				t.Errorf("%s unit %d: %d crossbars, core holds %d", l.Name, k, u.Crossbars, chip.CrossbarsPerCore)
			}
			// The unit's cells fit the crossbars it claims.
			if u.Cells > int64(u.Crossbars)*cellsPerCrossbar {
				t.Errorf("%s unit %d: %d cells in %d crossbars", l.Name, k, u.Cells, u.Crossbars)
			}
			xb += u.Crossbars
		}
		if xb != l.Crossbars {
			t.Errorf("%s: units hold %d crossbars, layer says %d", l.Name, xb, l.Crossbars)
		}
		checkCoverage(t, l, units)
		sumLayerXbars += l.Crossbars
		sumCells += l.Cells
	}
	for _, u := range m.Units {
		sumXbars += u.Crossbars
	}
	if sumXbars != m.CrossbarsNeeded || sumLayerXbars != m.CrossbarsNeeded {
		t.Errorf("crossbars: units %d, layers %d, model %d", sumXbars, sumLayerXbars, m.CrossbarsNeeded)
	}
	if sumCells != m.Cells {
		t.Errorf("cells: layers %d, model %d", sumCells, m.Cells)
	}
	if m.CrossbarsAvailable != chip.Cores*chip.CrossbarsPerCore {
		t.Errorf("available %d", m.CrossbarsAvailable)
	}
}

// checkCoverage checks that the units' (output range x row range) blocks
// tile the layer's matrix exactly: no gap, no overlap.
func checkCoverage(t *testing.T, l Layer, units []Unit) {
	t.Helper()
	byOut := map[[2]int][][2]int{}
	for _, u := range units {
		if u.OutStart >= u.OutEnd || u.RowStart >= u.RowEnd || u.RowEnd > l.Rows {
			t.Fatalf("%s: empty or out-of-range unit %+v", l.Name, u)
		}
		k := [2]int{u.OutStart, u.OutEnd}
		byOut[k] = append(byOut[k], [2]int{u.RowStart, u.RowEnd})
	}
	var outs [][2]int
	for k, rows := range byOut {
		outs = append(outs, k)
		sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
		at := 0
		for _, r := range rows {
			if r[0] != at {
				t.Fatalf("%s outputs %v: rows %v leave a gap or overlap at %d", l.Name, k, rows, at)
			}
			at = r[1]
		}
		if at != l.Rows {
			t.Fatalf("%s outputs %v: rows end at %d, matrix has %d", l.Name, k, at, l.Rows)
		}
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i][0] < outs[j][0] })
	at := 0
	for _, o := range outs {
		if o[0] != at {
			t.Fatalf("%s: output ranges %v leave a gap or overlap at %d", l.Name, outs, at)
		}
		at = o[1]
	}
	if at != l.Cols*l.Groups {
		t.Fatalf("%s: outputs end at %d, layer has %d", l.Name, at, l.Cols*l.Groups)
	}
}

func TestZooInvariantsOnEveryPreset(t *testing.T) {
	for _, name := range zoo.Names() {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range hw.PresetNames() {
			t.Run(name+"/"+p, func(t *testing.T) {
				m, err := Map(g, preset(t, p))
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, m)
				if len(m.Layers) != len(g.CrossbarLayers()) {
					t.Errorf("%d layers mapped, graph has %d Conv/Linear", len(m.Layers), len(g.CrossbarLayers()))
				}
			})
		}
	}
}

// The paper's "previous compilers" column: of its three networks only
// SqueezeNet fits chips S, M and L without weight replacement.
func TestOnlySqueezeNetFitsThePaperChips(t *testing.T) {
	for _, name := range []string{"vgg16", "resnet18", "squeezenet1_1"} {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"S", "M", "L"} {
			m, err := Map(g, preset(t, p))
			if err != nil {
				t.Fatal(err)
			}
			if want := name == "squeezenet1_1"; m.Fits != want {
				t.Errorf("%s on %s: fits = %v, want %v (needs %d of %d crossbars)", name, p, m.Fits, want, m.CrossbarsNeeded, m.CrossbarsAvailable)
			}
		}
	}
}

func TestDeepFanInIsSplitAlongInputs(t *testing.T) {
	chip := preset(t, "M")
	b := model.NewBuilder("fc")
	x := b.Input("x", 25088)
	b.Linear("fc6", x, 4096, true)
	m, err := Map(build(t, b), chip)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layers[0]
	R, C, K := chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore
	perBlock := C / chip.ColumnsPerWeight()
	rowBlocks := (25088 + R - 1) / R
	splits := (rowBlocks + K - 1) / K
	stripes := (4096 + perBlock - 1) / perBlock
	if l.RowBlocks != rowBlocks || l.InputSplits != splits || l.Stripes != stripes || l.NumUnits != stripes*splits {
		t.Fatalf("got rowBlocks %d splits %d stripes %d units %d; want %d %d %d %d",
			l.RowBlocks, l.InputSplits, l.Stripes, l.NumUnits, rowBlocks, splits, stripes, stripes*splits)
	}
	if l.Crossbars != rowBlocks*stripes {
		t.Errorf("crossbars %d, want %d", l.Crossbars, rowBlocks*stripes)
	}
	if got, want := l.PartialSumAdds(), int64(splits-1)*4096; got != want {
		t.Errorf("partial-sum adds %d, want %d", got, want)
	}
	checkInvariants(t, m)
}

func TestDepthwiseSharesCrossbars(t *testing.T) {
	chip := preset(t, "M")
	const ch = 960
	b := model.NewBuilder("dw")
	x := b.Input("x", ch, 7, 7)
	b.Conv("dw", x, model.Conv2D(ch, 3, 1, 1).WithGroups(ch))
	m, err := Map(build(t, b), chip)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layers[0]
	per := min(chip.CrossbarRows/9, chip.CrossbarCols/chip.ColumnsPerWeight())
	if l.GroupsPerCrossbar != per {
		t.Errorf("groups per crossbar %d, want %d", l.GroupsPerCrossbar, per)
	}
	if want := (ch + per - 1) / per; l.Crossbars != want {
		t.Errorf("crossbars %d, want %d (one per channel would be %d)", l.Crossbars, want, ch)
	}
	checkInvariants(t, m)
}

func TestGroupedConvTooLargeToPack(t *testing.T) {
	chip := preset(t, "M")
	// Two groups of 3x3x64 = 576 rows: each group is tiled on its own.
	b := model.NewBuilder("g2")
	x := b.Input("x", 128, 8, 8)
	b.Conv("c", x, model.Conv2D(256, 3, 1, 1).WithGroups(2))
	m, err := Map(build(t, b), chip)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layers[0]
	perBlock := chip.CrossbarCols / chip.ColumnsPerWeight()
	rb := (576 + chip.CrossbarRows - 1) / chip.CrossbarRows
	if l.GroupsPerCrossbar != 1 || l.Stripes != 2*((128+perBlock-1)/perBlock) || l.RowBlocks != rb {
		t.Errorf("layer %+v", l)
	}
	checkInvariants(t, m)
}

func TestUnitsAreBalanced(t *testing.T) {
	chip := preset(t, "S") // 9 crossbars per core
	b := model.NewBuilder("c")
	x := b.Input("x", 256, 14, 14)
	b.Conv("c", x, model.Conv2D(512, 3, 1, 1)) // 2304 rows = 9 row blocks, 8 stripes
	m, err := Map(build(t, b), chip)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layers[0]
	if l.RowBlocks != 9 || l.NumUnits != 8 || l.InputSplits != 1 {
		t.Fatalf("layer %+v", l)
	}
	b2 := model.NewBuilder("c2")
	x2 := b2.Input("x", 16, 14, 14)
	b2.Conv("c", x2, model.Conv2D(640, 1, 1, 0)) // 1 row block, 10 stripes, 9 per core -> 2 units of 5
	m2, err := Map(build(t, b2), chip)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []string
	for _, u := range m2.Units {
		sizes = append(sizes, fmt.Sprint(u.Crossbars))
	}
	if got := strings.Join(sizes, ","); got != "5,5" {
		t.Errorf("unit crossbars %s, want 5,5", got)
	}
}

func TestPackCores(t *testing.T) {
	cases := []struct {
		sizes       []int
		cores, per  int
		want        bool
		description string
	}{
		{[]int{4, 4, 4, 4}, 2, 8, true, "exact"},
		{[]int{5, 5, 5}, 2, 8, false, "capacity ok but no unit pairs fit a core"},
		{[]int{9}, 4, 8, false, "unit larger than a core"},
		{[]int{6, 2, 5, 3}, 2, 8, true, "FFD pairs 6+2 and 5+3"},
		{nil, 1, 1, true, "nothing to place"},
	}
	for _, c := range cases {
		if got := PackCores(c.sizes, c.cores, c.per); got != c.want {
			t.Errorf("%s: PackCores(%v, %d, %d) = %v", c.description, c.sizes, c.cores, c.per, got)
		}
	}
}

func TestMapErrors(t *testing.T) {
	chip := preset(t, "M")
	if _, err := Map(model.New("x"), chip); err == nil || !strings.Contains(err.Error(), "inferred") {
		t.Errorf("uninferred graph: %v", err)
	}
	b := model.NewBuilder("noxbar")
	x := b.Input("x", 4)
	b.Unary(model.OpReLU, "r", x)
	if _, err := Map(build(t, b), chip); err == nil || !strings.Contains(err.Error(), "no Conv or Linear") {
		t.Errorf("no crossbar layer: %v", err)
	}
	bad := *chip
	bad.Cores = 0
	g := build(t, func() *model.Builder {
		b := model.NewBuilder("fc")
		b.Linear("fc", b.Input("x", 8), 8, false)
		return b
	}())
	if _, err := Map(g, &bad); err == nil || !strings.Contains(err.Error(), "cores") {
		t.Errorf("bad chip: %v", err)
	}
}

func BenchmarkMapResNet50(b *testing.B) {
	g, err := zoo.Build("resnet50")
	if err != nil {
		b.Fatal(err)
	}
	chip := preset(b, "M")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Map(g, chip); err != nil {
			b.Fatal(err)
		}
	}
}

// bfdReference is best-fit decreasing one item at a time: the definition
// that PackCounts implements in bulk.
func bfdReference(sizes []int, cores, perCore int) bool {
	sorted := append([]int(nil), sizes...)
	sort.Sort(sort.Reverse(sort.IntSlice(sorted)))
	var free []int
	for _, s := range sorted {
		best := -1
		for c, f := range free {
			if f >= s && (best < 0 || f < free[best]) {
				best = c
			}
		}
		if best < 0 {
			if len(free) == cores || s > perCore {
				return false
			}
			free = append(free, perCore)
			best = len(free) - 1
		}
		free[best] -= s
	}
	return true
}

// exactPack decides bin packing by exhaustive search (tiny instances only).
func exactPack(sizes []int, cores, perCore int) bool {
	free := make([]int, cores)
	for i := range free {
		free[i] = perCore
	}
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(sizes) {
			return true
		}
		for c := range free {
			if free[c] >= sizes[i] {
				free[c] -= sizes[i]
				ok := try(i + 1)
				free[c] += sizes[i]
				if ok {
					return true
				}
			}
		}
		return false
	}
	return try(0)
}

func TestPackCountsIsBestFitDecreasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	disagreeExact := 0
	const trials = 3000
	for trial := 0; trial < trials; trial++ {
		perCore := 1 + rng.IntN(16)
		cores := 1 + rng.IntN(5)
		n := rng.IntN(12)
		sizes := make([]int, n)
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(perCore)
		}
		got := PackCores(sizes, cores, perCore)
		core, offset, placed := PlaceCores(sizes, cores, perCore)
		if placed != got {
			t.Fatalf("PlaceCores(%v, %d, %d) placed = %v, PackCores says %v", sizes, cores, perCore, placed, got)
		}
		if placed {
			checkPlacement(t, sizes, core, offset, cores, perCore)
		}
		if want := bfdReference(sizes, cores, perCore); got != want {
			t.Fatalf("PackCores(%v, %d, %d) = %v, item-by-item BFD says %v", sizes, cores, perCore, got, want)
		}
		exact := exactPack(sizes, cores, perCore)
		if got && !exact {
			t.Fatalf("PackCores(%v, %d, %d) claims a packing that does not exist", sizes, cores, perCore)
		}
		if exact != got {
			disagreeExact++
		}
	}
	// BFD is a heuristic; it must rarely miss a packing that exists.
	if disagreeExact > trials/50 {
		t.Errorf("BFD missed %d of %d feasible packings", disagreeExact, trials)
	}
	t.Logf("BFD missed %d feasible packings in %d random instances", disagreeExact, trials)
}

func TestValidEnds(t *testing.T) {
	for _, name := range []string{"vgg16", "resnet18", "squeezenet1_1", "mobilenet_v2"} {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"S", "L"} {
			chip := preset(t, p)
			m, err := Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			ends := m.ValidEnds()
			n := len(m.Units)
			for a, e := range ends {
				if e <= a || e > n {
					t.Fatalf("%s/%s: ValidEnds[%d] = %d: every single unit must be a valid span", name, p, a, e)
				}
				xb := 0
				sizes := []int{}
				for _, u := range m.Units[a:e] {
					xb += u.Crossbars
					sizes = append(sizes, u.Crossbars)
				}
				if xb > m.CrossbarsAvailable || !PackCores(sizes, chip.Cores, chip.CrossbarsPerCore) {
					t.Fatalf("%s/%s: span [%d,%d) of %d crossbars called valid", name, p, a, e, xb)
				}
				if e < n && PackCores(append(sizes, m.Units[e].Crossbars), chip.Cores, chip.CrossbarsPerCore) {
					t.Fatalf("%s/%s: span [%d,%d) packs but ValidEnds stops at %d", name, p, a, e+1, e)
				}
			}
			if m.Fits != (ends[0] == n) {
				t.Errorf("%s/%s: Fits %v but ValidEnds[0] = %d of %d", name, p, m.Fits, ends[0], n)
			}
		}
	}
}

// checkPlacement verifies that no two items overlap on a core and every
// item lies inside its core.
func checkPlacement(t *testing.T, sizes, core, offset []int, cores, perCore int) {
	t.Helper()
	occupied := make([][]bool, cores)
	for c := range occupied {
		occupied[c] = make([]bool, perCore)
	}
	for i, s := range sizes {
		if core[i] < 0 || core[i] >= cores || offset[i] < 0 || offset[i]+s > perCore {
			t.Fatalf("item %d (%d crossbars) placed at core %d offset %d", i, s, core[i], offset[i])
		}
		for x := offset[i]; x < offset[i]+s; x++ {
			if occupied[core[i]][x] {
				t.Fatalf("crossbar %d of core %d holds two items", x, core[i])
			}
			occupied[core[i]][x] = true
		}
	}
}

// TestConvTransposeMapping: a transposed convolution maps input-stationary:
// rows = input channels per group, cols = output channels per group x
// kernel area, one position per input pixel; its weight cells are exactly
// its weights' bits, and every unit invariant holds.
func TestConvTransposeMapping(t *testing.T) {
	chip := preset(t, "M")
	g := model.New("up")
	g.Add(&model.Node{Name: "x", Op: model.OpInput, Shape: model.Shape{64, 20, 20}})
	g.Add(&model.Node{Name: "up", Op: model.OpConvTranspose, Inputs: []string{"x"}, Conv: &model.ConvSpec{OutChannels: 32, KernelH: 4, KernelW: 4,
		StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, DilationH: 1, DilationW: 1, Groups: 1}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	m, err := Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Layers[0]
	if l.Op != model.OpConvTranspose || l.Rows != 64 || l.Cols != 32*16 || l.Positions != 400 || l.Groups != 1 {
		t.Fatalf("layer %+v", l)
	}
	if l.Cells != int64(64*32*16)*int64(chip.WeightBits/chip.BitsPerCell) {
		t.Errorf("cells %d for %d weights", l.Cells, 64*32*16)
	}
	checkInvariants(t, m)
}
