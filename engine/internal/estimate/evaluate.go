package estimate

import (
	"math"

	"github.com/compass-go/compass/engine/internal/mapping"
)

// layerAcc accumulates one layer's share of a span.
type layerAcc struct {
	units, crossbars   int
	share              float64 // the layer's outputs the span computes: sum of its units' shares
	readPos, writePos  int64   // local-memory bytes per output position
	rows               int64   // crossbar rows programmed at replication 1
	pos                int64
	ops                int64 // vector ops per input
	lmBytes            int64 // local-memory bytes per input (reads + writes)
	firstUnit, endUnit int
}

// evaluate computes the cost of the valid span [a, b).
func (e *Estimator) evaluate(a, b int) *Span {
	m, chip := e.m, e.chip
	B := float64(e.batch)
	first, last := m.Units[a].Layer, m.Units[b-1].Layer
	nl := last - first + 1
	acc := make([]layerAcc, nl)
	s := &Span{Start: a, End: b}
	maxRows := 0
	for u := a; u < b; u++ {
		unit := &m.Units[u]
		la := &acc[unit.Layer-first]
		if la.units == 0 {
			la.firstUnit = u
		}
		la.endUnit = u + 1
		la.units++
		la.share += e.unitShare[u]
		la.crossbars += unit.Crossbars
		la.readPos += e.unitRead[u]
		la.writePos += e.unitWrite[u]
		la.rows += e.unitRows[u]
		maxRows = max(maxRows, e.unitMaxRows[u])
		s.WeightBytes += (unit.Cells*int64(chip.BitsPerCell) + 7) / 8
	}
	for i := range acc {
		l := &m.Layers[first+i]
		la := &acc[i]
		e.frac[first+i] = la.share
		la.pos = l.Positions
	}
	for i := range acc {
		f := e.frac[first+i]
		la := &acc[i]
		li := first + i
		// The nodes before every layer are computed whole by every span
		// holding part of their layer; the rest of the owned work in
		// proportion to the span's share.
		la.ops = e.preOps[li] + int64(math.Ceil(float64(e.ownedOps[li])*f))
		la.lmBytes = la.pos*(la.readPos+la.writePos) + e.preRead[li] + e.preWrite[li] + int64(math.Ceil(float64(e.ownedRead[li]+e.ownedWrite[li])*f))
	}

	// Activation I/O: entries the span must load, exits it must store.
	load, store, sent := e.dataDependence(s, first, last)
	s.LoadBytes = int64(math.Ceil(load))
	s.StoreBytes = int64(math.Ceil(store))

	// Bus traffic per input: every layer's input crosses the bus once (from
	// its producer's core or from DRAM), and exits once more to DRAM.
	busPerInput := s.StoreBytes
	for i := range acc {
		busPerInput += e.inputBytes[first+i]
	}
	busNs := chip.BusTransferNs(busPerInput)

	// Replication and the pipeline.
	s.Layers = make([]LayerPlan, nl)
	e.replicate(s, acc, first, busNs)
	s.BottleneckNs = busNs
	for i := range s.Layers {
		s.BottleneckNs = max(s.BottleneckNs, s.Layers[i].StageNs)
	}
	split := e.splitReplicas(s, acc, first)
	s.SplitReplicas = split.replicas
	// The layers share the cores they occupy: their vector units and
	// local-memory ports serve all of them, so the interval is at least
	// the whole span's vector work and memory traffic spread over those
	// cores.
	{
		K := chip.CrossbarsPerCore
		cores := int64(min(chip.Cores, (s.CrossbarsUsed+K-1)/K))
		ops, lm := split.ops, split.read
		for i := range acc {
			ops += acc[i].ops
			lm += acc[i].lmBytes
		}
		s.BottleneckNs = max(s.BottleneckNs, chip.VFUNs((ops+cores-1)/cores), chip.LocalMemoryReadNs((lm+cores-1)/cores))
	}
	for i := range s.Layers {
		li := first + i
		start := 0.0
		for _, p := range e.layerPreds[li] {
			if p >= first {
				start = max(start, e.finish[p])
			}
		}
		e.finish[li] = start + s.Layers[i].StageNs
		// Vector nodes it owns may read other layers' outputs (attention's
		// products of two projections, a residual's skip, a concat's
		// branches): that work follows them.
		for _, p := range e.ownedPreds[li] {
			if p >= first {
				cores := int64(s.Layers[i].Cores)
				e.finish[li] = max(e.finish[li], e.finish[p]+chip.VFUNs((acc[i].ops+cores-1)/cores))
			}
		}
		s.FillNs = max(s.FillNs, e.finish[li])
	}
	if e.pipeline == Row {
		s.FillNs = e.rowFill(s, acc, first)
	}
	s.ComputeNs = s.FillNs + (B-1)*s.BottleneckNs

	// Inputs the replicas receive into local memory, partial sums they
	// send, and buffers beyond their shares of local memory, which spill
	// to DRAM.
	received, psumSent := split.received, split.sent
	for i := range acc {
		for u := acc[i].firstUnit; u < acc[i].endUnit; u++ {
			buf := e.buffers(u, s.Layers[i].Replicas)
			received += buf.InputBytes
			s.SpillBytes += buf.SpillBytes
			s.ReloadBytes += buf.ReloadBytes
			psumSent += e.unitPsumSend[u]
		}
	}

	// Weight replacement and activation I/O over DRAM and the bus.
	rate := min(chip.DRAM.PeakBandwidthBytesPerS(), chip.BusBandwidthBytesPerS) / 1e9 // bytes per ns
	s.WeightLoadNs = chip.BusLatencyNs + float64(s.WeightBytes)/rate
	s.WriteNs = chip.CrossbarWriteNs(maxRows)
	ioBytes := B * float64(s.LoadBytes+s.StoreBytes)
	spillBytes := B * float64(s.SpillBytes+s.ReloadBytes)
	if ioBytes+spillBytes > 0 {
		// Loads, compute and stores of the B inputs pipeline: the phase
		// takes the longer of compute and DRAM traffic, plus one input's
		// worth of the shorter of compute and entry/exit I/O (B = 1: the
		// two in sequence; many inputs: full overlap). Spilled buffers
		// move while their input computes, so they add DRAM time, not
		// sequence. What is exposed beyond compute is the I/O time.
		ioNs := chip.BusLatencyNs + ioBytes/rate
		spillNs := spillBytes / rate
		s.IONs = max(s.ComputeNs, ioNs+spillNs) + min(s.ComputeNs, ioNs)/B - s.ComputeNs
	}
	s.TimeNs = s.WeightLoadNs + s.WriteNs + s.ComputeNs + s.IONs

	// Energy per batch.
	var mvms, lmRead, lmWrite, rowsWritten float64
	ops, lmRead := float64(split.ops), float64(split.read)
	for i, la := range acc {
		mvms += float64(la.pos) * float64(la.crossbars)
		ops += float64(la.ops)
		li := first + i
		f := e.frac[li]
		lmRead += float64(la.pos*la.readPos) + float64(e.preRead[li]) + float64(e.ownedRead[li])*f
		lmWrite += float64(la.pos*la.writePos) + float64(e.preWrite[li]+e.preRecv[li]) + float64(e.ownedWrite[li]+e.ownedRecv[li])*f
		rowsWritten += float64(s.Layers[i].Replicas) * float64(la.rows)
	}
	// Sends and stores read local memory; received inputs and reloaded
	// spills are written into it (entries from DRAM too, by the replicas
	// that receive them).
	lmRead += sent + float64(psumSent+s.StoreBytes+s.SpillBytes)
	lmWrite += float64(received + s.ReloadBytes)
	en := &s.Energy
	en.MVM = B * mvms * chip.MVMArrayEnergyPJ()
	en.ADC = B * mvms * chip.MVMADCEnergyPJ()
	en.VFU = B * ops * chip.VFUEnergyPerOpPJ
	en.LocalMemory = B * (lmRead*chip.LocalMemoryReadEnergyPerBytePJ + lmWrite*chip.LocalMemoryWriteEnergyPerBytePJ)
	en.Bus = (B*float64(busPerInput+psumSent+s.SpillBytes+s.ReloadBytes) + float64(s.WeightBytes)) * chip.BusEnergyPerBytePJ
	en.DRAM = e.dramEnergy(float64(s.WeightBytes)+B*float64(s.LoadBytes+s.ReloadBytes), B*float64(s.StoreBytes+s.SpillBytes), s.TimeNs)
	en.Write = rowsWritten * chip.CrossbarWriteEnergyPJ(1)
	en.Static = chip.StaticPowerMW() * s.TimeNs
	s.EnergyPJ = en.Total()

	for i := range acc {
		e.frac[first+i] = 0
	}
	return s
}

