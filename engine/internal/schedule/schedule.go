// Package schedule turns a partitioning into per-core instruction streams
// (package isa): for every partition, the weight replacement of every
// replica of every unit, then, for every input of the batch, the data each
// replica receives, its MVMs over its share of the output positions, the
// partial sums of input-split layers, a ConvTranspose's overlap adds, the
// vector work of the nodes its layer owns, and the tensors it sends to other cores or stores to DRAM.
// Entry tensors are loaded from DRAM by one loader stream per partition.
// Every input runs the same instructions, so each stream is stored once,
// in loop form (isa.LoopStream): the program's size does not grow with
// the batch.
//
// Each replica of each unit runs two in-order threads on the core the
// placement put it on: the crossbar thread (weight replacement, then per
// input: receive, MVMs) and the vector thread (per input: partial sums,
// the overlap adds, the owned vector work, sends and stores), handing over each input
// locally, so a replica's MVMs of one input overlap its vector work on the
// previous one. A replica whose buffers overflow its share of the core's
// local memory (mapping.Buffer) has a third, the spill thread, that parks
// the overflow of each input in DRAM and reads it back. Vector nodes that
// come before every layer (model.Graph.BeforeEveryLayer) run on a thread of their own on each
// home of the layer that owns them, since that layer's MVMs wait for them.
// A core runs the threads of all replicas it holds. Where each replica
// sits, which positions it computes, what it buffers and which layer owns
// each node come from the plan's layout (package layout), whose
// replication is the estimator's, so the simulator executes exactly the
// partitions the search chose.
package schedule

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// item is one replica of one unit as the layout placed it, with what the
// scheduler adds: its spill block and its shares of the layer's work.
type item struct {
	unit, replica int
	core, firstX  int
	home          int            // the unit of the same stripe that adds partial sums and does the vector work
	carryOut      bool           // its stripe has input splits after the span: partial sums go to DRAM (layout.Replica.CarriesOut)
	firstPos      int64          // the first output position this replica computes
	buf           mapping.Buffer // what it keeps in local memory, and spills
	spillAddr     uint64         // its DRAM block for spills
	positions     int64
	share         float64 // fraction of the layer's output this item produces (homes only)
	// The part of each node before every layer this home computes
	// (elementRange): [preFrom, preTo) of preOf, in units of its outputs x
	// positions over the partition's homes of the layer.
	preFrom, preTo, preOf uint64
	rowsPerCrossbar       []int          // rows of each of the unit's crossbars
	pieces                []layout.Piece // where its crossbars sit: the first on core, from firstX; the others (mapping.PolicyCrossbar) on cores of their own
}

// Build schedules the plan given by cuts (0 = c0 < ... < ck = units): it
// lays the plan out (layout.FromPlan) and compiles the layout (Compile).
func Build(e *estimate.Estimator, cuts []int) (*isa.LoopProgram, error) {
	return build(e, cuts, false)
}

// Compile schedules a plan's layout, made by layout.FromPlan. Every stream's
// per-input instructions are stored once (isa.LoopStream), so the
// program's size does not grow with the batch; Expand materialises it.
func Compile(e *estimate.Estimator, lay *layout.Layout) (*isa.LoopProgram, error) {
	return compile(e, lay, false)
}

// build lays out and schedules the plan; with flat, every input's
// instructions are generated into the streams' heads (no repetition), the
// reference the loop form must expand to.
func build(e *estimate.Estimator, cuts []int, flat bool) (*isa.LoopProgram, error) {
	lay, err := layout.FromPlan(e, cuts)
	if err != nil {
		return nil, err
	}
	return compile(e, lay, flat)
}

func compile(e *estimate.Estimator, lay *layout.Layout, flat bool) (*isa.LoopProgram, error) {
	m := e.Mapping()
	if lay.Mapping != m {
		return nil, fmt.Errorf("schedule: the layout is of another mapping than the estimator's")
	}
	g := m.Graph
	B := e.Batch()
	p := &isa.LoopProgram{Model: g.Name, Chip: m.Chip.Name, Batch: B}
	for _, l := range m.Layers {
		p.Layers = append(p.Layers, l.Name)
	}
	for _, n := range g.Nodes {
		p.Nodes = append(p.Nodes, n.Name)
	}
	addr := newAddresses(e)
	// Nodes before every layer run on a pre-layer thread of their own per
	// home of the layer that owns them: the layer's MVMs wait for them, so
	// on the vector thread, behind the hand-over of those MVMs, they would
	// deadlock.
	pre := g.BeforeEveryLayer()
	stores := map[[4]int32]int64{} // storeKey -> STORE_DATA instructions of one input so far
	for pi := range lay.Partitions {
		lp := &lay.Partitions[pi]
		s, err := e.Span(lp.Start, lp.End)
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", pi, err)
		}
		part, err := buildPartition(e, lay, s, pi, addr, pre, stores, flat)
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", pi, err)
		}
		// Every input stores the same tensors: count the first input's.
		for _, st := range part.Streams {
			for _, in := range st.Head {
				if in.Op == isa.StoreData && in.Input == 0 {
					stores[storeKey(in)]++
				}
			}
		}
		p.Partitions = append(p.Partitions, *part)
	}
	return p, nil
}

