package estimate

import (
	"fmt"

	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
)

// Pipeline is how the layers of a partition hand an input on to each
// other.
type Pipeline uint8

const (
	// PerInput: a layer starts an input once every layer it reads has
	// finished that input's whole output (the paper's pipeline; PIMCOMP's
	// high-throughput mode).
	PerInput Pipeline = iota
	// Row: a layer starts a band of its output rows once the input rows
	// its windows read are ready (PIMCOMP's low-latency mode). Rows are
	// counted in bands of at most MaxRowBands per tensor.
	Row
)

// Pipelines lists the modes by name, the default first.
var Pipelines = []string{"per-input", "row"}

// String is the mode's name.
func (p Pipeline) String() string {
	if int(p) < len(Pipelines) {
		return Pipelines[p]
	}
	return fmt.Sprintf("pipeline(%d)", uint8(p))
}

// ParsePipeline reads a mode's name; "" is the default, per-input.
func ParsePipeline(s string) (Pipeline, error) {
	switch s {
	case "", "per-input":
		return PerInput, nil
	case "row":
		return Row, nil
	}
	return 0, fmt.Errorf("pipeline %q is not a mode: use per-input (a layer starts an input after the previous layer's whole output) or row (a layer starts once the input rows its window reads are ready)", s)
}

// MaxRowBands bounds the bands a tensor's rows are cut into in the row
// pipeline. A band is the unit a row counter counts: a consumer waits for
// the bands holding the rows its window reads. Each band of each replica
// is a few instructions per input, so the cap keeps a program within a
// small factor of the per-input one (ResNet18's 112-row first layer moves
// in bands of 7 rows); the paper does not say at what granularity
// PIMCOMP's rows move.
const MaxRowBands = 16

// NewPipeline is New for the given pipeline mode.
func NewPipeline(m *mapping.Mapping, batch int, p Pipeline) (*Estimator, error) {
	return NewPlacedPipeline(m, batch, mapping.PolicyUnit, p)
}

// NewPlacedPipeline is NewPlaced for the given pipeline mode.
func NewPlacedPipeline(m *mapping.Mapping, batch int, policy mapping.Policy, p Pipeline) (*Estimator, error) {
	if p != PerInput && p != Row {
		return nil, fmt.Errorf("pipeline %d is not a mode", p)
	}
	e, err := NewPlaced(m, batch, policy)
	if err != nil {
		return nil, err
	}
	e.pipeline = p
	if p == Row {
		e.initRows()
	}
	return e, nil
}

// Pipeline is the mode the estimator costs.
func (e *Estimator) Pipeline() Pipeline { return e.pipeline }

// rowPreserving reports whether a vector op keeps the row structure of
// its input: output row i is computed from input rows at or around row i
// (in proportion, for a pooling), so a band of rows can be computed as
// soon as the rows it reads exist.
func rowPreserving(op model.Op) bool {
	switch op {
	case model.OpReLU, model.OpClip, model.OpBatchNorm, model.OpAdd, model.OpSub, model.OpMul, model.OpDiv,
		model.OpElementwise, model.OpMaxPool, model.OpAvgPool, model.OpIdentity, model.OpLRN:
		return true
	}
	return false
}

// rank3Rows is the rows of a [channels, height, width] tensor, else 0.
func rank3Rows(s model.Shape) int {
	if len(s) == 3 {
		return s[1]
	}
	return 0
}

