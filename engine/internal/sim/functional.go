package sim

import (
	"fmt"

	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// Functional asks Run to execute the program's arithmetic as well as its
// timing: crossbars hold the weights as cells (two's-complement weights
// stored offset-binary, bits_per_cell bits a cell, the layer's
// ColsPerWeight cells a weight), inputs go in bit-serially, an ideal ADC
// reads every column, and shift-and-add (minus the offset times the sum of
// the inputs) recovers each dot product; input-split units' partial sums
// are added by VACC, the vector work of each layer runs on its homes'
// slices of the output, and tensors move through SEND, RECV, STORE_DATA
// and LOAD_DATA as values. Reference computes the same network directly.
//
// Arithmetic is integer. A tensor that crosses from one layer to another
// (any consumer is a Conv/Linear layer or belongs to another layer) is
// requantised to the activation precision: clamp(x >> Shift, 0,
// 2^activation_bits - 1). Graph outputs are left as they are. Supported
// vector ops are the element-wise ones a home can compute on its slice:
// ReLU, Clip, Add, Identity, Flatten and Reshape.
type Functional struct {
	// Layout is the plan's layout (package layout) the program was
	// compiled from: every WRITE_WEIGHT must program a crossbar where the
	// layout put that crossbar of that unit in that partition, which
	// also says which of the unit's crossbars it is; its owners decide
	// where tensors cross layers.
	Layout *layout.Layout
	// Weights holds, per mapping layer, its weights as [output][row] with
	// rows = kernel area x input channels per group, row r = (ci*KH +
	// kh)*KW + kw; each value must fit the layer's bits (mapping.Layer.WeightBits) as a
	// signed integer.
	Weights [][]int64
	// Inputs holds, per graph Input node, one tensor (flat, row-major)
	// per batch input, with values in [0, 2^activation_bits).
	Inputs map[int][][]int64
	Shift  int

	// Outputs receives, per graph output node, the tensor of each input.
	Outputs map[int][][]int64
}

// fnState is a functional run's data.
type fnState struct {
	f        *Functional
	m        *mapping.Mapping
	g        *model.Graph
	owners   *mapping.Owners
	cells    map[[2]int32]*crossbar
	placed   map[[3]int32][3]int // (partition, core, crossbar) -> (unit, the unit's crossbar, which piece of its replica) as the layout placed them
	pieces   map[[5]int64]*slice // (partition, unit, first position, input, core): results of a further piece of a split replica, until it sends them
	tensors  map[[3]int32][]int64
	dram     map[[4]int32][]int64 // by isa.Instr.DataKey
	stored   map[[4]int32][]bool  // which elements of a dram tensor a STORE_DATA wrote
	buffers  map[[4]int64]*slice  // (partition, unit, first position, input)
	mailbox  map[[4]int64][]*slice
	carried  map[[4]int32]*slice  // by DataKey: a stripe's partial sums of one input, all positions
	nodeVals map[[5]int64][]int64 // (partition, unit, first position, input, node)
	pre      []bool               // nodes before every layer (model.Graph.BeforeEveryLayer): computed by element range into the partition's tensor
	qmax     int64
}

// crossbar is one crossbar's cells and what they hold.
type crossbar struct {
	cells    [][]int64 // [row][col]: the digit stored in the cell
	rowGroup []int     // per row: group of the matrix row, -1 unused
	rowIndex []int     // per row: matrix row within the group
	colOut   []int     // per column: output channel, -1 unused
	colSlice []int     // per column: which digit of the weight
	unit     int
	piece    int // which piece of its replica holds it (0: the one on the replica's own core)
}

// slice is a home's part of a layer output: outputs [o0, o1) x positions
// [p0, p0+n), values[(o-o0)*n + (p-p0)]; positions is the layer's count.
type slice struct {
	o0, o1, p0, n, positions int
	values                   []int64
}

func newFunctional(f *Functional) (*fnState, error) {
	if f.Layout == nil || len(f.Weights) != len(f.Layout.Mapping.Layers) {
		return nil, fmt.Errorf("functional run: a layout and weights for each layer are needed")
	}
	m := f.Layout.Mapping
	g := m.Graph
	for _, n := range g.Nodes {
		switch n.Op {
		case model.OpInput, model.OpConv, model.OpLinear, model.OpReLU, model.OpClip, model.OpAdd, model.OpIdentity, model.OpFlatten, model.OpReshape:
		default:
			return nil, fmt.Errorf("functional run: node %q is a %s; the functional mode computes Conv, Linear and the element-wise ops ReLU, Clip, Add, Identity, Flatten, Reshape", n.Name, n.Op)
		}
	}
	placed := map[[3]int32][3]int{}
	for pi, p := range f.Layout.Partitions {
		for _, r := range p.Replicas {
			for k, pc := range r.Pieces {
				for j := range pc.Crossbars {
					placed[[3]int32{int32(pi), int32(pc.Core), int32(pc.FirstCrossbar + j)}] = [3]int{r.Unit, pc.UnitCrossbar + j, k}
				}
			}
		}
	}
	f.Outputs = map[int][][]int64{}
	return &fnState{f: f, m: m, g: g, owners: f.Layout.Owners, cells: map[[2]int32]*crossbar{}, placed: placed, pieces: map[[5]int64]*slice{},
		tensors: map[[3]int32][]int64{}, dram: map[[4]int32][]int64{}, stored: map[[4]int32][]bool{}, buffers: map[[4]int64]*slice{},
		mailbox: map[[4]int64][]*slice{}, carried: map[[4]int32]*slice{}, nodeVals: map[[5]int64][]int64{},
		pre: g.BeforeEveryLayer(), qmax: int64(1)<<m.Chip.ActivationBits - 1}, nil
}

// crosses reports whether node n's output leaves its layer: those tensors
// are requantised.
func crosses(g *model.Graph, owners *mapping.Owners, n int) bool {
	for _, c := range g.Consumers(n) {
		if g.Nodes[c].Op.Crossbar() || owners.Of(c) != owners.Of(n) {
			return true
		}
	}
	return false
}

func requant(v int64, shift int, qmax int64) int64 { return min(max(v>>shift, 0), qmax) }

// buildCrossbar lays out crossbar j of unit u from the weights: its blocks
// (mapping.Crossbar: one for dense layers; several groups on the diagonal
// for packed grouped convolutions), each weight offset-binary in
// ColsPerWeight adjacent cells of BitsPerCell bits, least significant first.
func (fs *fnState) buildCrossbar(u, j int) (*crossbar, error) {
	m := fs.m
	chip := m.Chip
	unit := m.Units[u]
	l := m.Layers[unit.Layer]
	R, C := chip.CrossbarRows, chip.CrossbarCols
	cpw, b := l.ColsPerWeight, chip.BitsPerCell
	xb := &crossbar{unit: u, cells: make([][]int64, R), rowGroup: make([]int, R), rowIndex: make([]int, R), colOut: make([]int, C), colSlice: make([]int, C)}
	for i := range xb.cells {
		xb.cells[i] = make([]int64, C)
		xb.rowGroup[i] = -1
	}
	for c := range xb.colOut {
		xb.colOut[c] = -1
	}
	blocks, err := m.Crossbar(u, j)
	if err != nil {
		return nil, err
	}
	offset := int64(1) << (cpw*b - 1)
	mask := int64(1)<<b - 1
	row, col := 0, 0
	for _, bl := range blocks {
		if row+bl.RowEnd-bl.RowStart > R || col+(bl.OutEnd-bl.OutStart)*cpw > C {
			return nil, fmt.Errorf("unit %d crossbar %d: its blocks overflow the crossbar", u, j)
		}
		for r := bl.RowStart; r < bl.RowEnd; r++ {
			xb.rowGroup[row+r-bl.RowStart], xb.rowIndex[row+r-bl.RowStart] = bl.Group, r
		}
		for o := bl.OutStart; o < bl.OutEnd; o++ {
			for q := 0; q < cpw; q++ {
				c := col + (o-bl.OutStart)*cpw + q
				xb.colOut[c], xb.colSlice[c] = o, q
				for r := bl.RowStart; r < bl.RowEnd; r++ {
					w := fs.f.Weights[unit.Layer][o*l.Rows+r] + offset
					xb.cells[row+r-bl.RowStart][c] = (w >> (q * b)) & mask
				}
			}
		}
		row += bl.RowEnd - bl.RowStart
		col += (bl.OutEnd - bl.OutStart) * cpw
	}
	return xb, nil
}

// inputAt is row r of group g's input vector at output position p of a
// layer (im2col for a convolution, the token's features for a linear).
func inputAt(g *model.Graph, l mapping.Layer, grp, r, p int, x []int64) int64 {
	n := g.Nodes[l.Node]
	if n.Op == model.OpLinear {
		return x[p*l.Rows+r]
	}
	in := g.Nodes[g.Producers(l.Node)[0]].Out
	c := n.Conv
	kw := r % c.KernelW
	kh := (r / c.KernelW) % c.KernelH
	ci := r / (c.KernelW * c.KernelH)
	ow, oh := p%n.Out[2], p/n.Out[2]
	ih := oh*c.StrideH - c.PadTop + kh*c.DilationH
	iw := ow*c.StrideW - c.PadLeft + kw*c.DilationW
	if ih < 0 || iw < 0 || ih >= in[1] || iw >= in[2] {
		return 0
	}
	return x[((grp*(in[0]/c.Groups)+ci)*in[1]+ih)*in[2]+iw]
}

func (fs *fnState) tensor(part int32, node int, input int32) []int64 {
	k := [3]int32{part, int32(node), input}
	t := fs.tensors[k]
	if t == nil {
		t = make([]int64, fs.g.Nodes[node].Out.Elems())
		fs.tensors[k] = t
	}
	return t
}

func bufKey(part int32, unit int32, pos int64, input int32) [4]int64 {
	return [4]int64{int64(part), int64(unit), pos, int64(input)}
}

// placedWhat describes what the layout placed on a crossbar, for an error.
func (fs *fnState) placedWhat(at [3]int, ok bool) string {
	if !ok {
		return "nothing"
	}
	return fmt.Sprintf("crossbar %d of unit %d", at[1], at[0])
}

// exec performs an instruction's arithmetic; the timing model has made
// sure its operands are complete.
func (fs *fnState) exec(id int, part, core int32, in isa.Instr) error {
	switch in.Op {
	case isa.WriteWeight:
		at, ok := fs.placed[[3]int32{part, core, in.Xbar}]
		if !ok || at[0] != int(in.Unit) {
			return fmt.Errorf("partition %d: WRITE_WEIGHT of unit %d on core %d crossbar %d, where the layout placed %s", part, in.Unit, core, in.Xbar, fs.placedWhat(at, ok))
		}
		xb, err := fs.buildCrossbar(at[0], at[1])
		if err != nil {
			return err
		}
		xb.piece = at[2]
		fs.cells[[2]int32{core, in.Xbar}] = xb
	case isa.LoadData:
		if in.Node == isa.SpillNode || in.Node == isa.TableNode { // buffers parked in DRAM, a lookup's rows: timing and energy only
			return nil
		}
		if in.Node == isa.PsumNode { // partial sums carried from earlier partitions
			d := fs.carried[in.DataKey()]
			if d == nil {
				return fmt.Errorf("partial sums of stripe %d were never stored", in.Unit)
			}
			// The whole stripe: VACC adds the home's positions of it. (Replicas
			// of one partition store disjoint positions, so a later store
			// never changes what an earlier load will add.)
			k := bufKey(part, in.Peer, in.Pos, in.Input)
			fs.mailbox[k] = append(fs.mailbox[k], d)
			return nil
		}
		t := fs.tensor(part, int(in.Node), in.Input)
		if src, ok := fs.f.Inputs[int(in.Node)]; ok {
			copy(t, src[in.Input])
		} else if d := fs.dram[in.DataKey()]; d != nil {
			// Only what earlier partitions stored: this partition may
			// already have computed its own share of the tensor (a layer
			// cut across partitions), and in the row pipeline the loader's
			// later bands load while it does.
			for i, ok := range fs.stored[in.DataKey()] {
				if ok {
					t[i] = d[i]
				}
			}
		}
	case isa.MVMul:
		return fs.mvm(part, core, in)
	case isa.Send:
		switch in.Node {
		case isa.LocalNode:
		case isa.PsumNode: // partial sums go to the home unit's accumulator
			k := bufKey(part, in.Unit, in.Pos, in.Input)
			src := fs.buffers[bufKey(part, in.Peer, in.Pos, in.Input)]
			pk := [5]int64{int64(part), int64(in.Peer), in.Pos, int64(in.Input), int64(core)}
			if p, ok := fs.pieces[pk]; ok { // from a further piece of a split replica, on its own core
				src = p
				delete(fs.pieces, pk)
			}
			if src == nil {
				return fmt.Errorf("partial sums of unit %d at position %d were never computed", in.Peer, in.Pos)
			}
			fs.mailbox[k] = append(fs.mailbox[k], src)
		default:
			if fs.pre[in.Node] { // computed in place into the partition's tensor
				return nil
			}
			return fs.publish(part, in, fs.tensor(part, int(in.Node), in.Input), nil)
		}
	case isa.StoreData:
		if in.Node == isa.SpillNode {
			return nil
		}
		k := in.DataKey()
		if in.Node == isa.PsumNode { // carry the accumulated partial sums, by position
			buf := fs.buffers[bufKey(part, in.Peer, in.Pos, in.Input)]
			if buf == nil {
				return fmt.Errorf("no partial sums of unit %d to store", in.Peer)
			}
			d := fs.carried[k]
			if d == nil {
				d = &slice{o0: buf.o0, o1: buf.o1, n: buf.positions, positions: buf.positions}
				d.values = make([]int64, (d.o1-d.o0)*d.n)
				fs.carried[k] = d
			}
			if d.o0 != buf.o0 || d.o1 != buf.o1 {
				return fmt.Errorf("unit %d stores partial sums of outputs %d-%d into a stripe of %d-%d", in.Peer, buf.o0, buf.o1, d.o0, d.o1)
			}
			for o := 0; o < buf.o1-buf.o0; o++ {
				copy(d.values[o*d.n+buf.p0:o*d.n+buf.p0+buf.n], buf.values[o*buf.n:(o+1)*buf.n])
			}
			return nil
		}
		if fs.dram[k] == nil {
			fs.dram[k] = make([]int64, fs.g.Nodes[in.Node].Out.Elems())
			fs.stored[k] = make([]bool, len(fs.dram[k]))
		}
		if err := fs.publish(part, in, fs.dram[k], fs.stored[k]); err != nil {
			return err
		}
		if len(fs.g.Consumers(int(in.Node))) == 0 {
			outs := fs.f.Outputs[int(in.Node)]
			for len(outs) <= int(in.Input) {
				outs = append(outs, nil)
			}
			outs[in.Input] = fs.dram[k]
			fs.f.Outputs[int(in.Node)] = outs
		}
	case isa.VAcc:
		k := bufKey(part, in.Unit, in.Pos, in.Input)
		dst := fs.buffers[k]
		if dst == nil {
			return fmt.Errorf("VACC: unit %d has no buffer at position %d", in.Unit, in.Pos)
		}
		for _, src := range fs.mailbox[k] {
			if src.o0 > dst.o0 || src.o1 < dst.o1 || src.p0 > dst.p0 || src.p0+src.n < dst.p0+dst.n {
				return fmt.Errorf("VACC: partial sums of outputs %d-%d at positions %d-%d do not cover unit %d's outputs %d-%d at positions %d-%d",
					src.o0, src.o1, src.p0, src.p0+src.n, in.Unit, dst.o0, dst.o1, dst.p0, dst.p0+dst.n)
			}
			for o := dst.o0; o < dst.o1; o++ {
				d := dst.values[(o-dst.o0)*dst.n : (o-dst.o0+1)*dst.n]
				sv := src.values[(o-src.o0)*src.n+(dst.p0-src.p0):]
				for i := range d {
					d[i] += sv[i]
				}
			}
		}
		delete(fs.mailbox, k)
	case isa.VAct, isa.VAdd, isa.VCopy:
		return fs.vector(part, in)
	}
	return nil
}

// mvm runs Count MVMs of one crossbar bit-serially and adds the dot
// products of its rows into the replica's buffer.
func (fs *fnState) mvm(part, core int32, in isa.Instr) error {
	xb := fs.cells[[2]int32{core, in.Xbar}]
	if xb == nil {
		return fmt.Errorf("MVMUL on core %d crossbar %d before any WRITE_WEIGHT", core, in.Xbar)
	}
	m := fs.m
	unit := m.Units[xb.unit]
	l := m.Layers[unit.Layer]
	chip := m.Chip
	k := bufKey(part, int32(xb.unit), in.Pos, in.Input)
	buf := fs.buffers[k]
	pk := [5]int64{k[0], k[1], k[2], k[3], int64(core)}
	if xb.piece > 0 { // a further piece accumulates apart, until it sends
		buf = fs.pieces[pk]
	}
	if buf == nil {
		buf = &slice{o0: unit.OutStart, o1: unit.OutEnd, p0: int(in.Pos), n: int(in.Count), positions: int(l.Positions)}
		buf.values = make([]int64, (buf.o1-buf.o0)*buf.n)
		if xb.piece > 0 {
			fs.pieces[pk] = buf
		} else {
			fs.buffers[k] = buf
		}
	}
	x := fs.tensor(part, fs.g.Producers(l.Node)[0], in.Input)
	R, C, b := chip.CrossbarRows, chip.CrossbarCols, chip.BitsPerCell
	offset := int64(1) << (l.ColsPerWeight*b - 1)
	xs := make([]int64, R)
	colAcc := make([]int64, C)
	groupSum := map[int]int64{}
	dots := map[int]int64{}
	for p := buf.p0; p < buf.p0+buf.n; p++ {
		clear(groupSum)
		for i := 0; i < R; i++ {
			xs[i] = 0
			if g := xb.rowGroup[i]; g >= 0 {
				xs[i] = inputAt(fs.g, l, g, xb.rowIndex[i], p, x)
				if xs[i] < 0 || xs[i] > fs.qmax {
					return fmt.Errorf("layer %s: input %d does not fit %d unsigned bits", l.Name, xs[i], chip.ActivationBits)
				}
				groupSum[g] += xs[i]
			}
		}
		// One slice per input bit through 1-bit inputs; an ideal ADC reads
		// each column's sum; shift-and-add over the slices.
		clear(colAcc)
		for j := 0; j < chip.ActivationBits; j++ {
			for c := 0; c < C; c++ {
				if xb.colOut[c] < 0 {
					continue
				}
				var sum int64
				for i := 0; i < R; i++ {
					sum += ((xs[i] >> j) & 1) * xb.cells[i][c]
				}
				colAcc[c] += sum << j
			}
		}
		// Shift-and-add over a weight's cells, then remove the offset.
		clear(dots)
		for c := 0; c < C; c++ {
			if o := xb.colOut[c]; o >= 0 {
				dots[o] += colAcc[c] << (xb.colSlice[c] * b)
			}
		}
		for o, v := range dots {
			buf.values[(o-buf.o0)*buf.n+(p-buf.p0)] += v - offset*groupSum[o/l.Cols]
		}
	}
	return nil
}

// valuesOf returns a home's slice of node n: the layer's accumulated
// buffer for its own node, else what vector work computed; requantised if
// the node's output leaves the layer.
func (fs *fnState) valuesOf(part int32, unit int32, pos int64, input int32, n int) ([]int64, *slice, error) {
	buf := fs.buffers[bufKey(part, unit, pos, input)]
	if buf == nil {
		return nil, nil, fmt.Errorf("no buffer of unit %d at position %d", unit, pos)
	}
	k := [5]int64{int64(part), int64(unit), pos, int64(input), int64(n)}
	if v, ok := fs.nodeVals[k]; ok {
		return v, buf, nil
	}
	if n != fs.m.Layers[fs.m.Units[unit].Layer].Node {
		return nil, nil, fmt.Errorf("node %s has no values yet", fs.g.Nodes[n].Name)
	}
	v := buf.values
	if crosses(fs.g, fs.owners, n) {
		v = make([]int64, len(buf.values))
		for i, x := range buf.values {
			v[i] = requant(x, fs.f.Shift, fs.qmax)
		}
	}
	fs.nodeVals[k] = v
	return v, buf, nil
}

// vector computes an owned element-wise node on the home's slice.
func (fs *fnState) vector(part int32, in isa.Instr) error {
	n := int(in.Node)
	if fs.pre[n] {
		return fs.before(part, in)
	}
	node := fs.g.Nodes[n]
	layer := fs.m.Units[in.Unit].Layer
	buf := fs.buffers[bufKey(part, in.Unit, in.Pos, in.Input)]
	if buf == nil {
		return fmt.Errorf("%s: no buffer of unit %d", node.Name, in.Unit)
	}
	operand := func(p int) ([]int64, error) {
		if fs.owners.Of(p) == layer && !fs.pre[p] {
			v, _, err := fs.valuesOf(part, in.Unit, in.Pos, in.Input, p)
			return v, err
		}
		// From another layer: gather the slice's elements of the full tensor.
		t := fs.tensor(part, p, in.Input)
		v := make([]int64, len(buf.values))
		for o := buf.o0; o < buf.o1; o++ {
			for q := 0; q < buf.n; q++ {
				v[(o-buf.o0)*buf.n+q] = t[o*buf.positions+buf.p0+q]
			}
		}
		return v, nil
	}
	a, err := operand(fs.g.Producers(n)[0])
	if err != nil {
		return err
	}
	out := make([]int64, len(a))
	switch node.Op {
	case model.OpReLU:
		for i, x := range a {
			out[i] = max(x, 0)
		}
	case model.OpClip:
		for i, x := range a {
			out[i] = min(max(x, int64(node.Min)), int64(node.Max))
		}
	case model.OpAdd:
		c, err := operand(fs.g.Producers(n)[1])
		if err != nil {
			return err
		}
		for i := range a {
			out[i] = a[i] + c[i]
		}
	default: // Identity, Flatten, Reshape keep the elements in order
		copy(out, a)
	}
	if crosses(fs.g, fs.owners, n) {
		for i, x := range out {
			out[i] = requant(x, fs.f.Shift, fs.qmax)
		}
	}
	fs.nodeVals[[5]int64{int64(part), int64(in.Unit), in.Pos, int64(in.Input), int64(n)}] = out
	return nil
}

// before computes elements [in.Pos, in.Pos+in.Count) of a node before
// every layer into the partition's tensor of it, from the partition's
// tensors of its operands (loaded, received or computed the same way).
func (fs *fnState) before(part int32, in isa.Instr) error {
	n := int(in.Node)
	node := fs.g.Nodes[n]
	out := fs.tensor(part, n, in.Input)
	if in.Pos < 0 || in.Count < 0 || in.Pos+in.Count > int64(len(out)) {
		return fmt.Errorf("%s: elements %d..%d of %d", node.Name, in.Pos, in.Pos+in.Count, len(out))
	}
	a := fs.tensor(part, fs.g.Producers(n)[0], in.Input)
	var c []int64
	if node.Op == model.OpAdd {
		c = fs.tensor(part, fs.g.Producers(n)[1], in.Input)
		if len(a) != len(out) || len(c) != len(out) {
			return fmt.Errorf("%s: the functional mode adds tensors of the same shape only", node.Name)
		}
	}
	cross := crosses(fs.g, fs.owners, n)
	for i := in.Pos; i < in.Pos+in.Count; i++ {
		v := a[i]
		switch node.Op {
		case model.OpReLU:
			v = max(v, 0)
		case model.OpClip:
			v = min(max(v, int64(node.Min)), int64(node.Max))
		case model.OpAdd:
			v += c[i]
		}
		if cross {
			v = requant(v, fs.f.Shift, fs.qmax)
		}
		out[i] = v
	}
	return nil
}

// publish writes a home's slice of node in.Node into dst, a full tensor
// (channel o, position p at o*positions + p), and marks the elements it
// writes in mark (when not nil).
func (fs *fnState) publish(part int32, in isa.Instr, dst []int64, mark []bool) error {
	if fs.pre[in.Node] { // the home's elements [pos, pos+count) of a node before every layer
		t := fs.tensor(part, int(in.Node), in.Input)
		if in.Pos < 0 || in.Count < 0 || in.Pos+in.Count > int64(len(t)) {
			return fmt.Errorf("storing %s: elements %d..%d of %d", fs.g.Nodes[in.Node].Name, in.Pos, in.Pos+in.Count, len(t))
		}
		copy(dst[in.Pos:in.Pos+in.Count], t[in.Pos:in.Pos+in.Count])
		for i := in.Pos; mark != nil && i < in.Pos+in.Count; i++ {
			mark[i] = true
		}
		return nil
	}
	v, buf, err := fs.valuesOf(part, in.Unit, in.Pos, in.Input, int(in.Node))
	if err != nil {
		return fmt.Errorf("sending %s: %w", fs.g.Nodes[in.Node].Name, err)
	}
	for o := buf.o0; o < buf.o1; o++ {
		for q := 0; q < buf.n; q++ {
			dst[o*buf.positions+buf.p0+q] = v[(o-buf.o0)*buf.n+q]
			if mark != nil {
				mark[o*buf.positions+buf.p0+q] = true
			}
		}
	}
	return nil
}

// Reference computes the network of a functional run directly: integer
// convolutions and products with the same weights, the element-wise ops,
// and the same requantisation where tensors leave a layer. It returns,
// per graph output node, each input's tensor.
func Reference(f *Functional) (map[int][][]int64, error) {
	m := f.Layout.Mapping
	g := m.Graph
	layerOf := map[int]int{}
	for li, l := range m.Layers {
		layerOf[l.Node] = li
	}
	qmax := int64(1)<<m.Chip.ActivationBits - 1
	batch := 0
	for _, in := range f.Inputs {
		batch = len(in)
	}
	out := map[int][][]int64{}
	for b := 0; b < batch; b++ {
		vals := make([][]int64, len(g.Nodes))
		for i, n := range g.Nodes {
			v := make([]int64, n.Out.Elems())
			switch n.Op {
			case model.OpInput:
				copy(v, f.Inputs[i][b])
			case model.OpConv, model.OpLinear:
				l := m.Layers[layerOf[i]]
				x := vals[g.Producers(i)[0]]
				P := int(l.Positions)
				for o := 0; o < l.Cols*l.Groups; o++ {
					for p := 0; p < P; p++ {
						var s int64
						for r := 0; r < l.Rows; r++ {
							s += f.Weights[layerOf[i]][o*l.Rows+r] * inputAt(g, l, o/l.Cols, r, p, x)
						}
						v[o*P+p] = s
					}
				}
			case model.OpReLU:
				for k, x := range vals[g.Producers(i)[0]] {
					v[k] = max(x, 0)
				}
			case model.OpClip:
				for k, x := range vals[g.Producers(i)[0]] {
					v[k] = min(max(x, int64(n.Min)), int64(n.Max))
				}
			case model.OpAdd:
				a, c := vals[g.Producers(i)[0]], vals[g.Producers(i)[1]]
				for k := range v {
					v[k] = a[k] + c[k]
				}
			case model.OpIdentity, model.OpFlatten, model.OpReshape:
				copy(v, vals[g.Producers(i)[0]])
			default:
				return nil, fmt.Errorf("reference: node %q is a %s", n.Name, n.Op)
			}
			if n.Op != model.OpInput && crosses(g, f.Layout.Owners, i) {
				for k, x := range v {
					v[k] = requant(x, f.Shift, qmax)
				}
			}
			vals[i] = v
			if len(g.Consumers(i)) == 0 {
				out[i] = append(out[i], v)
			}
		}
	}
	return out, nil
}