// dramEnergy is the DRAM energy of reading and writing the given bytes
// during a phase of timeNs: bursts, one activate per row of data
// (sequential streams), background power (active while transferring,
// precharged otherwise) and refresh.
func (e *Estimator) dramEnergy(readBytes, writeBytes, timeNs float64) float64 {
	d := &e.chip.DRAM
	burst, row := float64(d.BurstBytes()), float64(d.RowBytes())
	en := math.Ceil(readBytes/burst)*d.ReadBurstEnergyPJ() + math.Ceil(writeBytes/burst)*d.WriteBurstEnergyPJ()
	en += math.Ceil((readBytes+writeBytes)/row) * d.ActivateEnergyPJ()
	busy := min(timeNs, (readBytes+writeBytes)/(d.PeakBandwidthBytesPerS()/1e9))
	en += d.ActiveStandbyPowerMW()*busy + d.PrechargeStandbyPowerMW()*(timeNs-busy)
	en += d.RefreshEnergyPJ() * timeNs / (float64(d.TREFICycles) * d.TCKNs)
	return en
}

// fracOf is the fraction of node i's output the span computes: a node
// before every layer whole when the span holds any of its layer.
func (e *Estimator) fracOf(i int) float64 {
	if o := e.owner[i]; o >= 0 {
		if e.pre[i] && e.frac[o] > 0 {
			return 1
		}
		return e.frac[o]
	}
	return 0
}