// initRows works out the row pipeline's band spaces: the rows each
// layer's output positions run through, and for every tensor the rows
// its bands count.
func (e *Estimator) initRows() {
	g, m := e.g, e.m
	e.layerRows = make([]int, len(m.Layers))
	for li, l := range m.Layers {
		n := g.Nodes[l.Node]
		e.layerRows[li] = 1
		if h := rank3Rows(n.Out); l.Op == model.OpConv && h > 1 && l.Positions == int64(h)*int64(n.Out[2]) {
			e.layerRows[li] = h
		}
	}
	e.spaceRows = make([]int, len(g.Nodes))
	for i, n := range g.Nodes {
		e.spaceRows[i] = 1
		o := e.owner[i]
		switch {
		case e.isLayer[i]:
			e.spaceRows[i] = e.layerRows[o]
		case mapping.External(n.Op):
			e.spaceRows[i] = max(1, rank3Rows(n.Out))
		case o < 0 || e.pre[i]:
		case rowPreserving(n.Op) && rank3Rows(n.Out) > 0 && e.layerRows[o] > 1:
			ok := true
			for _, p := range g.Producers(i) {
				if e.owner[p] == o && e.spaceRows[p] != e.layerRows[o] {
					ok = false
				}
			}
			if ok {
				e.spaceRows[i] = e.layerRows[o]
			}
		}
	}
	e.bounds = map[int][]int{}
	for _, r := range e.spaceRows {
		if e.bounds[r] == nil {
			e.bounds[r] = BandBounds(r)
		}
	}
	for _, r := range e.layerRows {
		if e.bounds[r] == nil {
			e.bounds[r] = BandBounds(r)
		}
	}
	e.operands = make([][]int, len(m.Layers))
	for li, l := range m.Layers {
		for _, n := range e.owners.Nodes(li) {
			if n == l.Node || e.pre[n] {
				continue
			}
			for _, p := range g.Producers(n) {
				if e.owner[p] != li || e.pre[p] {
					e.operands[li] = append(e.operands[li], p)
				}
			}
		}
	}
}

// LayerRows is the number of rows layer l's output positions run through
// in the row pipeline (1: the layer moves as one band, as a Linear does).
func (e *Estimator) LayerRows(l int) int {
	if e.layerRows == nil {
		return 1
	}
	return e.layerRows[l]
}

// BandBounds cuts rows into min(rows, MaxRowBands) bands: band j is rows
// [b[j], b[j+1]).
func BandBounds(rows int) []int {
	nb := max(1, min(rows, MaxRowBands))
	b := make([]int, nb+1)
	for j := range b {
		b[j] = j * rows / nb
	}
	return b
}

// Bands is how many bands tensor n's rows are cut into (1 in the
// per-input pipeline).
func (e *Estimator) Bands(n int) int {
	if e.spaceRows == nil {
		return 1
	}
	return len(e.bounds[e.spaceRows[n]]) - 1
}

// BandShare is the fraction of tensor n band j holds.
func (e *Estimator) BandShare(n, j int) float64 {
	if e.spaceRows == nil {
		return 1
	}
	b := e.bounds[e.spaceRows[n]]
	return float64(b[j+1]-b[j]) / float64(e.spaceRows[n])
}

// Chunk is a band of a replica's output positions: positions [First,
// First+N) of the layer, all in band Band of its rows.
type Chunk struct {
	Band     int
	First, N int64
}

// Chunks cuts a replica's positions [first, first+n) of layer l at its
// bands' edges, in order (one chunk in the per-input pipeline).
func (e *Estimator) Chunks(l int, first, n int64) []Chunk {
	return e.chunks(nil, l, first, n)
}

// chunks is Chunks appended to out.
func (e *Estimator) chunks(out []Chunk, l int, first, n int64) []Chunk {
	rows := e.LayerRows(l)
	if rows <= 1 {
		return append(out, Chunk{0, first, n})
	}
	w := e.m.Layers[l].Positions / int64(rows)
	b := e.bounds[rows]
	for j := 0; j+1 < len(b); j++ {
		lo, hi := max(first, int64(b[j])*w), min(first+n, int64(b[j+1])*w)
		if lo < hi {
			out = append(out, Chunk{j, lo, hi - lo})
		}
	}
	return out
}

// bandsOf is the bands [b0, b1) of tensor n holding its rows [r0, r1) (in
// its own rows, h of them).
func (e *Estimator) bandsOf(n, r0, r1, h int) (b0, b1 int) {
	s := e.spaceRows[n]
	b := e.bounds[s]
	if s <= 1 || h <= 0 {
		return 0, len(b) - 1
	}
	s0, s1 := r0*s/h, (r1*s+h-1)/h
	s1 = max(s1, s0+1)
	for b1 = 1; b1 < len(b)-1 && b[b1] < s1; b1++ {
	}
	for b0 = b1 - 1; b0 > 0 && b[b0] > s0; b0-- {
	}
	return b0, b1
}

