// Package mapping places a network's weights on a chip's crossbars: for every
// Conv and Linear layer it forms the weight matrix, slices each weight into
// cell columns, tiles the matrix into crossbar blocks and cuts the layer into
// partition units, the smallest granule of the partition search (each unit
// fits one core). It also says whether the whole model fits the chip at
// once, which is all that compilers without weight replacement can do,
// how a unit's rows and columns spread over its crossbars (Crossbar,
// crossbars.go), and what a replica of a unit keeps in its core's local
// memory and spills to DRAM (Buffer, buffer.go).
//
// Matrix layout. A layer with G groups has, per group, a matrix of
// rows = kernel area x input channels per group and cols = output channels
// per group. A transposed convolution is mapped input-stationary: rows =
// input channels per group, cols = output channels per group x kernel
// area, one matrix-vector product per input pixel, the overlapping window
// sums on the vector unit. A weight of W bits on cells of b bits occupies ceil(W/b) adjacent
// columns (bit slicing); a crossbar of C columns holds floor(C / ceil(W/b))
// whole weights across, so a weight's slices never straddle two crossbars.
// W is the layer's own weight_bits (model.Node.WeightBits, set by the ONNX
// importer from a quantized weight's integer type) or else the chip's: a
// layer wider than the chip takes more columns, one narrower fewer; the
// ADCs still read one column of b-bit cells at a time and the slices are
// combined by the digital shift-and-add, so only the column count changes.
//
// Grouped and depthwise convolutions. When one group's block fits in a
// crossbar, several groups share it as non-overlapping diagonal blocks:
// group j of the crossbar uses its own rows and its own columns, so one MVM
// computes all of them at once and no crossbar is spent per channel. The
// number of groups per crossbar is min(R / rows, C / (cols x W/b), G).
// Larger groups are tiled like dense layers, group after group.
//
// Partition units. The column stripes of a layer (one stripe = a block of
// output columns, as many row blocks tall as the fan-in needs) are dealt
// into the fewest units that each fit one core, as evenly as possible. When
// the fan-in alone needs more row blocks than a core has crossbars (VGG16's
// first FC layer: 25088 inputs = 98 blocks of 256 rows), each stripe is
// also split along the input dimension into InputSplits units whose partial
// sums the vector unit adds.
package mapping

import (
	"fmt"
	"slices"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model"
)

// Layer is the crossbar mapping of one Conv, ConvTranspose or Linear node.
type Layer struct {
	Node int      // index of the node in the graph
	Name string   // node name
	Op   model.Op // OpConv, OpConvTranspose or OpLinear

	Groups        int // convolution groups (1 for Linear)
	Rows          int // matrix rows per group: kernel area x input channels per group (ConvTranspose: input channels per group)
	Cols          int // matrix columns per group: output channels per group (ConvTranspose: times the kernel area)
	WeightBits    int // weight precision: the node's weight_bits if it has one, else the chip's
	ColsPerWeight int // cell columns per weight: ceil(WeightBits / bits per cell)

	GroupsPerCrossbar int // groups sharing one crossbar as diagonal blocks (1 when not packed)
	RowBlocks         int // crossbar row blocks a stripe spans (ceil(Rows / crossbar rows))
	Stripes           int // column stripes (packed crossbars, or column blocks x groups)
	InputSplits       int // units each stripe is split into along the input dimension (1 = none)

	Crossbars   int     // crossbars the layer occupies at replication 1
	Cells       int64   // cells holding weight bits
	Utilisation float64 // Cells / (Crossbars x rows x cols)

	Positions int64 // input vectors per inference: output pixels of a conv, input pixels of a transposed conv, tokens of a linear

	FirstUnit, NumUnits int // the layer's units are Units[FirstUnit : FirstUnit+NumUnits]
}

// Unit is a partition unit: a block of one layer's weight matrix that fits
// one core.
type Unit struct {
	Layer      int // index into Mapping.Layers
	Index      int // position among the layer's units
	OutStart   int // first output channel (over all groups)
	OutEnd     int // one past the last output channel
	RowStart   int // first matrix row (within each group's matrix)
	RowEnd     int // one past the last matrix row
	InputSplit int // which input-dimension slice this is, 0..InputSplits-1
	Crossbars  int // crossbars the unit occupies
	Cells      int64
}

