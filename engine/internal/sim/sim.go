// Package sim is the discrete-event simulator of a scheduled program (package
// isa) on a chip: it executes every core's instruction streams in order,
// with resources for each crossbar, each core's vector unit, the shared bus
// and the DRAM (the bank-level LPDDR3 model of package dram), and reports
// the batch's latency, the phases of every partition, energy by component,
// DRAM traffic and row-hit rate, instruction counts and utilisation. It
// runs the program in its loop form (isa.LoopProgram), taking each
// stream's instructions one at a time as the stream reaches them, and
// drops the state of a tensor once its last reader has passed
// (readers.go), so its memory follows the inputs in flight, not the
// batch.
//
// Execution rules. A stream issues one instruction at a time. MVMUL and
// WRITE_WEIGHT are asynchronous: they occupy their crossbar and the stream
// goes on, so a replica's crossbars work in parallel; any other
// instruction first waits for the stream's outstanding crossbar work. RECV
// waits until every contribution to its tensor (SENDs of on-chip producers,
// the loader's LOAD_DATA) has arrived; LOAD_DATA of a tensor stored by an
// earlier partition waits for those stores. Partitions run one after
// another: a partition's MVMs and entry loads (whose data needs the local
// memory the previous partition's buffers hold) start only when the
// partition before it has ended. Its replacement may start earlier: a
// crossbar is rewritten once the previous partition's last MVM on it is
// done and that partition is computing, so cores whose layers finish early
// start their replacement early, as the paper describes. The bus serves one transfer
// at a time, each in the first free slot at or after its arrival (a read
// that completes behind a long DRAM queue books the bus then, without
// holding up transfers that arrive before it); DRAM requests go through
// the controller in request order.
package sim

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/dram"
	"github.com/compass-go/compass/engine/internal/energy"
	"github.com/compass-go/compass/engine/isa"
)

// Phase is a time window in ns.
type Phase struct {
	StartNs float64 `json:"start_ns"`
	EndNs   float64 `json:"end_ns"`
}

func (p *Phase) add(s, e float64) {
	if p.EndNs == 0 && p.StartNs == 0 {
		p.StartNs, p.EndNs = s, e
		return
	}
	p.StartNs = math.Min(p.StartNs, s)
	p.EndNs = math.Max(p.EndNs, e)
}

// Ns is the window's length.
func (p Phase) Ns() float64 { return p.EndNs - p.StartNs }

// PartitionResult gives a partition's phases.
type PartitionResult struct {
	Index       int   `json:"index"`
	Replacement Phase `json:"replacement"` // LOAD_WEIGHT and WRITE_WEIGHT
	WeightLoad  Phase `json:"weight_load"` // LOAD_WEIGHT: DRAM reads and bus broadcasts
	Write       Phase `json:"write"`       // WRITE_WEIGHT: crossbar programming
	Compute     Phase `json:"compute"`     // MVMs and vector work
	IO          Phase `json:"io"`          // LOAD_DATA and STORE_DATA
	End         float64
	SpillBytes  int64 // spilled buffers written to DRAM, per batch
	ReloadBytes int64 // and read back, per batch
}

// TraceEvent is one busy interval of a core (Core = -1: the bus).
type TraceEvent struct {
	Core      int32      `json:"core"`
	Op        isa.Opcode `json:"op"`
	Partition int32      `json:"partition"`
	Layer     int32      `json:"layer"`
	StartNs   float64    `json:"start_ns"`
	EndNs     float64    `json:"end_ns"`
}

// TraceEventBytes is the memory one recorded trace event takes.
const TraceEventBytes = int64(unsafe.Sizeof(TraceEvent{}))

// Options control a run.
type Options struct {
	Trace    bool // record a per-core timeline
	MaxTrace int  // bound on recorded events (0: 1,000,000); the trace stops there and the result says so
	// MaxEvents, if positive, bounds the events (instructions executed)
	// the run may process; a program with more is refused before it
	// starts.
	MaxEvents int64
	// Context, if set, stops the run with its error when it is done
	// (checked every few thousand events).
	Context context.Context
	// Functional, if set, also executes the program's arithmetic (see
	// Functional) and fills its Outputs.
	Functional *Functional
}