// InputBands is the bands [b0, b1) of tensor p that a chunk of layer l
// reads: p is the layer's input (its windows' rows: for a convolution,
// output rows [j0, j1) read input rows j0 x stride - pad up to the last
// window's end) or an operand of a vector node the layer owns (the same
// rows in proportion). A tensor without rows, or a layer that moves as
// one band, needs every band.
func (e *Estimator) InputBands(l int, c Chunk, p int) (b0, b1 int) {
	rows := e.LayerRows(l)
	hp := rank3Rows(e.g.Nodes[p].Out)
	if rows <= 1 || hp == 0 {
		return 0, e.Bands(p)
	}
	lay := e.m.Layers[l]
	w := lay.Positions / int64(rows)
	j0, j1 := int(c.First/w), int((c.First+c.N+w-1)/w)
	nd := e.g.Nodes[lay.Node]
	if p == e.g.Producers(lay.Node)[0] && nd.Conv != nil {
		cv := nd.Conv
		r0 := max(0, j0*cv.StrideH-cv.PadTop)
		r1 := min(hp, (j1-1)*cv.StrideH-cv.PadTop+(cv.KernelH-1)*cv.DilationH+1)
		if r1 <= r0 { // the window lies in the padding: the first row will do
			r0, r1 = min(r0, hp-1), min(r0, hp-1)+1
		}
		return e.bandsOf(p, r0, r1, hp)
	}
	return e.bandsOf(p, j0*hp/rows, (j1*hp+rows-1)/rows, hp)
}

// rowFill is the time the first input takes through the span in the row
// pipeline: each replica runs its chunks in order, a chunk's MVMs
// starting when the replica's MVMs of the chunk before are done and the
// bands its rows read are ready, and taking its share of the layer's
// stage time; the chunk is done then, and not before the replica's chunk
// before it is done, nor before the operands from other layers that its
// vector work reads are ready plus its share of that work.
func (e *Estimator) rowFill(s *Span, acc []layerAcc, first int) float64 {
	last := first + len(acc) - 1
	if cap(e.bandDone) < len(acc) {
		e.bandDone = make([][]float64, len(acc))
	}
	bandDone := e.bandDone[:len(acc)]
	ready := func(p int, b0, b1 int) float64 {
		q := e.owner[p]
		if q < first || q > last || e.pre[p] {
			return 0
		}
		done := bandDone[q-first]
		t := 0.0
		if e.spaceRows[p] != e.layerRows[q] || len(done) == 0 {
			for _, v := range done {
				t = max(t, v)
			}
			return t
		}
		for j := b0; j < b1; j++ {
			t = max(t, done[j])
		}
		return t
	}
	fill := 0.0
	for i := range acc {
		li := first + i
		lp := &s.Layers[i]
		lay := &e.m.Layers[li]
		nb := len(e.bounds[e.LayerRows(li)]) - 1
		if cap(bandDone[i]) < nb {
			bandDone[i] = make([]float64, nb)
		}
		bandDone[i] = bandDone[i][:nb]
		clear(bandDone[i])
		per := float64((lay.Positions + int64(lp.Replicas) - 1) / int64(lp.Replicas))
		cores := int64(lp.Cores)
		vecNs := e.chip.VFUNs((acc[i].ops + cores - 1) / cores)
		in := e.g.Producers(lay.Node)[0]
		for k := 0; k < lp.Replicas; k++ {
			f, n := mapping.ReplicaPositions(lay.Positions, lp.Replicas, k)
			// The replica's crossbar thread runs its chunks as their input
			// bands arrive; its vector thread finishes each in order,
			// after its MVMs and after the operands from other layers that
			// its vector work reads.
			xDone, prev := 0.0, 0.0
			e.chunkBuf = e.chunks(e.chunkBuf[:0], li, f, n)
			for _, c := range e.chunkBuf {
				frac := float64(c.N) / per
				b0, b1 := e.InputBands(li, c, in)
				xDone = max(xDone, ready(in, b0, b1)) + lp.StageNs*frac
				fin := max(prev, xDone)
				for _, p := range e.operands[li] {
					b0, b1 := e.InputBands(li, c, p)
					fin = max(fin, ready(p, b0, b1)+vecNs*frac)
				}
				prev = fin
				bandDone[i][c.Band] = max(bandDone[i][c.Band], fin)
				fill = max(fill, fin)
			}
		}
	}
	return fill
}

// ChunkBand is the band of tensor n, owned by the layer of chunk c, that
// the chunk's share of n falls in: the chunk's band when n counts its
// rows as its layer's output does, else 0 (n moves as one band).
func (e *Estimator) ChunkBand(n int, c Chunk) int {
	if e.spaceRows == nil || e.spaceRows[n] <= 1 {
		return 0
	}
	return c.Band
}