// Mapping is the placement of a whole model on a chip at replication 1.
type Mapping struct {
	Graph  *model.Graph
	Chip   *hw.Chip
	Layers []Layer
	Units  []Unit // every layer's units, layers in topological order

	CrossbarsNeeded    int
	CrossbarsAvailable int
	Cells              int64
	Utilisation        float64 // Cells / (CrossbarsNeeded x rows x cols)

	// Fits reports whether every unit can be placed on the chip's cores at
	// once (the span of all units is valid: see ValidEnds), i.e. whether a
	// compiler without weight replacement could map it.
	Fits bool

	validEnds []int // memo of ValidEnds
}

// checkMappable reports why g cannot be mapped onto chip, if it cannot.
func checkMappable(g *model.Graph, chip *hw.Chip) error {
	if g == nil || !g.Inferred() {
		return fmt.Errorf("mapping: the graph must be inferred (call Infer) before mapping")
	}
	if err := chip.Validate(); err != nil {
		return err
	}
	if cpw := chip.ColumnsPerWeight(); cpw > chip.CrossbarCols {
		return fmt.Errorf("chip %q: one weight needs %d columns (weight_bits / bits_per_cell) but a crossbar has %d: raise crossbar_cols or bits_per_cell", chip.Name, cpw, chip.CrossbarCols)
	}
	return nil
}

func errNoCrossbarLayer(g *model.Graph) error {
	return fmt.Errorf("model %q has no Conv or Linear layer: nothing to place on crossbars", g.Name)
}

// CountUnits is the number of partition units Map would cut g into on chip
// (len(Map(g, chip).Units)), and Map's error if it would fail, computed
// from each layer's shape without building a unit: its time and memory do
// not grow with the unit count, so a caller can refuse a request for too
// many units before mapping it.
func CountUnits(g *model.Graph, chip *hw.Chip) (int, error) {
	if err := checkMappable(g, chip); err != nil {
		return 0, err
	}
	units, layers := 0, 0
	for i, n := range g.Nodes {
		if !n.Op.Crossbar() {
			continue
		}
		l, err := layerShape(g, i, chip)
		if err != nil {
			return 0, err
		}
		units += l.unitCount(chip.CrossbarsPerCore)
		layers++
	}
	if layers == 0 {
		return 0, errNoCrossbarLayer(g)
	}
	return units, nil
}

// Map maps every Conv and Linear layer of an inferred graph onto chip.
func Map(g *model.Graph, chip *hw.Chip) (*Mapping, error) {
	if err := checkMappable(g, chip); err != nil {
		return nil, err
	}
	m := &Mapping{Graph: g, Chip: chip, CrossbarsAvailable: chip.CrossbarsTotal()}
	for _, i := range g.CrossbarLayers() {
		l, units, err := mapLayer(g, i, chip)
		if err != nil {
			return nil, err
		}
		li := len(m.Layers)
		l.FirstUnit = len(m.Units)
		l.NumUnits = len(units)
		for k := range units {
			units[k].Layer = li
		}
		m.Units = append(m.Units, units...)
		m.Layers = append(m.Layers, l)
		m.CrossbarsNeeded += l.Crossbars
		m.Cells += l.Cells
	}
	if len(m.Layers) == 0 {
		return nil, errNoCrossbarLayer(g)
	}
	m.Utilisation = float64(m.Cells) / (float64(m.CrossbarsNeeded) * float64(chip.CrossbarRows) * float64(chip.CrossbarCols))
	m.Fits = m.ValidEnds()[0] == len(m.Units)
	return m, nil
}

// maxLayerCrossbars bounds one layer's crossbar count so that a malformed
// model cannot make the mapper allocate without limit (2^24 crossbars is
// 10^3 times VGG16 on the smallest preset).
const maxLayerCrossbars = 1 << 24

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// deal splits n items into k nearly equal consecutive runs and returns the
// start of run i (and, for i = k, n).
func deal(n, k, i int) int { return i*(n/k) + min(i, n%k) }

// WeightBits is the precision of crossbar layer n's weights on chip: the
// node's own weight_bits, or the chip's when it has none.
func WeightBits(n *model.Node, chip *hw.Chip) int {
	if n.WeightBits > 0 {
		return n.WeightBits
	}
	return chip.WeightBits
}

// ColumnsPerWeight is the cell columns one weight of crossbar layer n
// takes on chip: ceil(WeightBits / bits_per_cell).
func ColumnsPerWeight(n *model.Node, chip *hw.Chip) int {
	return ceilDiv(WeightBits(n, chip), chip.BitsPerCell)
}