// Result is a simulated batch.
type Result struct {
	LatencyNs      float64
	Energy         energy.Breakdown // pJ, per batch
	EnergyPJ       float64
	DRAM           dram.Stats
	Partitions     []PartitionResult
	Counts         map[isa.Opcode]int64
	MVMs           int64
	CoreXbarBusyNs []float64 // per core: crossbar busy time summed over its crossbars
	CoreVFUBusyNs  []float64
	BusBusyNs      float64
	Events         int64
	Trace          []TraceEvent
	// TraceTruncated says the trace stopped at Options.MaxTrace events:
	// it holds the first len(Trace) of TraceEvents busy intervals, in the
	// order the simulation processed them, ending by TraceEndNs.
	TraceTruncated   bool
	TraceEvents      int64   // busy intervals of the whole run (with Options.Trace)
	TraceEndNs       float64 // the latest end among the recorded events
	CrossbarsPerCore int
	// ReplacementPJ is the energy of weight replacement, per batch: the
	// DRAM bursts and row activations of the weight reads, their bus
	// broadcast, and the crossbar writes (the paper compares it with the
	// MVM energy, Energy.MVM + Energy.ADC).
	ReplacementPJ float64
	// SpillBytes is what the replicas' buffers that do not fit local
	// memory park in DRAM, and ReloadBytes what they read back, per batch
	// (both are in the DRAM figures too).
	SpillBytes, ReloadBytes int64
}

// Utilisation of core c's crossbars over the run.
func (r *Result) XbarUtilisation(c int) float64 {
	return r.CoreXbarBusyNs[c] / (r.LatencyNs * float64(r.CrossbarsPerCore))
}

type tagKey struct {
	part, node, a, b, band, input int32
}

// tag is what a RECV waits for: contributions (SENDs, the loader's
// LOAD_DATAs) to one tensor of one input in one partition, or in the row
// pipeline to one band of its rows (isa.Instr.Band): a row counter. Tags and
// stored data are held by value and without pointers, so the maps that
// hold those in flight stay small and the garbage collector skips them.
type tag struct {
	time            float64
	got, need       int32
	readers, passed int32 // RECVs that read it, and those done (see readers.go)
	waiting         waitList
	needSet         bool
}

// stored is the data STORE_DATAs write for LOAD_DATAs to wait for.
type stored struct {
	time            float64
	count           int32 // STORE_DATAs done
	writers         int32 // STORE_DATAs that write it
	readers, passed int32 // LOAD_DATAs that wait for it, and those done
	waiting         waitList
}

// loadedWeights is a unit's LOAD_WEIGHT in one partition, which its
// WRITE_WEIGHTs wait for.
type loadedWeights struct {
	loaded  bool
	time    float64
	waiters []int
}

// waitList is a list of blocked streams threaded through the streams (a
// stream waits for one thing at a time): 0 is empty, else 1 + the first
// stream's index.
type waitList int32

type xbar struct {
	free     float64
	owner    int32 // partition that last wrote it (-1: none)
	usesLeft int64 // MVMULs of the owner still to issue
	waiters  []int
}

type stream struct {
	part        int32
	core        int32
	code        *isa.LoopStream // instructions, generated one at a time
	len         int64           // code.Len()
	pc          int64
	cur         isa.Instr // instruction pc
	sec, j, k   int       // where pc is: section (0 head, 1 body, 2 tail), index in it, body repetition
	ready       float64
	outstanding float64
	nextWaiter  waitList // the stream after it in the list it waits in
}

// sim holds a run's state.
type sim struct {
	chip    *hw.Chip
	ctrl    *dram.Controller
	streams []*stream
	runq    runQueue
	xbars   [][]xbar
	writers map[[2]int32][]int32 // (core, xbar) -> partitions that write it, in order
	mvmUses map[[3]int32]int64   // (partition, core, xbar) -> MVMULs
	tags    map[tagKey]tag
	weights map[[2]int32]*loadedWeights // (partition, unit)
	stores  map[[4]int32]stored         // isa.Instr.DataKey
	// Readers of tags and stored data, to drop each after its last.
	tagReaders   readerTable[tagKey]
	storeReaders readerTable[[4]int32]
	storeWriters readerTable[[4]int32]
	busCal       calendar
	// computing[p] is when partition p issued its first MVM (-1: not yet);
	// the next partition's replacement waits for it (lookahead of one).
	computing []float64
	startWait [][]int
	// firstLoads[p] counts partition p's entry loads of its first input
	// still to run, firstLoaded[p] when the last done ended (startedAt).
	firstLoads  []int
	firstLoaded []float64
	// left[p] counts partition p's streams still running; ended[p] is when
	// the last one finished (-1 before). A partition computes only after
	// the one before it has ended: partitions run one after another, and
	// only their replacement and entry loads overlap.
	left     []int
	ended    []float64
	endWait  [][]int
	vfuFree  []float64
	lmPort   []calendar // per core: the local memory's port
	lastDRAM float64
	// dramChunks counts the DRAM requests issued; stopped is the
	// context's error once a transfer saw it done (dramAccess).
	dramChunks int64
	stopped    error
	res        *Result
	opt        Options
	fn         *fnState   // functional mode, or nil
	counts     [256]int64 // instructions executed by opcode (Result.Counts)
	act        float64
}