// MinInstructions is a lower bound on the instructions the program of any
// plan runs for the batch: each input, every unit's first replica
// receives it, runs an MVMUL on each of its crossbars and hands over to
// its vector thread, which receives the hand-over (crossbars + 3 per unit
// and input). It lets a request be refused before a plan is searched.
func MinInstructions(m *mapping.Mapping, batch int) int64 {
	var perInput int64
	for _, u := range m.Units {
		perInput += int64(u.Crossbars) + 3
	}
	return perInput * int64(batch)
}

// storeKey is the DataKey of an instruction's data with the input left
// out: every input stores and loads the same tensors.
func storeKey(in isa.Instr) [4]int32 {
	k := in.DataKey()
	k[3] = 0
	return k
}

// loop turns per-input instructions into a loop stream: head, then input
// 0's instructions, then those of inputs 1 .. batch-1 as a body repeated
// batch-1 times, then tail. gen(b) gives input b's instructions; inputs 1
// and 2 must differ only in Input (+1) and Addr (by a fixed step per
// instruction), which is how the body repeats. With flat, every input's
// instructions are generated into the head.
func loop(core int32, head []isa.Instr, gen func(b int) []isa.Instr, tail []isa.Instr, batch int, flat bool) (isa.LoopStream, error) {
	s := isa.LoopStream{Core: core, Head: head, Tail: tail}
	if flat {
		for b := range batch {
			s.Head = append(s.Head, gen(b)...)
		}
		return s, nil
	}
	s.Head = append(s.Head, gen(0)...)
	if batch < 2 {
		return s, nil
	}
	s.Body, s.Repeat = gen(1), batch-1
	s.AddrStep = make([]uint64, len(s.Body))
	if batch < 3 {
		return s, nil
	}
	next := gen(2)
	if len(next) != len(s.Body) {
		return s, fmt.Errorf("core %d: input 1 has %d instructions, input 2 %d", core, len(s.Body), len(next))
	}
	for j, a := range s.Body {
		b := next[j]
		if a.Input >= 0 && b.Input == a.Input+1 {
			b.Input = a.Input
		}
		s.AddrStep[j] = b.Addr - a.Addr
		b.Addr = a.Addr
		if a != b {
			return s, fmt.Errorf("core %d: instruction %d of inputs 1 and 2 differs beyond input and address: %+v vs %+v", core, j, a, next[j])
		}
	}
	return s, s.Check()
}

// addresses lays out DRAM: every unit's weights, then every tensor of
// every input, each contiguous and 64-byte aligned.
type addresses struct {
	weight     []uint64
	tensor     []uint64 // base of node i's tensors; input b at base + b*stride[i]
	stride     []uint64
	psum       map[int]uint64 // stripe (its first unit) -> base of its partial sums, 4 bytes a value, [input][output][position]
	psumSt     map[int]uint64 // stripe -> bytes per input
	spill      uint64         // next free byte of the spill region (each spilling replica gets its own block, reused by every input)
	table      map[int]uint64 // Embedding node -> base of its table (rows x width at activation precision)
	tableBytes map[int]uint64
}

func align(x uint64) uint64 { return (x + 63) &^ 63 }

func newAddresses(e *estimate.Estimator) *addresses {
	m := e.Mapping()
	a := &addresses{}
	var at uint64
	for _, u := range m.Units {
		a.weight = append(a.weight, at)
		at = align(at + uint64((u.Cells*int64(m.Chip.BitsPerCell)+7)/8))
	}
	for i := range m.Graph.Nodes {
		st := align(uint64(e.TensorBytes(i)))
		a.tensor = append(a.tensor, at)
		a.stride = append(a.stride, st)
		at += st * uint64(e.Batch())
	}
	a.psum, a.psumSt = map[int]uint64{}, map[int]uint64{}
	for k, u := range m.Units {
		if l := m.Layers[u.Layer]; l.InputSplits > 1 && u.InputSplit == 0 {
			st := align(uint64(u.OutEnd-u.OutStart) * uint64(l.Positions) * psumBytes)
			a.psum[k], a.psumSt[k] = at, st
			at += st * uint64(e.Batch())
		}
	}
	a.table, a.tableBytes = map[int]uint64{}, map[int]uint64{}
	for i, n := range m.Graph.Nodes {
		if n.Op == model.OpEmbedding {
			a.table[i] = at
			a.tableBytes[i] = uint64(math.Ceil(float64(int64(n.Table[0])*int64(n.Table[1])) * float64(m.Chip.ActivationBits) / 8))
			at = align(at + a.tableBytes[i])
		}
	}
	a.spill = at
	return a
}

