package mapping

import (
	"math"

	"github.com/compass-go/compass/engine/model"
)

// Buffer is what one replica of a unit keeps in its core's local memory
// while it computes a run of output positions of one input, and what of it
// spills to DRAM when its share of that memory is too small.
//
// Buffering policy (docs/estimator.md, "Local memory"). A replica streams
// its positions in raster order and keeps:
//
//   - an input line buffer: for a convolution the input rows one output
//     row's receptive field covers, plus the stride's rows arriving for the
//     next output row (double buffering), over the input width (only the
//     columns its windows cover when its positions lie in one output row)
//     and the channels its matrix rows read; never more rows than its
//     positions span. For a linear layer, its rows of two tokens; for a
//     transposed convolution, the channels of two input pixels;
//   - an output buffer: two output rows (two tokens) of its outputs;
//   - for the home unit of a stripe split along its inputs, the partial
//     sums of one output row (one token) at PartialSumBytes a value.
//
// Each replica owns the core's local memory in proportion to the crossbars
// it occupies (its share does not depend on what else lands on the core,
// so the estimator and the scheduler agree on it without the placement).
// When the need exceeds the share, the same fraction of everything that
// streams through the buffers is parked in DRAM (SpillBytes, per input)
// and read back when it is used (ReloadBytes): a parked input row once for
// every output row whose window reads it (a ring buffer too small for the
// window reloads), outputs and partial sums once.
type Buffer struct {
	LineBytes    int64   // input line buffer
	OutputBytes  int64   // output double buffer
	PsumBytes    int64   // partial-sum accumulators (homes of input-split stripes)
	NeedBytes    int64   // LineBytes + OutputBytes + PsumBytes
	ShareBytes   int64   // the replica's share of its core's local memory
	InputBytes   int64   // input elements its positions read, per input: they arrive over the bus and are written once
	StreamBytes  int64   // bytes that pass through the buffers per input (inputs, outputs, partial sums)
	SpillBytes   int64   // bytes written to DRAM per input (0 when NeedBytes <= ShareBytes)
	ReloadBytes  int64   // bytes read back per input: parked input rows once per output row that reads them, outputs and partial sums once
	OverflowFrac float64 // (NeedBytes - ShareBytes) / NeedBytes, or 0
}

// InputElems is how many input elements one output position of unit u
// reads: its matrix rows, in every group it computes (packed groups read
// their own rows each).
func (m *Mapping) InputElems(u int) int64 {
	unit := m.Units[u]
	l := m.Layers[unit.Layer]
	outs := int64(unit.OutEnd - unit.OutStart)
	rows := int64(unit.RowEnd - unit.RowStart)
	switch {
	case l.GroupsPerCrossbar > 1:
		return outs / int64(l.Cols) * int64(l.Rows)
	case l.Groups > 1:
		return rows * ((outs + int64(l.Cols) - 1) / int64(l.Cols))
	}
	return rows
}

// PartialSumBytes is the size of one partial sum while a home accumulates
// it (and when it is carried through DRAM): 32-bit integers, as the
// functional simulator computes them.
const PartialSumBytes = 4

// ReplicaBuffer is the local-memory need of one replica of unit u that
// computes `positions` output positions of each input, and its spill.
func (m *Mapping) ReplicaBuffer(u int, positions int64) Buffer {
	unit := m.Units[u]
	l := m.Layers[unit.Layer]
	g, chip := m.Graph, m.Chip
	n := g.Nodes[l.Node]
	act := float64(chip.ActivationBits) / 8
	outs := int64(unit.OutEnd - unit.OutStart)
	positions = min(positions, l.Positions)
	var b Buffer
	b.ShareBytes = int64(chip.LocalMemoryBytes) * int64(unit.Crossbars) / int64(chip.CrossbarsPerCore)
	if positions <= 0 {
		return b
	}

	readRows := m.InputElems(u)
	var line, input, inputReads, outRow float64
	switch n.Op {
	case model.OpConv:
		c := n.Conv
		in := g.Nodes[g.Producers(l.Node)[0]].Out
		hIn, wIn := int64(in[1]), int64(in[2])
		hOut, wOut := int64(n.Out[1]), int64(n.Out[2])
		channels := float64(readRows) / float64(c.KernelH*c.KernelW)
		field := int64((c.KernelH-1)*c.DilationH + 1)
		// Output rows a run of positions touches, at worst (a run that
		// starts at the end of a row touches one more than it fills).
		outRows := min(hOut, (positions+wOut-2)/wOut+1)
		spanned := min(hIn, (outRows-1)*int64(c.StrideH)+field)
		rows := min(spanned, field+int64(c.StrideH))
		// A run within one output row reads only the columns its windows
		// cover; longer runs read whole rows.
		cols := wIn
		if outRows == 1 {
			cols = min(wIn, (positions-1)*int64(c.StrideW)+int64((c.KernelW-1)*c.DilationW+1))
		}
		line = float64(rows*cols) * channels * act
		input = float64(spanned*cols) * channels * act
		inputReads = float64(outRows*int64(c.KernelH)*cols) * channels * act // every output row reads its kernel's rows
		outRow = float64(wOut)
	default: // Linear: one token per position; ConvTranspose: one input pixel
		line = float64(readRows*min(positions, 2)) * act
		input = float64(readRows*positions) * act
		inputReads = input
		outRow = 1
	}
	b.LineBytes = int64(math.Ceil(line))
	b.OutputBytes = int64(math.Ceil(float64(outs) * min(float64(positions), 2*outRow) * act))
	b.InputBytes = int64(math.Ceil(input))
	outputs := float64(outs*positions) * act
	if l.InputSplits > 1 && unit.InputSplit == 0 {
		b.PsumBytes = outs * int64(min(float64(positions), outRow)) * PartialSumBytes
		outputs += float64(outs*positions) * PartialSumBytes
	}
	stream := input + outputs
	b.NeedBytes = b.LineBytes + b.OutputBytes + b.PsumBytes
	b.StreamBytes = int64(math.Ceil(stream))
	if b.NeedBytes > b.ShareBytes {
		b.OverflowFrac = float64(b.NeedBytes-b.ShareBytes) / float64(b.NeedBytes)
		b.SpillBytes = int64(math.Ceil(float64(b.StreamBytes) * b.OverflowFrac))
		b.ReloadBytes = int64(math.Ceil((inputReads + outputs) * b.OverflowFrac))
	}
	return b
}

// ReplicaPositions is the run of a layer's output positions that replica
// k of r computes, [first, first+n): as even as possible, the first
// positions mod r replicas taking one more.
func ReplicaPositions(positions int64, r, k int) (first, n int64) {
	f := deal(int(positions), r, k)
	return int64(f), int64(deal(int(positions), r, k+1) - f)
}

// ReplicatedBuffers sums InputBytes, SpillBytes and ReloadBytes over the
// r replicas of unit u, which share the layer's positions as
// ReplicaPositions deals them. The other fields of the sum are zero.
func (m *Mapping) ReplicatedBuffers(u, r int) Buffer {
	l := m.Layers[m.Units[u].Layer]
	r = max(1, r)
	lo := l.Positions / int64(r)
	hi := l.Positions % int64(r)
	var sum Buffer
	add := func(n, positions int64) {
		b := m.ReplicaBuffer(u, positions)
		sum.InputBytes += n * b.InputBytes
		sum.SpillBytes += n * b.SpillBytes
		sum.ReloadBytes += n * b.ReloadBytes
	}
	if lo > 0 {
		add(int64(r)-hi, lo)
	}
	if hi > 0 {
		add(hi, lo+1)
	}
	return sum
}
