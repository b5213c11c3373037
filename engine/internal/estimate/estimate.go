// Package estimate is the fast analytical cost model of one partition: a
// contiguous span [a, b) of partition units run on the chip for a batch of
// B inputs. The partition searches cost every valid span, so each is
// evaluated once: Costs keeps the energy and time of every span compactly
// (16 bytes a span) for the searches, and Span keeps the full estimate of
// the spans a front end asks for.
//
// A span's cost has four phases, run one after another within the span:
//
//  1. weight load: the span's unique weight bytes stream from DRAM over the
//     bus (broadcast to every replica), bounded by the slower of the two;
//  2. crossbar write: rows are programmed as data arrives, crossbars in
//     parallel, so what is exposed is one crossbar's write of its rows;
//  3. compute: the span's layers form a pipeline across cores (one stage
//     per Conv/Linear layer with the vector work it owns); the first input
//     takes the critical path through the stages, each further input one
//     bottleneck interval: fill + B x bottleneck;
//  4. activation I/O: entry tensors loaded from DRAM and exit tensors stored
//     to it for all B inputs, and the buffers that do not fit local memory
//     written to DRAM and read back (mapping.Buffer); it overlaps the
//     compute pipeline, and what is exposed is the excess over compute
//     plus one input's worth.
//
// Replication: each layer in the span gets one replication count (rule 2
// of the paper's validity); replicas split the layer's output positions.
// The counts minimise the pipeline bottleneck subject to the replicated
// units fitting the chip by the placement policy's rule (rule 3; under
// mapping.PolicyUnit every replicated unit on one core, under
// mapping.PolicyCrossbar the crossbars in total, a replica split over two
// cores costing the partial sums it sends): the estimator bisects on the bottleneck
// time T, giving each layer the fewest replicas that bring its stage under
// T, and keeps the smallest T whose replicas pack. This is the optimum that
// PIMCOMP-style greedy replication (repeatedly replicate the bottleneck
// layer while it fits) reaches, found in O(log) packing checks instead of
// one per replica.
//
// The estimator costs spans and does not place them: once the search has
// chosen cuts, the layout stage (package layout) reads each partition's
// replication through Replicas and places the replicas.
//
// Every hardware figure comes from the hw.Chip through its cost-model
// methods; docs/estimator.md derives each term.
package estimate

import (
	"fmt"
	"math"
	"slices"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/energy"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
)

// Energy is an energy breakdown in picojoules (energy.Breakdown, which
// the simulator reports too).
type Energy = energy.Breakdown

// LayerPlan is one layer's share of a span and its layout.
type LayerPlan struct {
	Layer     int     // index into Mapping.Layers
	Units     int     // the layer's units in the span
	Crossbars int     // their crossbars at replication 1
	Replicas  int     // replication count shared by these units
	Cores     int     // cores the replicated units spread over (estimate)
	StageNs   float64 // per-input stage time at this replication
}

// Span is the estimated cost of running units [Start, End) for a batch.
type Span struct {
	Start, End int
	Layers     []LayerPlan

	CrossbarsUsed int // with replication

	WeightLoadNs float64 // DRAM -> crossbars transfer of the span's weights
	WriteNs      float64 // exposed crossbar programming time
	ComputeNs    float64 // pipeline fill + B x bottleneck
	IONs         float64 // exposed activation I/O
	TimeNs       float64 // the four phases, per batch

	FillNs       float64 // first input through the pipeline (critical path)
	BottleneckNs float64 // interval between inputs

	Energy   Energy  // per batch
	EnergyPJ float64 // Energy.Total()

	WeightBytes   int64     // unique weights read from DRAM, per batch
	LoadBytes     int64     // entry activations and Embedding table rows read from DRAM, per input
	StoreBytes    int64     // exit activations written to DRAM, per input
	SplitReplicas int       // replicas the placement splits over two cores (mapping.PolicyCrossbar), whose partial sums are costed
	SpillBytes    int64     // buffers beyond local memory written to DRAM, per input (mapping.Buffer)
	ReloadBytes   int64     // and read back, per input
	Entries       []int     // graph nodes whose outputs the span loads
	EntryShare    []float64 // per entry: the fraction of the tensor loaded
	Exits         []int     // graph nodes whose outputs the span stores
}