// psumBytes is the size of a partial sum carried through DRAM.
const psumBytes = mapping.PartialSumBytes

func (a *addresses) of(node, input int, offset float64) uint64 {
	return a.tensor[node] + uint64(input)*a.stride[node] + uint64(offset)
}

func buildPartition(e *estimate.Estimator, lay *layout.Layout, s *estimate.Span, pi int, addr *addresses, pre []bool, stores map[[4]int32]int64, flat bool) (*isa.LoopPartition, error) {
	m := e.Mapping()
	g := m.Graph
	B := e.Batch()
	owners := lay.Owners
	inSpan := func(layer int) bool { return layer >= m.Units[s.Start].Layer && layer <= m.Units[s.End-1].Layer }
	frac := func(node int) float64 {
		o := owners.Of(node)
		if o < 0 || !inSpan(o) {
			return 0
		}
		for _, lp := range s.Layers {
			if lp.Layer == o {
				return float64(lp.Units) / float64(m.Layers[o].NumUnits)
			}
		}
		return 0
	}
	// Items: the layout's replicas, in its order (unit by unit, each
	// unit's replicas in order).
	var items []item
	for _, r := range lay.Partitions[pi].Replicas {
		if len(r.Pieces) == 0 || r.Pieces[0].UnitCrossbar != 0 {
			return nil, fmt.Errorf("unit %d replica %d: its first piece does not hold its first crossbar", r.Unit, r.Index)
		}
		l := m.Layers[r.Layer]
		unit := m.Units[r.Unit]
		it := item{unit: r.Unit, replica: r.Index, home: r.Home, carryOut: r.CarriesOut, firstPos: r.FirstPos, positions: r.Positions, rowsPerCrossbar: r.Rows,
			core: r.Pieces[0].Core, firstX: r.Pieces[0].FirstCrossbar, buf: r.Buffer, pieces: r.Pieces}
		if r.IsHome() {
			it.share = float64(unit.OutEnd-unit.OutStart) / float64(l.Cols*l.Groups) * float64(r.Positions) / float64(l.Positions)
		}
		items = append(items, it)
	}
	homeWork := map[int]uint64{} // layer -> outputs x positions of its homes in the span
	for i := range items {
		it := &items[i]
		if it.home != it.unit {
			continue
		}
		layer := m.Units[it.unit].Layer
		it.preFrom = homeWork[layer]
		homeWork[layer] += uint64(m.Units[it.unit].OutEnd-m.Units[it.unit].OutStart) * uint64(it.positions)
		it.preTo = homeWork[layer]
	}
	for i := range items {
		items[i].preOf = homeWork[m.Units[items[i].unit].Layer]
	}
	for i := range items {
		it := &items[i]
		if it.buf.SpillBytes > 0 {
			it.spillAddr = addr.spill
			addr.spill = align(addr.spill + uint64(max(it.buf.SpillBytes, it.buf.ReloadBytes)))
		}
	}
	// Which tensors each layer's homes send on chip, and how many
	// contributions each (node) tag collects per input.
	contrib := map[int]int64{} // node -> contributions per input
	sendsOf := map[int][]int{} // layer -> nodes its homes SEND
	for _, lp := range s.Layers {
		for _, n := range owners.Nodes(lp.Layer) {
			for _, c := range g.Consumers(n) {
				// A node before every layer is computed on its own thread,
				// so its layer's later vector nodes receive it too.
				if frac(c) > 0 && (g.Nodes[c].Op.Crossbar() || owners.Of(c) != lp.Layer || (pre[n] && !pre[c])) {
					sendsOf[lp.Layer] = append(sendsOf[lp.Layer], n)
					break
				}
			}
		}
	}
	homes := map[int]int64{}    // layer -> home items that finish their outputs here
	allHomes := map[int]int64{} // layer -> home items (each computes its range of the nodes before every layer)
	psums := map[[2]int]int64{}
	for _, it := range items {
		// The further pieces of a replica split over cores send their
		// results to its stripe's home as partial sums.
		if len(it.pieces) > 1 {
			psums[[2]int{it.home, it.replica}] += int64(len(it.pieces) - 1)
		}
		if it.home == it.unit {
			allHomes[m.Units[it.unit].Layer]++
			if !it.carryOut {
				homes[m.Units[it.unit].Layer]++
			}
		} else {
			psums[[2]int{it.home, it.replica}]++
		}
	}
	for layer, nodes := range sendsOf {
		for _, n := range nodes {
			if pre[n] {
				contrib[n] += allHomes[layer]
			} else {
				contrib[n] += homes[layer]
			}
		}
	}
	// Nodes before every layer are computed whole by every partition that
	// holds homes of their layer: the layer's MVMs need all of them, and a
	// share computed by a later partition could not be loaded. Their
	// operands then load whole, and they themselves never load.
	entries, share := entryLoads(e, owners, s, pre, inSpan)
	for _, ent := range entries {
		contrib[ent]++
	}
	counts := contributions{whole: contrib}
	if e.Pipeline() == estimate.Row {
		counts.band = rowContributions(e, owners, items, homeSends(m, s, items, sendsOf, pre), pre, entries)
	}
	part := &isa.LoopPartition{Index: pi}
	// The loader stream: entry tensors for every input (in the row
	// pipeline band by band, so the first rows start their consumers).
	if len(entries) > 0 {
		load := func(b int) []isa.Instr {
			var out []isa.Instr
			for k, ent := range entries {
				bands := e.Bands(ent)
				if bands == 1 {
					bytes := int64(math.Ceil(e.TensorBytes(ent) * share[k]))
					out = append(out, isa.Instr{Op: isa.LoadData, Xbar: -1, Layer: -1, Unit: -1, Node: int32(ent), Input: int32(b), Peer: -1,
						Count: stores[[4]int32{int32(ent), -1, -1, 0}], Bytes: bytes, Addr: addr.of(ent, b, 0)})
					continue
				}
				at := 0.0
				for j := range bands {
					part := e.TensorBytes(ent) * share[k] * e.BandShare(ent, j)
					out = append(out, isa.Instr{Op: isa.LoadData, Xbar: -1, Layer: -1, Unit: -1, Node: int32(ent), Input: int32(b), Peer: -1,
						Band: int32(j), Count: stores[[4]int32{int32(ent), -1, -1, 0}], Bytes: int64(math.Ceil(part)), Addr: addr.of(ent, b, at)})
					at += math.Floor(part)
				}
			}
			return out
		}
		ld, err := loop(int32(items[0].core), nil, load,
			[]isa.Instr{{Op: isa.Barrier, Xbar: -1, Layer: -1, Unit: -1, Node: -1, Input: -1, Peer: -1}}, B, flat)
		if err != nil {
			return nil, fmt.Errorf("loader: %w", err)
		}
		part.Streams = append(part.Streams, ld)
	}
	exits := map[int]bool{}
	for _, x := range s.Exits {
		exits[x] = true
	}
	for _, it := range items {
		st, err := itemStreams(e, owners, it, addr, pre, counts, psums, sendsOf, exits, s, stores, flat)
		if err != nil {
			return nil, fmt.Errorf("unit %d replica %d: %w", it.unit, it.replica, err)
		}
		part.Streams = append(part.Streams, st...)
	}
	return part, nil
}