// dataDependence finds the span's entry and exit tensors and returns the
// bytes loaded and stored per input. A Conv/Linear layer, and a node
// before every layer (model.Graph.BeforeEveryLayer), needs its whole input whatever share of
// its units the span holds; another vector node needs
// the share of its input that matches its own share. What the span does
// not compute itself it loads. A tensor computed in the span is stored when
// some consumer computes (part of) its output elsewhere and needs it: a
// Conv/Linear consumer not wholly in the span, or a vector consumer of
// another owner not wholly in the span (a residual add across a cut).
// The rows an Embedding the span computes looks up are loaded too.
// It also returns the bytes per input the span's layers send on chip: the
// tensors a Conv/Linear layer or another layer's vector node in the span
// consumes.
func (e *Estimator) dataDependence(s *Span, first, last int) (load, store, sent float64) {
	g := e.g
	e.gen++
	if e.gen == math.MaxInt32 {
		clear(e.needGen)
		e.gen = 1
	}
	for l := first; l <= last; l++ {
		for _, n := range e.owners.Nodes(l) {
			fn := e.frac[l]
			want := fn
			if e.isLayer[n] || e.pre[n] {
				want = 1
			}
			for _, p := range g.Producers(n) {
				d := want - e.fracOf(p)
				if d <= 1e-12 {
					continue
				}
				if e.needGen[p] != e.gen {
					e.needGen[p] = e.gen
					e.need[p] = 0
					s.Entries = append(s.Entries, p)
				}
				e.need[p] = max(e.need[p], d)
			}
		}
	}
	s.EntryShare = make([]float64, len(s.Entries))
	for k, p := range s.Entries {
		s.EntryShare[k] = e.need[p]
		load += e.tensorBytes[p] * e.need[p]
	}
	// An Embedding's looked-up rows come from its table in DRAM, whole
	// in every span holding its layer (the scheduler's table LOAD_DATA).
	for l := first; l <= last; l++ {
		load += e.lookupBytes[l]
	}
	for l := first; l <= last; l++ {
		for _, n := range e.owners.Nodes(l) {
			f := e.frac[l]
			if e.pre[n] {
				f = 1 // computed whole (model.Graph.BeforeEveryLayer)
			}
			cons := g.Consumers(n)
			needed := len(cons) == 0 // a graph output
			sends := false
			for _, c := range cons {
				if !e.isLayer[c] && e.owner[c] == e.owner[n] {
					continue
				}
				if e.fracOf(c) > 0 {
					sends = true
				}
				if e.fracOf(c) < 1 {
					needed = true
				}
			}
			if sends {
				sent += e.tensorBytes[n] * f
			}
			if needed {
				s.Exits = append(s.Exits, n)
				store += e.tensorBytes[n] * f
			}
		}
	}
	return load, store, sent
}