// Estimator costs spans of one mapping at one batch size. It is not safe
// for concurrent use; make one per goroutine.
type Estimator struct {
	m      *mapping.Mapping
	g      *model.Graph
	chip   *hw.Chip
	batch  int
	policy mapping.Policy // the placement policy whose packing rule decides fit and replication
	ends   []int

	owners      *mapping.Owners
	owner       []int     // graph node -> owning layer (owners.Of), -1 for graph inputs/parameters
	isLayer     []bool    // graph node is a Conv/Linear layer
	tensorBytes []float64 // output bytes of each graph node at activation precision
	layerPreds  [][]int   // layer -> layers whose outputs it waits for
	ownedPreds  [][]int   // layer -> other layers whose outputs the vector nodes it owns read (its vector work waits for them)
	ownedOps    []int64   // vector ops of the nodes a layer owns, its partial sums and a ConvTranspose's overlap adds, per input
	ownedRead   []int64   // local-memory bytes read by those nodes and overlap adds, per input
	ownedRecv   []int64   // bytes of their operands from other layers (or DRAM), written on arrival, per input
	ownedWrite  []int64   // local-memory bytes written by those nodes and overlap adds, per input
	inputBytes  []int64   // bytes of the layer's input tensor, per input (bus traffic)
	lookupBytes []float64 // layer -> output bytes of the Embedding nodes it owns: rows read from the table in DRAM, per input
	unitRead    []int64   // per unit: local-memory bytes read per position (input vector)
	unitWrite   []int64   // per unit: local-memory bytes written per position (outputs)
	unitRows    []int64   // per unit: crossbar rows programmed
	unitMaxRows []int     // per unit: most rows programmed in one of its crossbars
	unitShare   []float64 // per unit: its part of the layer's matrix (outputs x rows), summing to 1 per layer

	// The same four for the owned nodes before every layer (model.Graph.BeforeEveryLayer):
	// every partition holding any unit of the layer computes them whole,
	// so they are not scaled by the span's share of the layer.
	pre                                []bool  // graph node -> before every layer (model.Graph.BeforeEveryLayer)
	preOps, preRead, preRecv, preWrite []int64 // ops, bytes read, received, written

	// The row pipeline (rowpipe.go): the mode, each layer's output rows,
	// each tensor's band space in rows, each layer's operands from other
	// layers' vector nodes, and scratch for the bands' finishing times.
	pipeline  Pipeline
	layerRows []int
	spaceRows []int
	operands  [][]int
	bounds    map[int][]int // rows -> BandBounds(rows), for every row count above
	bandDone  [][]float64
	chunkBuf  []Chunk

	memo [][]*Span // full spans asked for through Span, per start (rows made on demand)

	// Compact costs of every valid span, for the searches (Costs):
	// cost[costAt[a]+k] is span [a, a+k+1), filled per start on first use.
	cost     []SpanCost
	costAt   []int
	costDone []bool

	// bufAt[u]: the last replication a unit's buffers were asked for, and
	// the answer (spans that share a layer mostly give it the same
	// replication).
	bufAt []int
	buf   []mapping.Buffer
	// unitPsumSend: per unit, partial-sum bytes it sends its home per
	// input (units of an input-split stripe other than the first).
	unitPsumSend []int64

	// scratch, reused by every evaluation
	frac    []float64 // per layer: fraction of its units in the span
	need    []float64 // per node: fraction of the tensor the span needs
	needGen []int32
	gen     int32
	counts  []int
	plans   []LayerPlan
	finish  []float64
}

// New prepares an estimator for the mapping at batch size batch, for
// the default placement policy (mapping.PolicyUnit).
func New(m *mapping.Mapping, batch int) (*Estimator, error) {
	return NewPlaced(m, batch, mapping.PolicyUnit)
}