// layerShape is crossbar layer i's matrix and tiling on chip: every Layer
// field but those that sum its units (Crossbars, Cells, Utilisation) and
// its unit range (FirstUnit, NumUnits).
func layerShape(g *model.Graph, i int, chip *hw.Chip) (Layer, error) {
	n := g.Nodes[i]
	in := g.Nodes[g.Producers(i)[0]].Out
	l := Layer{Node: i, Name: n.Name, Op: n.Op, Groups: 1, WeightBits: WeightBits(n, chip), ColsPerWeight: ColumnsPerWeight(n, chip), InputSplits: 1}
	if l.ColsPerWeight > chip.CrossbarCols {
		return l, fmt.Errorf("layer %q: its %d-bit weights need %d columns of %d-bit cells (weight_bits / bits_per_cell) but chip %q has crossbar_cols = %d: raise crossbar_cols or bits_per_cell", n.Name, l.WeightBits, l.ColsPerWeight, chip.BitsPerCell, chip.Name, chip.CrossbarCols)
	}
	switch n.Op {
	case model.OpConv:
		c := n.Conv
		l.Groups = c.Groups
		l.Rows = c.KernelH * c.KernelW * (in[0] / c.Groups)
		l.Cols = c.OutChannels / c.Groups
		l.Positions = int64(n.Out[1]) * int64(n.Out[2])
	case model.OpConvTranspose:
		// Input-stationary: each input pixel's channels (per group) pass
		// once through a matrix whose columns are every output channel at
		// every kernel tap; the vector unit adds the products into the
		// overlapping output windows (model's vector-op count).
		c := n.Conv
		l.Groups = c.Groups
		l.Rows = in[0] / c.Groups
		l.Cols = c.OutChannels / c.Groups * c.KernelH * c.KernelW
		l.Positions = int64(in[1]) * int64(in[2])
	case model.OpLinear:
		l.Rows = in[len(in)-1]
		l.Cols = n.Linear.OutFeatures
		l.Positions = in.Elems() / int64(l.Rows)
	}
	R, C, K := chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore
	perBlock := C / l.ColsPerWeight // whole weights across one crossbar
	l.RowBlocks = ceilDiv(l.Rows, R)
	l.GroupsPerCrossbar = 1
	if l.Groups > 1 && l.Rows <= R && l.Cols <= perBlock {
		l.GroupsPerCrossbar = min(R/l.Rows, perBlock/l.Cols, l.Groups)
		l.Stripes = ceilDiv(l.Groups, l.GroupsPerCrossbar)
	} else {
		l.Stripes = l.Groups * ceilDiv(l.Cols, perBlock)
	}
	if int64(l.Stripes)*int64(l.RowBlocks) > maxLayerCrossbars {
		return l, fmt.Errorf("layer %q needs more than %d crossbars (%dx%d matrix on %dx%d crossbars): too large to map", n.Name, maxLayerCrossbars, l.Rows, l.Cols*l.Groups, R, C)
	}
	if l.RowBlocks > K {
		l.InputSplits = ceilDiv(l.RowBlocks, K)
	}
	return l, nil
}

// unitCount is the number of units mapLayer cuts a layer of this shape
// into on cores of perCore crossbars.
func (l *Layer) unitCount(perCore int) int {
	if l.RowBlocks <= perCore {
		return ceilDiv(l.Stripes, perCore/l.RowBlocks)
	}
	return l.Stripes * l.InputSplits
}