// stage is a layer's per-input stage time at replication r: the slowest of
// its crossbars (positions shared among replicas), its vector work and its
// local-memory traffic, the latter two spread over the cores it occupies.
func (e *Estimator) stage(la *layerAcc, r int) (ns float64, cores int) {
	chip := e.chip
	K := chip.CrossbarsPerCore
	cores = max(1, (r*la.crossbars+K-1)/K)
	perRep := (la.pos + int64(r) - 1) / int64(r)
	ns = float64(perRep) * chip.MVMIntervalNs()
	ns = max(ns, chip.VFUNs((la.ops+int64(cores)-1)/int64(cores)))
	ns = max(ns, chip.LocalMemoryReadNs((la.lmBytes+int64(cores)-1)/int64(cores)))
	return ns, cores
}

// maxReplicas bounds a layer's replication: no more replicas than output
// positions, and no more crossbars than the chip has.
func (e *Estimator) maxReplicas(la *layerAcc) int {
	return int(max(1, min(la.pos, int64(e.m.CrossbarsAvailable/la.crossbars))))
}

// replicasFor is the fewest replicas that bring the layer's stage to at
// most T (capped at maxReplicas).
func (e *Estimator) replicasFor(la *layerAcc, T float64) int {
	rmax := e.maxReplicas(la)
	iv := e.chip.MVMIntervalNs()
	r := 1
	if k := math.Floor(T / iv); k >= 1 {
		r = int(min(float64(rmax), math.Ceil(float64(la.pos)/k)))
	} else {
		return rmax
	}
	if ns, _ := e.stage(la, r); ns <= T {
		return max(r, 1)
	}
	lo, hi := r, rmax // stage(lo) > T; find the smallest r with stage(r) <= T
	if ns, _ := e.stage(la, hi); ns > T {
		return hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ns, _ := e.stage(la, mid); ns <= T {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// nextChange is the smallest bottleneck above the one that gave reps at
// which some layer needs fewer replicas: its stage with one replica fewer
// (replicasFor gives the fewest replicas meeting the bottleneck, so that
// stage exceeds it).
func (e *Estimator) nextChange(acc []layerAcc, reps []int) float64 {
	next := math.Inf(1)
	for i := range acc {
		if reps[i] > 1 {
			ns, _ := e.stage(&acc[i], reps[i]-1)
			next = min(next, ns)
		}
	}
	return next
}

// achieved is the bottleneck the assignment reps achieves.
func (e *Estimator) achieved(acc []layerAcc, reps []int) float64 {
	worst := 0.0
	for i := range acc {
		ns, _ := e.stage(&acc[i], reps[i])
		worst = max(worst, ns)
	}
	return worst
}

// packs reports whether the span's units, each layer replicated reps[i]
// times, fit the chip's cores.
func (e *Estimator) packs(acc []layerAcc, reps []int) bool {
	clear(e.counts)
	for i := range acc {
		for u := acc[i].firstUnit; u < acc[i].endUnit; u++ {
			e.counts[e.m.Units[u].Crossbars] += reps[i]
		}
	}
	return e.policy.Packs(e.counts, e.chip.Cores, e.chip.CrossbarsPerCore)
}

// splitWork is the work per input that replicas split over two cores add
// (mapping.PolicyCrossbar): the second piece receives the replica's input
// too and reads its input vectors for its MVMs, sends its results to the
// first piece's core as partial sums, and that core's vector unit adds
// them, as the scheduler compiles it.
type splitWork struct {
	replicas int   // replicas split
	ops      int64 // vector additions
	read     int64 // local-memory bytes the second pieces' MVMs read
	received int64 // input bytes the second pieces receive
	sent     int64 // partial-sum bytes they send
}

// splitReplicas finds the replicas PolicyCrossbar's placement splits
// (mapping.CrossbarFill, replicas in unit order as the layout places
// them) and their work; none under PolicyUnit.
func (e *Estimator) splitReplicas(s *Span, acc []layerAcc, first int) (w splitWork) {
	if e.policy != mapping.PolicyCrossbar {
		return w
	}
	m := e.m
	K := e.chip.CrossbarsPerCore
	act := float64(e.chip.ActivationBits) / 8
	at := 0
	for i := range acc {
		r := s.Layers[i].Replicas
		positions := m.Layers[first+i].Positions
		for u := acc[i].firstUnit; u < acc[i].endUnit; u++ {
			c := m.Units[u].Crossbars
			end := at + r*c
			// Only a replica a core's end falls in can be split: the
			// k-th, k = (b - at) / c, for each core end b inside the run.
			for b := (at/K + 1) * K; b < end; b += K {
				k := (b - at) / c
				if _, _, n := mapping.CrossbarFill(at+k*c, c, K); n == c {
					continue // a core ends between two replicas
				}
				_, p := mapping.ReplicaPositions(positions, r, k)
				outs := int64(m.Units[u].OutEnd - m.Units[u].OutStart)
				w.replicas++
				w.ops += outs * p
				w.read += p * e.unitRead[u]
				w.received += m.ReplicaBuffer(u, p).InputBytes
				w.sent += int64(math.Ceil(float64(outs*p) * act))
			}
			at = end
		}
	}
	return w
}

// replicate chooses the replication of every layer in the span (see the
// package comment) and fills s.Layers and s.CrossbarsUsed.
//
// The search is a bisection on the bottleneck T over the values it can
// take: the optimum is some layer's stage time at some replication. A
// failing T moves the lower end up to the next value at which any layer's
// assignment changes (its stage with one replica fewer); a packing T moves
// the upper end down to the bottleneck its assignment achieves. Both ends
// are such values, so the search ends exactly, in a few steps.
func (e *Estimator) replicate(s *Span, acc []layerAcc, first int, floorNs float64) {
	reps := make([]int, len(acc))
	lo, hi := floorNs, 0.0
	for i := range acc {
		ns1, _ := e.stage(&acc[i], 1)
		hi = max(hi, ns1)
		nsMax, _ := e.stage(&acc[i], e.maxReplicas(&acc[i]))
		lo = max(lo, nsMax)
	}
	assign := func(T float64) {
		for i := range acc {
			reps[i] = e.replicasFor(&acc[i], T)
		}
	}
	if lo < hi {
		assign(lo)
		if !e.packs(acc, reps) {
			// best is the last assignment that packed (hi is what it
			// achieves); no replication packs, the span being valid.
			// Keeping it, rather than re-deriving it from hi, keeps the
			// answer one that packs even where rounding in replicasFor
			// would give a layer a replica more at T = hi.
			best := make([]int, len(acc))
			for i := range best {
				best[i] = 1
			}
			lo = e.nextChange(acc, reps)
			for lo < hi {
				mid := lo + (hi-lo)/2
				assign(mid)
				if e.packs(acc, reps) {
					hi = e.achieved(acc, reps)
					copy(best, reps)
				} else {
					lo = e.nextChange(acc, reps)
				}
			}
			copy(reps, best)
		}
	} else {
		for i := range reps {
			reps[i] = 1 // the bus bounds the pipeline: replication gains nothing
		}
	}
	for i := range acc {
		ns, cores := e.stage(&acc[i], reps[i])
		s.Layers[i] = LayerPlan{Layer: first + i, Units: acc[i].units, Crossbars: acc[i].crossbars,
			Replicas: reps[i], Cores: cores, StageNs: ns}
		s.CrossbarsUsed += reps[i] * acc[i].crossbars
	}
}