// NewPlaced prepares an estimator for the mapping at batch size batch
// whose spans are placed by the given policy: its rule decides which
// spans are valid (Policy.ValidEnds) and which replications pack
// (Policy.Packs), and under mapping.PolicyCrossbar the estimate counts the
// partial sums that replicas split over two cores send and add.
func NewPlaced(m *mapping.Mapping, batch int, policy mapping.Policy) (*Estimator, error) {
	if m == nil {
		return nil, fmt.Errorf("estimate: nil mapping")
	}
	if batch < 1 || batch > MaxBatch {
		return nil, fmt.Errorf("batch = %d: must be an integer from 1 to %d", batch, MaxBatch)
	}
	if err := policy.Check(); err != nil {
		return nil, err
	}
	g, chip := m.Graph, m.Chip
	e := &Estimator{m: m, g: g, chip: chip, batch: batch, policy: policy, ends: policy.ValidEnds(m)}
	n := len(g.Nodes)
	e.owners = mapping.NewOwners(m)
	e.owner = make([]int, n)
	e.isLayer = make([]bool, n)
	e.tensorBytes = make([]float64, n)
	layerOfNode := make([]int, n)
	for i := range layerOfNode {
		layerOfNode[i] = -1
	}
	for li, l := range m.Layers {
		layerOfNode[l.Node] = li
		e.isLayer[l.Node] = true
	}
	actBytes := float64(chip.ActivationBits) / 8
	for i, nd := range g.Nodes {
		e.tensorBytes[i] = math.Ceil(float64(nd.Out.Elems()) * actBytes)
		e.owner[i] = e.owners.Of(i)
	}
	L := len(m.Layers)
	e.pre = g.BeforeEveryLayer()
	e.ownedOps = make([]int64, L)
	e.ownedRead = make([]int64, L)
	e.ownedRecv = make([]int64, L)
	e.ownedWrite = make([]int64, L)
	e.preOps = make([]int64, L)
	e.preRead = make([]int64, L)
	e.preRecv = make([]int64, L)
	e.preWrite = make([]int64, L)
	e.lookupBytes = make([]float64, L)
	e.inputBytes = make([]int64, L)
	for i := range g.Nodes {
		o := e.owner[i]
		if o < 0 {
			continue
		}
		if e.isLayer[i] {
			continue
		}
		if g.Nodes[i].Op == model.OpEmbedding {
			e.lookupBytes[o] += e.tensorBytes[i]
		}
		ops, read, recv, write := e.ownedOps, e.ownedRead, e.ownedRecv, e.ownedWrite
		if e.pre[i] {
			ops, read, recv, write = e.preOps, e.preRead, e.preRecv, e.preWrite
		}
		for _, p := range g.Producers(i) {
			if e.owner[p] != o {
				recv[o] += int64(e.tensorBytes[p])
			}
		}
		st := g.NodeStats(i)
		ops[o] += st.VecOps
		if st.VecOps > 0 || g.Nodes[i].Op == model.OpConcat {
			for _, p := range g.Producers(i) {
				read[o] += int64(e.tensorBytes[p])
			}
			write[o] += int64(e.tensorBytes[i])
		}
	}
	e.layerPreds = make([][]int, L)
	for li, l := range m.Layers {
		e.inputBytes[li] = int64(e.tensorBytes[g.Producers(l.Node)[0]])
		e.ownedOps[li] += l.PartialSumAdds()
		if l.Op == model.OpConvTranspose {
			// The overlap adds of a ConvTranspose (model.Stats.VecOps of
			// the layer node): the vector unit reads the MVMs' products
			// (output channels x kernel area per input pixel) and adds
			// them into the output where windows overlap, writing it.
			if ops := g.NodeStats(l.Node).VecOps; ops > 0 {
				e.ownedOps[li] += ops
				e.ownedRead[li] += int64(math.Ceil(float64(l.Positions*int64(l.Cols*l.Groups)) * actBytes))
				e.ownedWrite[li] += int64(e.tensorBytes[l.Node])
			}
		}
		seen := map[int]bool{}
		stack := append([]int(nil), g.Producers(l.Node)...)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[v] {
				continue
			}
			seen[v] = true
			if e.isLayer[v] {
				e.layerPreds[li] = append(e.layerPreds[li], layerOfNode[v])
				continue
			}
			stack = append(stack, g.Producers(v)...)
		}
	}
	e.ownedPreds = make([][]int, L)
	for li := range m.Layers {
		for _, n := range e.owners.Nodes(li) {
			if e.isLayer[n] {
				continue
			}
			for _, p := range g.Producers(n) {
				if o := e.owner[p]; o >= 0 && o != li && !slices.Contains(e.ownedPreds[li], o) {
					e.ownedPreds[li] = append(e.ownedPreds[li], o)
				}
			}
		}
	}
	U := len(m.Units)
	e.unitRead = make([]int64, U)
	e.unitWrite = make([]int64, U)
	e.unitRows = make([]int64, U)
	e.unitMaxRows = make([]int, U)
	e.unitShare = make([]float64, U)
	e.unitPsumSend = make([]int64, U)
	for k, u := range m.Units {
		l := m.Layers[u.Layer]
		rows := u.RowEnd - u.RowStart
		outs := u.OutEnd - u.OutStart
		for _, r := range m.CrossbarRows(k) {
			e.unitRows[k] += int64(r)
			e.unitMaxRows[k] = max(e.unitMaxRows[k], r)
		}
		e.unitRead[k] = int64(math.Ceil(float64(m.InputElems(k)) * actBytes))
		e.unitWrite[k] = int64(math.Ceil(float64(outs) * actBytes))
		e.unitShare[k] = float64(outs) * float64(rows) / (float64(l.Cols*l.Groups) * float64(l.Rows))
		if u.InputSplit > 0 {
			e.unitPsumSend[k] = int64(math.Ceil(float64(int64(outs)*l.Positions) * actBytes))
		}
	}
	e.memo = make([][]*Span, U)
	e.bufAt = make([]int, U)
	e.buf = make([]mapping.Buffer, U)
	e.frac = make([]float64, L)
	e.need = make([]float64, n)
	e.needGen = make([]int32, n)
	e.counts = make([]int, chip.CrossbarsPerCore+1)
	e.finish = make([]float64, L)
	return e, nil
}