// entryLoads lists the tensors the partition loads and the share of each:
// the span's entries (estimate.Span), except the nodes before every layer
// it computes whole itself, whose operands it loads whole.
func entryLoads(e *estimate.Estimator, owners *mapping.Owners, s *estimate.Span, pre []bool, inSpan func(layer int) bool) ([]int, []float64) {
	g := e.Mapping().Graph
	whole := map[int]bool{}
	for n, isPre := range pre {
		if isPre && inSpan(owners.Of(n)) {
			for _, p := range g.Producers(n) {
				if !pre[p] || !inSpan(owners.Of(p)) {
					whole[p] = true
				}
			}
		}
	}
	var entries []int
	var share []float64
	for k, ent := range s.Entries {
		if pre[ent] && inSpan(owners.Of(ent)) {
			continue
		}
		entries, share = append(entries, ent), append(share, s.EntryShare[k])
		if whole[ent] {
			share[len(share)-1] = 1
			delete(whole, ent)
		}
	}
	for p := range g.Nodes { // operands the span's estimate does not load at all
		if whole[p] {
			entries, share = append(entries, p), append(share, 1)
		}
	}
	return entries, share
}

func vectorOp(op model.Op) isa.Opcode {
	switch op {
	case model.OpBatchNorm, model.OpLayerNorm, model.OpSoftmax:
		return isa.VNorm
	case model.OpMaxPool, model.OpAvgPool, model.OpGlobalAvgPool:
		return isa.VPool
	case model.OpAdd, model.OpSub, model.OpMul, model.OpDiv:
		return isa.VAdd
	case model.OpMatMul:
		return isa.VMat
	case model.OpConcat, model.OpFlatten, model.OpReshape, model.OpTranspose, model.OpSlice, model.OpIdentity, model.OpEmbedding:
		return isa.VCopy
	}
	return isa.VAct
}

// threads holds one input's instructions of a replica's threads.
type threads struct{ xbar, vec, spill []isa.Instr }