// Run simulates a program on a chip. It takes each instruction from its
// stream's loop form as the stream reaches it, so the program is never
// expanded and memory does not grow with the batch.
func Run(p *isa.LoopProgram, chip *hw.Chip, opt Options) (*Result, error) {
	if err := chip.Validate(); err != nil {
		return nil, err
	}
	ctrl, err := dram.New(&chip.DRAM)
	if err != nil {
		return nil, err
	}
	if opt.MaxTrace <= 0 {
		opt.MaxTrace = 1_000_000
	}
	s := &sim{chip: chip, ctrl: ctrl, tags: map[tagKey]tag{}, weights: map[[2]int32]*loadedWeights{},
		stores: map[[4]int32]stored{}, mvmUses: map[[3]int32]int64{}, opt: opt,
		act: float64(chip.ActivationBits) / 8,
		res: &Result{Counts: map[isa.Opcode]int64{}, CoreXbarBusyNs: make([]float64, chip.Cores),
			CoreVFUBusyNs: make([]float64, chip.Cores), CrossbarsPerCore: chip.CrossbarsPerCore}}
	s.vfuFree = make([]float64, chip.Cores)
	s.lmPort = make([]calendar, chip.Cores)
	s.xbars = make([][]xbar, chip.Cores)
	for c := range s.xbars {
		s.xbars[c] = make([]xbar, chip.CrossbarsPerCore)
		for x := range s.xbars[c] {
			s.xbars[c][x].owner = -1
		}
	}
	if opt.Functional != nil {
		if s.fn, err = newFunctional(opt.Functional); err != nil {
			return nil, err
		}
	}
	writers := map[[2]int32][]int32{}
	for pi := range p.Partitions {
		part := &p.Partitions[pi]
		s.res.Partitions = append(s.res.Partitions, PartitionResult{Index: part.Index})
		for si := range part.Streams {
			st := &part.Streams[si]
			if st.Core < 0 || int(st.Core) >= chip.Cores {
				return nil, fmt.Errorf("partition %d: a stream on core %d, the chip has %d", pi, st.Core, chip.Cores)
			}
			if err := st.Check(); err != nil {
				return nil, fmt.Errorf("partition %d: %w", pi, err)
			}
			var err error
			count := func(in isa.Instr, times int64) {
				if err != nil {
					return
				}
				if in.Op == isa.MVMul || in.Op == isa.WriteWeight {
					if in.Xbar < 0 || int(in.Xbar) >= chip.CrossbarsPerCore {
						err = fmt.Errorf("partition %d core %d: %s on crossbar %d, a core has %d", pi, st.Core, in.Op, in.Xbar, chip.CrossbarsPerCore)
						return
					}
				}
				switch in.Op {
				case isa.MVMul:
					s.mvmUses[[3]int32{int32(pi), st.Core, in.Xbar}] += times
				case isa.WriteWeight:
					k := [2]int32{st.Core, in.Xbar}
					if w := writers[k]; len(w) == 0 || w[len(w)-1] != int32(pi) {
						writers[k] = append(writers[k], int32(pi))
					}
				}
			}
			for _, in := range st.Head {
				count(in, 1)
			}
			if st.Repeat > 0 {
				for _, in := range st.Body {
					count(in, int64(st.Repeat))
				}
			}
			for _, in := range st.Tail {
				count(in, 1)
			}
			if err != nil {
				return nil, err
			}
			ns := &stream{part: int32(pi), core: st.Core, code: st, len: st.Len()}
			ns.settle()
			s.streams = append(s.streams, ns)
		}
	}
	s.writers = writers
	if n := p.Instructions(); opt.MaxEvents > 0 && n > opt.MaxEvents {
		return nil, fmt.Errorf("the program runs %d instructions, over the bound of %d events", n, opt.MaxEvents)
	}
	s.countReaders(p)
	if err := s.checkCounts(p); err != nil {
		return nil, err
	}
	var traced int64
	if opt.Trace { // the trace's size is known: allocate it once
		traced = tracedEvents(p)
		s.res.Trace = make([]TraceEvent, 0, min(traced, int64(opt.MaxTrace)))
	}
	s.computing = make([]float64, len(p.Partitions))
	for i := range s.computing {
		s.computing[i] = -1
	}
	s.startWait = make([][]int, len(p.Partitions))
	s.firstLoads = make([]int, len(p.Partitions))
	s.firstLoaded = make([]float64, len(p.Partitions))
	for pi := range p.Partitions {
		// Only a partition that loads its entries band by band (the row
		// pipeline) starts computing before its first input is in.
		n, banded := 0, false
		for _, st := range p.Partitions[pi].Streams {
			for _, in := range st.Head {
				if in.Op == isa.LoadData && in.Node >= 0 && in.Input == 0 {
					n++
					banded = banded || in.Band > 0
				}
			}
		}
		if banded {
			s.firstLoads[pi] = n
		}
	}
	s.left = make([]int, len(p.Partitions))
	s.ended = make([]float64, len(p.Partitions))
	s.endWait = make([][]int, len(p.Partitions))
	for i, part := range p.Partitions {
		s.left[i] = len(part.Streams)
		s.ended[i] = -1
	}
	for i := range s.streams {
		s.runq.push(i, 0, s.streams)
	}
	if err := s.loop(); err != nil {
		return nil, err
	}
	if s.res.TraceEvents != traced {
		return nil, fmt.Errorf("the trace has %d busy intervals, the program %d traced instructions", s.res.TraceEvents, traced)
	}
	if len(s.tags) > 0 || len(s.stores) > 0 {
		return nil, fmt.Errorf("the program's readers and writers disagree: %d tags and %d stored tensors left unread after the run", len(s.tags), len(s.stores))
	}
	r := s.res
	for op, n := range s.counts {
		if n > 0 {
			r.Counts[isa.Opcode(op)] = n
		}
	}
	for i := range r.Partitions {
		r.LatencyNs = math.Max(r.LatencyNs, r.Partitions[i].End)
	}
	de := ctrl.Energy(math.Max(r.LatencyNs, s.lastDRAM))
	r.Energy.DRAM = de.Total()
	r.Energy.Static = chip.StaticPowerMW() * r.LatencyNs
	r.EnergyPJ = r.Energy.Total()
	r.DRAM = ctrl.Stats()
	return r, nil
}