func mapLayer(g *model.Graph, i int, chip *hw.Chip) (Layer, []Unit, error) {
	l, err := layerShape(g, i, chip)
	if err != nil {
		return l, nil, err
	}
	R, C, K := chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore
	perBlock := C / l.ColsPerWeight
	// stripeOut[k] is the first output channel of stripe k; stripes are
	// group-major, then column block.
	stripeOut := make([]int, 0, l.Stripes+1)
	if l.Groups > 1 && l.Rows <= R && l.Cols <= perBlock { // groups packed as diagonal blocks
		for s := 0; s <= l.Stripes; s++ {
			stripeOut = append(stripeOut, min(s*l.GroupsPerCrossbar, l.Groups)*l.Cols)
		}
	} else {
		blocks := ceilDiv(l.Cols, perBlock)
		for gr := 0; gr < l.Groups; gr++ {
			for b := 0; b < blocks; b++ {
				stripeOut = append(stripeOut, gr*l.Cols+b*perBlock)
			}
		}
		stripeOut = append(stripeOut, l.Groups*l.Cols)
	}
	units := make([]Unit, 0, l.unitCount(K))
	addUnit := func(s0, s1, r0, r1, split int) {
		outs := stripeOut[s1] - stripeOut[s0]
		u := Unit{Index: len(units), OutStart: stripeOut[s0], OutEnd: stripeOut[s1], RowStart: r0, RowEnd: r1, InputSplit: split,
			Cells: int64(outs) * int64(l.ColsPerWeight) * int64(r1-r0)}
		if l.GroupsPerCrossbar > 1 {
			u.Crossbars = s1 - s0
		} else {
			u.Crossbars = (s1 - s0) * ceilDiv(r1-r0, R)
		}
		units = append(units, u)
	}
	if l.RowBlocks <= K {
		nu := l.unitCount(K) // stripes dealt K / RowBlocks to a core
		for k := 0; k < nu; k++ {
			addUnit(deal(l.Stripes, nu, k), deal(l.Stripes, nu, k+1), 0, l.Rows, 0)
		}
	} else {
		for s := 0; s < l.Stripes; s++ {
			for p := 0; p < l.InputSplits; p++ {
				r0 := deal(l.RowBlocks, l.InputSplits, p) * R
				r1 := min(deal(l.RowBlocks, l.InputSplits, p+1)*R, l.Rows)
				addUnit(s, s+1, r0, r1, p)
			}
		}
	}
	for _, u := range units {
		l.Crossbars += u.Crossbars
		l.Cells += u.Cells
	}
	l.Utilisation = float64(l.Cells) / (float64(l.Crossbars) * float64(R) * float64(C))
	return l, units, nil
}

// PackCores reports whether items of the given crossbar counts can be
// placed on `cores` cores of `perCore` crossbars each, no item split across
// cores. It uses best-fit decreasing (see PackCounts); a true answer is a
// real placement, a false one is conservative.
func PackCores(sizes []int, cores, perCore int) bool {
	counts := make([]int, perCore+1)
	for _, s := range sizes {
		if s <= 0 {
			continue
		}
		if s > perCore {
			return false
		}
		counts[s]++
	}
	return PackCounts(counts, cores, perCore)
}

// PackCounts is PackCores on a histogram: counts[s] items of s crossbars,
// for s = 1..perCore (counts has perCore+1 entries; counts[0] is ignored).
// Best-fit decreasing places each item, largest first, on the open core
// with the least free space that still holds it, opening a new core only
// when none does. Identical items are placed in bulk, so the cost is
// O(perCore^2) whatever the counts: cheap enough for the estimator's
// replication search, which calls it many times per partition.
func PackCounts(counts []int, cores, perCore int) bool {
	var freeBuf [65]int
	free := freeBuf[:0]
	if perCore+1 <= len(freeBuf) {
		free = freeBuf[:perCore+1]
	} else {
		free = make([]int, perCore+1)
	}
	unopened := cores
	for s := perCore; s >= 1; s-- {
		c := counts[s]
		if c <= 0 {
			continue
		}
		for f := s; f <= perCore && c > 0; f++ { // best fit: smallest free space first
			if f == perCore {
				break // fully free cores are the unopened ones
			}
			for free[f] > 0 && c > 0 {
				q := f / s // items of size s one such core takes
				if c >= q {
					full := min(free[f], c/q)
					free[f] -= full
					free[f-q*s] += full
					c -= q * full
				} else {
					free[f]--
					free[f-c*s]++
					c = 0
				}
			}
		}
		if c > 0 {
			q := perCore / s
			need := (c + q - 1) / q
			if need > unopened {
				return false
			}
			unopened -= need
			full := c / q
			free[perCore-q*s] += full
			if rest := c - full*q; rest > 0 {
				free[perCore-rest*s]++
			}
		}
	}
	return true
}

// ValidEnds is the paper's validity map in compact form: for every start
// unit a, the largest end e such that every span [a, b) with a < b <= e is
// a valid partition (its units, each on one core, fit the chip at
// replication 1). Validity is monotone in b, so the upper-triangular
// boolean map is valid(a, b) = a < b <= ValidEnds()[a]. Computed once.
func (m *Mapping) ValidEnds() []int {
	if m.validEnds != nil {
		return m.validEnds
	}
	sizes := make([]int, len(m.Units))
	for i, u := range m.Units {
		sizes[i] = u.Crossbars
	}
	m.validEnds = validEnds(sizes, m.Chip.Cores, m.Chip.CrossbarsPerCore)
	return m.validEnds
}