// itemStreams schedules one replica: its crossbar thread, its vector
// thread and, when its buffers spill, its spill thread, in that order.
func itemStreams(e *estimate.Estimator, owners *mapping.Owners, it item, addr *addresses, pre []bool, contrib contributions,
	psums map[[2]int]int64, sendsOf map[int][]int, exits map[int]bool, span *estimate.Span, stores map[[4]int32]int64, flat bool) ([]isa.LoopStream, error) {
	m := e.Mapping()
	g := m.Graph
	chip := m.Chip
	unit := m.Units[it.unit]
	layer := unit.Layer
	l := m.Layers[layer]
	act := float64(chip.ActivationBits) / 8
	base := isa.Instr{Xbar: -1, Layer: int32(layer), Unit: int32(it.unit), Node: -1, Input: -1, Peer: -1}
	var head []isa.Instr
	if it.replica == 0 {
		in := base
		in.Op, in.Bytes, in.Addr = isa.LoadWeight, (unit.Cells*int64(chip.BitsPerCell)+7)/8, addr.weight[it.unit]
		head = append(head, in)
	}
	own := it.pieces[0].Crossbars // the crossbars on the replica's own core
	for x, rows := range it.rowsPerCrossbar[:own] {
		in := base
		in.Op, in.Xbar, in.Count = isa.WriteWeight, int32(it.firstX+x), int64(rows)
		head = append(head, in)
	}
	isHome := it.home == it.unit
	inNode := g.Producers(l.Node)[0]
	local := base
	local.Node, local.Xbar = isa.LocalNode, int32(it.replica)
	inBytes := int64(math.Ceil(float64(m.InputElems(it.unit)) * act)) // per position
	// input gives input b's instructions of each thread. The replica's
	// positions run in chunks (estimate.Chunks): one in the per-input
	// pipeline, one per band of the layer's rows in the row pipeline,
	// each starting when the bands of its input that its windows read are
	// in.
	chunks := e.Chunks(layer, it.firstPos, it.positions)
	outs := int64(unit.OutEnd - unit.OutStart)
	input := func(b int) (t threads) {
		emit := func(in isa.Instr) { t.xbar = append(t.xbar, in) }
		var chunkPos int64
		vemit := func(in isa.Instr) {
			in.Pos = chunkPos // the vector thread works on this chunk of the replica's positions
			t.vec = append(t.vec, in)
		}
		// recv emits the RECVs of the bands [b0, b1) of tensor p not yet
		// received (got[p] is the next), or, when all are, the last one
		// again, the first carrying bytes.
		got := map[int]int{}
		recv := func(emit func(isa.Instr), p, b0, b1 int, bytes int64) {
			from := max(b0, got[p])
			if from >= b1 {
				from = b1 - 1
			}
			for j := from; j < b1; j++ {
				rv := base
				rv.Op, rv.Node, rv.Input, rv.Band, rv.Count = isa.Recv, int32(p), int32(b), int32(j), contrib.of(p, j)
				if j == from {
					rv.Bytes = bytes
				}
				emit(rv)
			}
			got[p] = max(got[p], b1)
		}
		if it.buf.SpillBytes > 0 {
			// Buffers beyond the replica's share of local memory: the
			// spill thread parks the overflow of each input in DRAM once
			// the input arrives and reads it back, beside the computation
			// (it prefetches what the MVMs need, so it costs DRAM and bus
			// time and energy, not MVM stalls). It waits for the input
			// (moving nothing; in the row pipeline its last band, so that
			// the spill's DRAM traffic does not queue ahead of the bands
			// still loading) and, after the first, for the replica to
			// start on it (its MVMs of the input before are done).
			last := e.Bands(inNode) - 1
			in := base
			in.Op, in.Node, in.Input, in.Band, in.Count = isa.Recv, int32(inNode), int32(b), int32(last), contrib.of(inNode, last)
			t.spill = append(t.spill, in)
			if b > 0 {
				prev := local
				prev.Op, prev.Input, prev.Band, prev.Count = isa.Recv, int32(b-1), int32(len(chunks)-1), 1
				t.spill = append(t.spill, prev)
			}
			sp := base
			sp.Op, sp.Node, sp.Xbar, sp.Input, sp.Bytes, sp.Addr = isa.StoreData, isa.SpillNode, int32(it.replica), int32(b), it.buf.SpillBytes, it.spillAddr
			t.spill = append(t.spill, sp)
			sp.Op, sp.Count, sp.Bytes = isa.LoadData, 1, it.buf.ReloadBytes
			t.spill = append(t.spill, sp)
		}
		inRecvBytes := it.buf.InputBytes // the rows its positions read, written into its local memory
		vgot := map[int]int{}            // the vector thread's bands received, per operand
		var exitStores []isa.Instr
		for ci, c := range chunks {
			chunkPos = c.First
			cs := it.share // the chunk's share of the layer's output
			if len(chunks) > 1 {
				cs = it.share * float64(c.N) / float64(it.positions)
			}
			b0, b1 := e.InputBands(layer, c, inNode)
			recv(emit, inNode, b0, b1, inRecvBytes)
			inRecvBytes = 0
			for x := range own {
				mv := base
				mv.Op, mv.Xbar, mv.Input, mv.Count, mv.Pos = isa.MVMul, int32(it.firstX+x), int32(b), c.N, c.First
				if x == 0 { // the input vectors, read once for all of the replica's crossbars
					mv.Bytes = c.N * inBytes
				}
				emit(mv)
			}
			hand := local
			hand.Op, hand.Input, hand.Band, hand.Bytes = isa.Send, int32(b), int32(ci), c.N*int64(math.Ceil(float64(outs)*act)) // the outputs, written
			emit(hand)
			hand.Op, hand.Count, hand.Bytes = isa.Recv, 1, 0
			vemit(hand)
			if !isHome {
				ps := base
				ps.Op, ps.Node, ps.Input, ps.Unit, ps.Xbar, ps.Peer, ps.Band = isa.Send, isa.PsumNode, int32(b), int32(it.home), int32(it.replica), int32(it.unit), int32(ci)
				ps.Bytes = int64(math.Ceil(float64(outs*c.N) * act))
				vemit(ps)
				continue
			}
			// A stripe of an input-split layer cut across partitions carries
			// its partial sums through DRAM: its first in-span unit loads what
			// earlier partitions accumulated, and, if later partitions hold
			// more of its splits, stores the sum instead of finishing it.
			stripe := it.unit - unit.InputSplit // the stripe's first unit
			carryIn := unit.InputSplit > 0
			carryOut := it.carryOut
			psumKey := base
			psumKey.Node, psumKey.Unit, psumKey.Xbar, psumKey.Input, psumKey.Peer = isa.PsumNode, int32(stripe), int32(it.replica), int32(b), int32(it.unit)
			psumSize := outs * c.N * psumBytes
			psumAddr := addr.psum[stripe] + uint64(b)*addr.psumSt[stripe] + uint64(c.First)*uint64(outs)*psumBytes
			n := psums[[2]int{it.unit, it.replica}]
			if n > 0 {
				rv := base
				rv.Op, rv.Node, rv.Input, rv.Xbar, rv.Band, rv.Count = isa.Recv, isa.PsumNode, int32(b), int32(it.replica), int32(ci), n
				vemit(rv)
			}
			if carryIn {
				ld := psumKey
				ld.Op, ld.Bytes, ld.Addr = isa.LoadData, psumSize, psumAddr
				ld.Count = stores[storeKey(ld)]
				vemit(ld)
				n++
			}
			if n > 0 {
				acc := base
				acc.Op, acc.Input, acc.Count, acc.Ops = isa.VAcc, int32(b), outs*c.N, n*outs*c.N
				vemit(acc)
			}
			if carryOut {
				sd := psumKey
				sd.Op, sd.Bytes, sd.Addr = isa.StoreData, psumSize, psumAddr
				vemit(sd)
				continue
			}
			if l.Op == model.OpConvTranspose {
				// The products of overlapping windows add into the output
				// (model.Stats.VecOps of the layer node): this home's share,
				// rounded up like the owned nodes' below.
				if st := g.NodeStats(l.Node); st.VecOps > 0 {
					v := base
					v.Op, v.Node, v.Input = isa.VAdd, int32(l.Node), int32(b)
					v.Count = int64(math.Ceil(float64(st.OutElems) * cs))
					v.Ops = int64(math.Ceil(float64(st.VecOps) * cs))
					v.Bytes = int64(math.Ceil(e.TensorBytes(l.Node) * cs))
					vemit(v)
				}
			}
			for _, n := range owners.Nodes(layer) {
				if n == l.Node || pre[n] {
					continue
				}
				for _, p := range g.Producers(n) {
					if owners.Of(p) != layer || pre[p] {
						// the operand's slice this chunk works on
						b0, b1 := e.InputBands(layer, c, p)
						got[p] = vgot[p]
						recv(vemit, p, b0, b1, int64(math.Ceil(e.TensorBytes(p)*cs)))
						vgot[p] = got[p]
					}
				}
				st := g.NodeStats(n)
				v := base
				v.Op, v.Node, v.Input = vectorOp(g.Nodes[n].Op), int32(n), int32(b)
				v.Count = int64(math.Ceil(float64(st.OutElems) * cs))
				v.Ops = int64(math.Ceil(float64(st.VecOps) * cs))
				v.Bytes = int64(math.Ceil(e.TensorBytes(n) * cs))
				vemit(v)
			}
			for _, n := range sendsOf[layer] {
				if pre[n] {
					continue
				}
				sd := base
				sd.Op, sd.Node, sd.Input, sd.Band = isa.Send, int32(n), int32(b), int32(e.ChunkBand(n, c))
				sd.Bytes = int64(math.Ceil(e.TensorBytes(n) * cs))
				vemit(sd)
			}
			// Exits go to DRAM for a later partition, which needs them
			// whole: stored after the replica's last chunk, so that they
			// do not queue at the DRAM between the bands still loading.
			for _, n := range owners.Nodes(layer) {
				if !exits[n] || pre[n] {
					continue
				}
				sd := base
				sd.Op, sd.Node, sd.Input, sd.Pos = isa.StoreData, int32(n), int32(b), chunkPos
				sd.Bytes = int64(math.Ceil(e.TensorBytes(n) * cs))
				sd.Addr = addr.of(n, b, 0)
				exitStores = append(exitStores, sd)
			}
		}
		t.vec = append(t.vec, exitStores...)
		return t
	}
	// before gives input b's instructions of a home's thread for the
	// nodes before every layer that its layer owns.
	var preNodes []int
	if isHome {
		for _, n := range owners.Nodes(layer) {
			if pre[n] {
				preNodes = append(preNodes, n)
			}
		}
	}
	sh := 0.0
	if isHome {
		sh = preShare(it)
	}
	before := func(b int) (out []isa.Instr) {
		for _, n := range preNodes {
			for _, p := range g.Producers(n) {
				if owners.Of(p) != layer {
					for j := range e.Bands(p) { // the whole operand: every band of it
						rv := base
						rv.Op, rv.Node, rv.Input, rv.Band, rv.Count = isa.Recv, int32(p), int32(b), int32(j), contrib.of(p, j)
						if j == 0 {
							rv.Bytes = int64(math.Ceil(e.TensorBytes(p) * sh))
						}
						out = append(out, rv)
					}
				}
			}
			first, count := elementRange(it, g.Nodes[n].Out.Elems())
			if g.Nodes[n].Op == model.OpEmbedding {
				// The looked-up rows come from the table in DRAM: the
				// home's elements of the output, at activation precision.
				ld := base
				ld.Op, ld.Node, ld.Peer, ld.Xbar, ld.Input, ld.Pos = isa.LoadData, isa.TableNode, int32(n), int32(it.replica), int32(b), first
				ld.Bytes = int64(math.Ceil(float64(count) * act))
				// Which rows is data; read them from the table's start
				// on, wrapping (more tokens than rows read rows again).
				table := addr.tableBytes[n]
				ld.Addr = addr.table[n] + uint64(float64(first)*act)%max(table, 1)
				out = append(out, ld)
			}
			st := g.NodeStats(n)
			v := base
			v.Op, v.Node, v.Input, v.Pos, v.Count = vectorOp(g.Nodes[n].Op), int32(n), int32(b), first, count
			v.Ops = int64(math.Ceil(float64(st.VecOps) * sh))
			v.Bytes = int64(math.Ceil(e.TensorBytes(n) * sh))
			out = append(out, v)
		}
		for _, n := range sendsOf[layer] {
			if !pre[n] {
				continue
			}
			first, _ := elementRange(it, g.Nodes[n].Out.Elems())
			sd := base
			sd.Op, sd.Node, sd.Input, sd.Pos = isa.Send, int32(n), int32(b), first
			sd.Bytes = int64(math.Ceil(e.TensorBytes(n) * sh))
			out = append(out, sd)
		}
		for _, n := range preNodes {
			if !exits[n] {
				continue
			}
			first, count := elementRange(it, g.Nodes[n].Out.Elems())
			sd := base
			sd.Op, sd.Node, sd.Input, sd.Pos, sd.Count = isa.StoreData, int32(n), int32(b), first, count
			sd.Bytes = int64(math.Ceil(e.TensorBytes(n) * sh))
			sd.Addr = addr.of(n, b, 0)
			out = append(out, sd)
		}
		return out
	}
	bar := base
	bar.Op = isa.Barrier
	vbar := bar
	vbar.Pos = it.firstPos
	core := int32(it.core)
	B := e.Batch()
	// The loop form needs inputs 0, 1 and 2; the flat one every input.
	gen := make([]threads, min(B, 3))
	if flat {
		gen = make([]threads, B)
	}
	for b := range gen {
		gen[b] = input(b)
	}
	xs, err := loop(core, head, func(b int) []isa.Instr { return gen[b].xbar }, []isa.Instr{bar}, B, flat)
	if err != nil {
		return nil, fmt.Errorf("crossbar thread: %w", err)
	}
	vs, err := loop(core, nil, func(b int) []isa.Instr { return gen[b].vec }, []isa.Instr{vbar}, B, flat)
	if err != nil {
		return nil, fmt.Errorf("vector thread: %w", err)
	}
	out := []isa.LoopStream{xs, vs}
	for _, pc := range it.pieces[1:] {
		ps, err := pieceStream(e, it, pc, base, contrib, inBytes, B, flat)
		if err != nil {
			return nil, fmt.Errorf("piece on core %d: %w", pc.Core, err)
		}
		out = append(out, ps)
	}
	if len(preNodes) > 0 {
		pb := bar
		pb.Pos = 0
		ps, err := loop(core, nil, before, []isa.Instr{pb}, B, flat)
		if err != nil {
			return nil, fmt.Errorf("thread of the nodes before every layer: %w", err)
		}
		out = append(out, ps)
	}
	if it.buf.SpillBytes > 0 {
		ss, err := loop(core, nil, func(b int) []isa.Instr { return gen[b].spill }, []isa.Instr{bar}, B, flat)
		if err != nil {
			return nil, fmt.Errorf("spill thread: %w", err)
		}
		out = append(out, ss)
	}
	return out, nil
}