// settle moves the stream's position past empty sections and loads the
// instruction at pc (when there is one).
func (st *stream) settle() {
	c := st.code
	for {
		switch {
		case st.sec == 0 && st.j >= len(c.Head):
			st.sec, st.j, st.k = 1, 0, 0
			continue
		case st.sec == 1 && (st.k >= c.Repeat || len(c.Body) == 0):
			st.sec, st.j = 2, 0
			continue
		case st.sec == 1 && st.j >= len(c.Body):
			st.j, st.k = 0, st.k+1
			continue
		}
		break
	}
	switch {
	case st.sec == 0:
		st.cur = c.Head[st.j]
	case st.sec == 1:
		st.cur = c.Body[st.j]
		if st.cur.Input >= 0 {
			st.cur.Input += int32(st.k)
		}
		st.cur.Addr += uint64(st.k) * c.AddrStep[st.j]
	case st.j < len(c.Tail):
		st.cur = c.Tail[st.j]
	}
}

// advance moves the stream to its next instruction.
func (st *stream) advance() {
	st.pc++
	st.j++
	st.settle()
}

// tracedEvents is the number of busy intervals a traced run records: one
// per instruction that occupies a resource (every instruction but RECV,
// BARRIER and a SEND that hands over between a replica's threads).
func tracedEvents(p *isa.LoopProgram) int64 {
	var n int64
	p.Count(func(_ int, _ *isa.LoopStream, in isa.Instr, times int64) {
		switch {
		case in.Op == isa.Recv, in.Op == isa.Barrier, in.Op == isa.Send && in.Node == isa.LocalNode:
		default:
			n += times
		}
	})
	return n
}