// buffers is m.ReplicatedBuffers(u, r), remembered per unit.
func (e *Estimator) buffers(u, r int) *mapping.Buffer {
	if e.bufAt[u] != r {
		e.bufAt[u] = r
		e.buf[u] = e.m.ReplicatedBuffers(u, r)
	}
	return &e.buf[u]
}

// MaxBatch bounds the batch size (the paper evaluates 1 to 16).
const MaxBatch = 1 << 16

// Batch is the batch size the estimator costs.
func (e *Estimator) Batch() int { return e.batch }

// Mapping is the mapping the estimator costs.
func (e *Estimator) Mapping() *mapping.Mapping { return e.m }

// NumUnits is the number of partition units.
func (e *Estimator) NumUnits() int { return len(e.m.Units) }

// MaxEnd is the validity map: [a, b) is a valid partition iff
// a < b <= MaxEnd(a).
func (e *Estimator) MaxEnd(a int) int { return e.ends[a] }

// Policy is the placement policy the estimator's spans are placed by.
func (e *Estimator) Policy() mapping.Policy { return e.policy }

// Span returns the memoised cost of units [a, b), which must be valid.
func (e *Estimator) Span(a, b int) (*Span, error) {
	if a < 0 || a >= len(e.ends) || b <= a || b > e.ends[a] {
		return nil, fmt.Errorf("span [%d, %d) is not a valid partition (valid ends from %d: %d..%d)", a, b, a, a+1, e.endOr(a))
	}
	if e.memo[a] == nil {
		e.memo[a] = make([]*Span, e.ends[a]-a)
	}
	if s := e.memo[a][b-a-1]; s != nil {
		return s, nil
	}
	s := e.evaluate(a, b)
	e.memo[a][b-a-1] = s
	return s, nil
}

// Replicas is the replication of each layer of the valid span [a, b), in
// order from the layer of unit a, as the estimator chose it when it
// costed the span (so the estimator is a layout.Replication).
func (e *Estimator) Replicas(a, b int) ([]int, error) {
	s, err := e.Span(a, b)
	if err != nil {
		return nil, err
	}
	reps := make([]int, len(s.Layers))
	for k, lp := range s.Layers {
		reps[k] = lp.Replicas
	}
	return reps, nil
}

func (e *Estimator) endOr(a int) int {
	if a >= 0 && a < len(e.ends) {
		return e.ends[a]
	}
	return -1
}

// Owners says which layer computes each graph node (mapping.Owners).
func (e *Estimator) Owners() *mapping.Owners { return e.owners }

// TensorBytes is the size of node i's output at activation precision.
func (e *Estimator) TensorBytes(i int) float64 { return e.tensorBytes[i] }

// SpanCost is what the searches compare of a span: its energy and time
// per batch (Span.EnergyPJ and Span.TimeNs).
type SpanCost struct {
	EnergyPJ float64
	TimeNs   float64
}

// Costs returns the cost of every valid span starting at unit a:
// Costs(a)[k] is span [a, a+k+1), for k < MaxEnd(a)-a. The costs are
// computed once and kept in one flat array of 16 bytes per valid span; the
// full Span is not kept (unless Span asked for it), so a search over
// every span holds memory linear in the valid spans with a small
// constant. The slice must not be modified.
func (e *Estimator) Costs(a int) []SpanCost {
	if e.cost == nil {
		n := len(e.ends)
		e.costAt = make([]int, n+1)
		for i, end := range e.ends {
			e.costAt[i+1] = e.costAt[i] + (end - i)
		}
		e.cost = make([]SpanCost, e.costAt[n])
		e.costDone = make([]bool, n)
	}
	row := e.cost[e.costAt[a]:e.costAt[a+1]:e.costAt[a+1]]
	if !e.costDone[a] {
		for k := range row {
			var s *Span
			if e.memo[a] != nil && e.memo[a][k] != nil {
				s = e.memo[a][k]
			} else {
				s = e.evaluate(a, a+k+1)
			}
			row[k] = SpanCost{EnergyPJ: s.EnergyPJ, TimeNs: s.TimeNs}
		}
		e.costDone[a] = true
	}
	return row
}

// MustSpan is Span for callers that walk the validity map themselves and
// so only ask for valid spans; an invalid span is a programming error.
func (e *Estimator) MustSpan(a, b int) *Span {
	s, err := e.Span(a, b)
	if err != nil {
		panic(err)
	}
	return s
}