// pieceStream is the crossbar thread of a further piece of a replica
// split over cores (mapping.PolicyCrossbar), on the piece's core: it
// programs the piece's crossbars, then per input receives the replica's
// input, runs the MVMs of its crossbars over the replica's positions and
// sends the results to the stripe's home as partial sums (all the unit's
// outputs, as an input split's partial sums go), which the home's VACC
// adds.
func pieceStream(e *estimate.Estimator, it item, pc layout.Piece, base isa.Instr, contrib contributions, inBytes int64, batch int, flat bool) (isa.LoopStream, error) {
	m := e.Mapping()
	unit := m.Units[it.unit]
	l := m.Layers[unit.Layer]
	act := float64(m.Chip.ActivationBits) / 8
	var head []isa.Instr
	for x := range pc.Crossbars {
		in := base
		in.Op, in.Xbar, in.Count = isa.WriteWeight, int32(pc.FirstCrossbar+x), int64(it.rowsPerCrossbar[pc.UnitCrossbar+x])
		head = append(head, in)
	}
	outs := int64(unit.OutEnd - unit.OutStart)
	inNode := m.Graph.Producers(l.Node)[0]
	// In the row pipeline the piece runs the replica's chunks, each as
	// its input bands arrive, and sends each chunk's partial sums.
	chunks := e.Chunks(unit.Layer, it.firstPos, it.positions)
	input := func(b int) []isa.Instr {
		var out []isa.Instr
		got := 0
		bytes := it.buf.InputBytes
		for ci, c := range chunks {
			b0, b1 := e.InputBands(unit.Layer, c, inNode)
			from := max(b0, got)
			if from >= b1 {
				from = b1 - 1
			}
			for j := from; j < b1; j++ {
				rv := base
				rv.Op, rv.Node, rv.Input, rv.Band, rv.Count, rv.Bytes = isa.Recv, int32(inNode), int32(b), int32(j), contrib.of(inNode, j), bytes
				bytes = 0
				out = append(out, rv)
			}
			got = max(got, b1)
			for x := range pc.Crossbars {
				mv := base
				mv.Op, mv.Xbar, mv.Input, mv.Count, mv.Pos = isa.MVMul, int32(pc.FirstCrossbar+x), int32(b), c.N, c.First
				if x == 0 {
					mv.Bytes = c.N * inBytes
				}
				out = append(out, mv)
			}
			ps := base
			ps.Op, ps.Node, ps.Input, ps.Unit, ps.Xbar, ps.Peer, ps.Band = isa.Send, isa.PsumNode, int32(b), int32(it.home), int32(it.replica), int32(it.unit), int32(ci)
			ps.Pos = c.First
			ps.Bytes = int64(math.Ceil(float64(outs*c.N) * act))
			out = append(out, ps)
		}
		return out
	}
	bar := base
	bar.Op = isa.Barrier
	return loop(int32(pc.Core), head, input, []isa.Instr{bar}, batch, flat)
}

// elementRange is the elements [first, first+count) of a node of elems
// elements before every layer that home item it computes: its part of the
// outputs x positions of the layer's homes in the partition, so the
// ranges of those homes tile the node exactly.
func elementRange(it item, elems int64) (first, count int64) {
	at := func(num uint64) int64 {
		hi, lo := bits.Mul64(uint64(elems), num)
		q, _ := bits.Div64(hi, lo, it.preOf) // num <= preOf, so the quotient fits
		return int64(q)
	}
	first = at(it.preFrom)
	return first, at(it.preTo) - first
}

// preShare is the fraction of a node before every layer that home item
// it computes.
func preShare(it item) float64 { return float64(it.preTo-it.preFrom) / float64(it.preOf) }