// validEnds computes ValidEnds for units of the given crossbar counts (each
// 1..perCore) on cores cores of perCore crossbars. The definition: ends[a]
// is the first b such that the units [a, b] (inclusive) do not pack by
// PackCounts, or n; that is, [a, b) is valid when every prefix of it packs,
// which makes validity monotone in the end b whatever the packer does.
//
// Monotone in the start too? Not by construction: best-fit decreasing is a
// heuristic, and removing an item can make it fail where the larger set
// succeeded (the classic bin-packing anomaly), so [a+1, b) may fail to pack
// although [a, b) packs. Hence ends[a+1] >= ends[a] is not assumed. (An
// exhaustive search of every histogram on up to 4 cores of up to 16
// crossbars, and millions of random ones up to 64 crossbars a core, found
// no such case for PackCounts, but none is ruled out, so the prefixes of
// a window the sufficient condition below does not settle are still
// packed one by one.)
//
// It is grown with two pointers instead of packing every span from every
// start (units^2 packings). A window [a, b) slides right: a unit is added
// at the end while the window packs, the first unit is dropped when the
// start advances. On advancing to a+1 every prefix [a+1, c), c <= b, must
// still pack; that is settled at once when a sufficient condition for
// PackCounts to succeed (packsSurely) holds on the whole window, since the
// condition holds on every subset of a set it holds on. Only where it does
// not are the prefixes packed one by one, as the straightforward map does.
// Each step then costs one check of the condition (O(1) when classCores
// settles it, else O(perCore log perCore)) and a packing only where the
// condition fails: a chain of equal units, any span of at most `cores`
// units, many small units on a large chip and pairs that share cores are
// all settled, so their map costs about units x perCore. The worst case, a
// mix the condition cannot settle, is the straightforward map's cost.
func validEnds(sizes []int, cores, perCore int) []int {
	n := len(sizes)
	ends := make([]int, n)
	win := newCrossbarHistogram(perCore) // the units [a, b)
	pre := newCrossbarHistogram(perCore) // prefixes of the window, when they need checking
	b := 0
	for a := 0; a < n; a++ {
		if a > 0 && b > a-1 {
			win.remove(sizes[a-1])
		}
		if b < a {
			b = a
		}
		if b > a && !win.packsSurely(cores) {
			// Check every prefix [a, c] of the window; stop at the first
			// that does not pack and shrink the window to it.
			pre.reset()
			c := a
			for ; c < b; c++ {
				pre.add(sizes[c])
				if !pre.packsSurely(cores) && !PackCounts(pre.counts, cores, perCore) {
					break
				}
			}
			if c < b {
				for k := c; k < b; k++ {
					win.remove(sizes[k])
				}
				ends[a], b = c, c // [a, c] does not pack: the span ends here
				continue
			}
		}
		for b < n {
			win.add(sizes[b])
			if !win.packsSurely(cores) && !PackCounts(win.counts, cores, perCore) {
				win.remove(sizes[b])
				break
			}
			b++
		}
		ends[a] = b
	}
	return ends
}

// crossbarHistogram counts units by crossbar count (counts[s] units of s
// crossbars, the form PackCounts takes) and by class, the units a core
// holds of their size (floor(perCore / s)), for packsSurely.
type crossbarHistogram struct {
	perCore    int
	counts     []int // counts[s] units of s crossbars; counts[0] unused
	classUnits []int // classUnits[q]: units of a size s with floor(perCore / s) = q
	classCores int   // sum over q of ceil(classUnits[q] / q)
	atLeast    []int // scratch for packsSurely
}

func newCrossbarHistogram(perCore int) *crossbarHistogram {
	return &crossbarHistogram{perCore: perCore, counts: make([]int, perCore+1),
		classUnits: make([]int, perCore+1), atLeast: make([]int, perCore+2)}
}

func (h *crossbarHistogram) reset() {
	clear(h.counts)
	clear(h.classUnits)
	h.classCores = 0
}

func (h *crossbarHistogram) add(s int) {
	if s <= 0 {
		return // PackCounts ignores empty units
	}
	q := h.perCore / s
	h.classCores += ceilDiv(h.classUnits[q]+1, q) - ceilDiv(h.classUnits[q], q)
	h.classUnits[q]++
	h.counts[s]++
}

func (h *crossbarHistogram) remove(s int) {
	if s <= 0 {
		return
	}
	q := h.perCore / s
	h.classCores += ceilDiv(h.classUnits[q]-1, q) - ceilDiv(h.classUnits[q], q)
	h.classUnits[q]--
	h.counts[s]--
}

// packsSurely is a sufficient condition for PackCounts(h.counts, cores,
// perCore) to succeed that, holding for a set of units, holds for every
// subset of it (every figure below only shrinks with the set). It rests on
// what best-fit decreasing does. First, the units of one class q (sizes s
// with floor(perCore / s) = q, each at most perCore / q) come one after
// another, and a core it opens for them holds q of them before it opens
// the next: with fewer than q, at most q-1 units of at most perCore / q,
// it has perCore / q >= s free. So it opens at most ceil(classUnits[q] / q)
// cores per class and classCores <= cores suffices. Second, when it
// fails on a unit of size s, every core is open with fewer than s
// crossbars free, holding units of size s or more only (it places them
// largest first), one of size s is left over, and so:
//
//   - the units of size s or more hold at least s more crossbars than
//     cores x (perCore - s + 1);
//   - there are at least j x cores - (G(1) + ... + G(j-1)) + 1 of them for
//     every j >= 1, where G(i) counts the units of size s or more that are
//     at least ceil((perCore - s + 1) / i): a core holding i units or fewer
//     holds one that large, a different one on each such core.
//
// So if, for every size s present, one of these fails to hold, the packing
// succeeds. The first test settles units of one size exactly (a chain of
// equal layers), the sum test many small units on a large chip, the count
// test pairs and triples of units that share cores (33 + 31 crossbars).
func (h *crossbarHistogram) packsSurely(cores int) bool {
	if h.classCores <= cores {
		return true
	}
	K := h.perCore
	atLeast := h.atLeast // atLeast[t]: units of t crossbars or more
	atLeast[K+1] = 0
	for s := K; s >= 1; s-- {
		atLeast[s] = atLeast[s+1] + h.counts[s]
	}
	var crossbars int64 // crossbars of the units of size s or more
	for s := K; s >= 1; s-- {
		if h.counts[s] == 0 {
			continue
		}
		crossbars += int64(s) * int64(h.counts[s])
		if crossbars < int64(cores)*int64(K-s+1)+int64(s) {
			continue
		}
		full := K - s + 1 // crossbars a core holds at least when s fails
		units := int64(atLeast[s])
		settled := units <= int64(cores)
		var larger int64 // G(1) + ... + G(j-1)
		for j := 2; !settled && j <= K/s+1; j++ {
			g := atLeast[min(max(s, ceilDiv(full, j-1)), K+1)]
			if g >= cores {
				break // the bound grows no more
			}
			larger += int64(g)
			settled = units <= int64(j)*int64(cores)-larger
		}
		if !settled {
			return false
		}
	}
	return true
}

// PartialSumAdds is the number of vector additions per inference that the
// layer's input splits imply: each output of each position is the sum of
// InputSplits partial results.
func (l *Layer) PartialSumAdds() int64 {
	return int64(l.InputSplits-1) * int64(l.Cols*l.Groups) * l.Positions
}

// PlaceCores assigns items of the given crossbar counts to cores by
// best-fit decreasing, one item at a time: the placement whose existence
// PackCounts decides in bulk (the two agree on success). It returns each
// item's core and its first crossbar within the core, or ok = false.
// Items are taken largest first, ties in index order, so the placement is
// deterministic.
func PlaceCores(sizes []int, cores, perCore int) (core, offset []int, ok bool) {
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return sizes[b] - sizes[a] })
	core = make([]int, len(sizes))
	offset = make([]int, len(sizes))
	var used []int // crossbars used per opened core
	for _, it := range order {
		s := sizes[it]
		if s <= 0 || s > perCore {
			return nil, nil, false
		}
		best := -1
		for c, u := range used {
			if perCore-u >= s && (best < 0 || u > used[best]) {
				best = c
			}
		}
		if best < 0 {
			if len(used) == cores {
				return nil, nil, false
			}
			used = append(used, 0)
			best = len(used) - 1
		}
		core[it], offset[it] = best, used[best]
		used[best] += s
	}
	return core, offset, true
}
