package sim

import (
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/isa"
)

// runQueue is a min-heap of runnable streams by ready time, ties by index,
// so the run is deterministic.
type runQueue struct {
	ids []int
	at  []float64
}

func (q *runQueue) less(i, j int) bool {
	if q.at[i] != q.at[j] {
		return q.at[i] < q.at[j]
	}
	return q.ids[i] < q.ids[j]
}

func (q *runQueue) swap(i, j int) {
	q.ids[i], q.ids[j] = q.ids[j], q.ids[i]
	q.at[i], q.at[j] = q.at[j], q.at[i]
}

func (q *runQueue) push(id int, at float64, _ []*stream) {
	q.ids = append(q.ids, id)
	q.at = append(q.at, at)
	for i := len(q.ids) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.swap(i, p)
		i = p
	}
}

func (q *runQueue) pop() (int, float64) {
	id, at := q.ids[0], q.at[0]
	last := len(q.ids) - 1
	q.swap(0, last)
	q.ids, q.at = q.ids[:last], q.at[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.swap(i, m)
		i = m
	}
	return id, at
}

// wake makes blocked streams runnable at time t.
func (s *sim) wake(waiters []int, t float64) {
	for _, id := range waiters {
		st := s.streams[id]
		st.ready = math.Max(st.ready, t)
		s.runq.push(id, st.ready, s.streams)
	}
}

// park adds stream id to a wait list.
func (s *sim) park(l *waitList, id int) {
	s.streams[id].nextWaiter = *l
	*l = waitList(id + 1)
}

// wakeList makes the streams of a wait list runnable at time t (in any
// order: the run queue orders them by ready time and index).
func (s *sim) wakeList(l waitList, t float64) {
	for l != 0 {
		id := int(l - 1)
		st := s.streams[id]
		l, st.nextWaiter = st.nextWaiter, 0
		st.ready = math.Max(st.ready, t)
		s.runq.push(id, st.ready, s.streams)
	}
}

func (s *sim) loop() error {
	done := 0
	for len(s.runq.ids) > 0 {
		id, _ := s.runq.pop()
		st := s.streams[id]
		if st.pc >= st.len {
			continue
		}
		blocked, err := s.step(id, st)
		if err != nil {
			return err
		}
		if s.stopped != nil {
			return s.stopped
		}
		if blocked {
			continue
		}
		s.res.Events++
		if s.opt.MaxEvents > 0 && s.res.Events > s.opt.MaxEvents {
			return fmt.Errorf("simulation exceeded %d events", s.opt.MaxEvents)
		}
		if s.opt.Context != nil && s.res.Events&(1<<14-1) == 0 {
			if err := s.opt.Context.Err(); err != nil {
				return err
			}
		}
		if st.pc < st.len {
			s.runq.push(id, st.ready, s.streams)
		} else {
			done++
		}
	}
	if done != len(s.streams) {
		for i, st := range s.streams {
			if st.pc < st.len {
				in := st.code.At(st.pc)
				return fmt.Errorf("deadlock: %d of %d streams never finished; stream %d (partition %d, core %d) waits at %s (node %d, input %d, unit %d)",
					len(s.streams)-done, len(s.streams), i, st.part, st.core, in.Op, in.Node, in.Input, in.Unit)
			}
		}
	}
	return nil
}

func (s *sim) trace(core int32, op isa.Opcode, part, layer int32, start, end float64) {
	if !s.opt.Trace {
		return
	}
	s.res.TraceEvents++
	if len(s.res.Trace) >= s.opt.MaxTrace {
		s.res.TraceTruncated = true
		return
	}
	s.res.Trace = append(s.res.Trace, TraceEvent{Core: core, Op: op, Partition: part, Layer: layer, StartNs: start, EndNs: end})
	s.res.TraceEndNs = math.Max(s.res.TraceEndNs, end)
}

// dramAccess issues a transfer in 8 KiB chunks (one DRAM row each) so
// that other requesters interleave; it returns when each chunk is done via
// fn, and the last done time.
//
// Every dramCheckChunks chunks it looks at the run's context: once that is
// done it stops the transfer and records the context's error in s.stopped,
// which the loop returns after the instruction, so that a deadline stops
// one instruction of gigabytes too.
func (s *sim) dramAccess(at float64, addr uint64, bytes int64, write bool, chunkDone func(done float64, n int64)) float64 {
	const chunk = dramChunkBytes
	at = math.Max(at, s.lastDRAM)
	s.lastDRAM = at
	end := at
	for off := int64(0); off < bytes; off += chunk {
		if s.dramChunks++; s.opt.Context != nil && s.dramChunks%dramCheckChunks == 0 {
			if err := s.opt.Context.Err(); err != nil {
				s.stopped = err
				return end
			}
		}
		n := min(chunk, bytes-off)
		end = s.ctrl.Access(at, addr+uint64(off), int(n), write)
		if chunkDone != nil {
			chunkDone(end, n)
		}
	}
	return end
}

// bus occupies the bus for a transfer of n bytes starting no earlier than
// at, and returns its end.
func (s *sim) bus(at float64, n int64) float64 {
	d := s.chip.BusTransferNs(n)
	start := s.busCal.book(at, d)
	end := start + d
	s.res.BusBusyNs += d
	s.res.Energy.Bus += float64(n) * s.chip.BusEnergyPerBytePJ
	return end
}

// released reports whether crossbar (core, x) may be written for
// partition part: the partition that wrote it before has issued all its
// MVMs on it. If not, the stream waits on the crossbar.
func (s *sim) released(id int, core, x, part int32) (bool, float64) {
	xb := &s.xbars[core][x]
	prev := int32(-1)
	for _, w := range s.writers[[2]int32{core, x}] {
		if w >= part {
			break
		}
		prev = w
	}
	if prev < 0 || (xb.owner == prev && xb.usesLeft == 0) || xb.owner >= part {
		return true, xb.free
	}
	xb.waiters = append(xb.waiters, id)
	return false, 0
}

func (s *sim) contribute(k tagKey, at float64) {
	t, ok := s.tags[k]
	if !ok {
		if t, ok = s.newTag(k); !ok {
			return // nothing receives it
		}
	}
	t.got++
	t.time = math.Max(t.time, at)
	var w waitList
	if t.needSet && t.got >= t.need {
		w, t.waiting = t.waiting, 0
	}
	s.tags[k] = t
	s.wakeList(w, t.time)
}

func tagOf(part int32, in isa.Instr) tagKey {
	if in.Node < 0 { // partial sums: home unit and replica
		return tagKey{part: part, node: in.Node, a: in.Unit, b: in.Xbar, band: in.Band, input: in.Input}
	}
	return tagKey{part: part, node: in.Node, band: in.Band, input: in.Input}
}

// step executes (or blocks) the stream's next instruction.
func (s *sim) step(id int, st *stream) (blocked bool, err error) {
	in := st.cur
	chip := s.chip
	t := st.ready
	pr := &s.res.Partitions[st.part]
	wait := func() float64 { return math.Max(t, st.outstanding) }
	switch in.Op {
	case isa.LoadWeight:
		// Replacement for a partition starts once the partition before it
		// computes (early replacement overlaps the previous partition's
		// tail, not partitions further back).
		if st.part > 0 && s.startedAt(st.part-1) < 0 {
			s.startWait[st.part-1] = append(s.startWait[st.part-1], id)
			return true, nil
		}
		// The data goes straight to the crossbars: wait until this
		// replica's crossbars are free of the previous partition.
		start := t
		if st.part > 0 {
			start = math.Max(start, s.startedAt(st.part-1))
		}
		for j := st.pc + 1; j < st.len; j++ {
			next := st.code.At(j)
			if next.Op != isa.WriteWeight {
				break
			}
			ok, free := s.released(id, st.core, next.Xbar, st.part)
			if !ok {
				return true, nil
			}
			start = math.Max(start, free)
		}
		end := start
		s.dramAccess(start, in.Addr, in.Bytes, false, func(done float64, n int64) { end = s.bus(done, n) })
		d := &chip.DRAM
		s.res.ReplacementPJ += math.Ceil(float64(in.Bytes)/float64(d.BurstBytes()))*d.ReadBurstEnergyPJ() +
			math.Ceil(float64(in.Bytes)/float64(d.RowBytes()))*d.ActivateEnergyPJ() + float64(in.Bytes)*chip.BusEnergyPerBytePJ
		w := s.weights[[2]int32{st.part, in.Unit}]
		if w == nil {
			w = &loadedWeights{}
			s.weights[[2]int32{st.part, in.Unit}] = w
		}
		w.loaded, w.time = true, end
		s.wake(w.waiters, end)
		w.waiters = nil
		pr.Replacement.add(start, end)
		pr.WeightLoad.add(start, end)
		s.trace(st.core, in.Op, st.part, in.Layer, start, end)
		st.ready = end
	case isa.WriteWeight:
		w := s.weights[[2]int32{st.part, in.Unit}]
		if w == nil || !w.loaded {
			if w == nil {
				w = &loadedWeights{}
				s.weights[[2]int32{st.part, in.Unit}] = w
			}
			w.waiters = append(w.waiters, id)
			return true, nil
		}
		ok, free := s.released(id, st.core, in.Xbar, st.part)
		if !ok {
			return true, nil
		}
		xb := &s.xbars[st.core][in.Xbar]
		start := math.Max(math.Max(t, w.time), free)
		end := start + chip.CrossbarWriteNs(int(in.Count))
		xb.free, xb.owner = end, st.part
		xb.usesLeft = s.mvmUses[[3]int32{st.part, st.core, in.Xbar}]
		if xb.usesLeft == 0 && len(xb.waiters) > 0 { // written but never used: release at once
			w := xb.waiters
			xb.waiters = nil
			s.wake(w, end)
		}
		st.outstanding = math.Max(st.outstanding, end)
		s.res.Energy.Write += float64(in.Count) * chip.CrossbarWriteEnergyPJ(1)
		s.res.ReplacementPJ += float64(in.Count) * chip.CrossbarWriteEnergyPJ(1)
		pr.Replacement.add(start, end)
		pr.Write.add(start, end)
		s.trace(st.core, in.Op, st.part, in.Layer, start, end)
	case isa.MVMul:
		if st.part > 0 && s.ended[st.part-1] < 0 {
			s.endWait[st.part-1] = append(s.endWait[st.part-1], id)
			return true, nil
		}
		xb := &s.xbars[st.core][in.Xbar]
		start := math.Max(t, xb.free)
		if st.part > 0 {
			start = math.Max(start, s.ended[st.part-1])
		}
		end := start + chip.MVMLatencyNs() + float64(in.Count-1)*chip.MVMIntervalNs()
		if in.Bytes > 0 { // the input vectors stream from the core's local memory
			d := chip.LocalMemoryReadNs(in.Bytes)
			end = math.Max(end, s.lmPort[st.core].book(start, d)+d)
		}
		xb.free = end
		xb.usesLeft--
		if xb.usesLeft == 0 && len(xb.waiters) > 0 {
			w := xb.waiters
			xb.waiters = nil
			s.wake(w, end)
		}
		st.outstanding = math.Max(st.outstanding, end)
		if s.computing[st.part] < 0 {
			s.computing[st.part] = start
			s.wakeStarted(st.part)
		}
		s.res.MVMs += in.Count
		s.res.CoreXbarBusyNs[st.core] += end - start
		n := float64(in.Count)
		s.res.Energy.MVM += n * chip.MVMArrayEnergyPJ()
		s.res.Energy.ADC += n * chip.MVMADCEnergyPJ()
		s.res.Energy.LocalMemory += float64(in.Bytes) * chip.LocalMemoryReadEnergyPerBytePJ
		pr.Compute.add(start, end)
		s.trace(st.core, in.Op, st.part, in.Layer, start, end)
	case isa.Recv:
		k := tagOf(st.part, in)
		tg, ok := s.tags[k]
		if !ok {
			tg, _ = s.newTag(k) // this RECV reads it
		}
		tg.need, tg.needSet = int32(in.Count), true // Run checked that it fits
		if tg.got < tg.need {
			s.park(&tg.waiting, id)
			s.tags[k] = tg
			return true, nil
		}
		st.ready = math.Max(t, tg.time)
		if tg.passed++; tg.passed >= tg.readers {
			delete(s.tags, k)
		} else {
			s.tags[k] = tg
		}
		s.res.Energy.LocalMemory += float64(in.Bytes) * chip.LocalMemoryWriteEnergyPerBytePJ
	case isa.Send:
		if in.Node == isa.LocalNode { // hand-over between a replica's threads: no bus
			st.ready = wait()
			if in.Bytes > 0 { // the MVMs' outputs, written to local memory
				d := chip.LocalMemoryWriteNs(in.Bytes)
				st.ready = s.lmPort[st.core].book(st.ready, d) + d
				s.res.Energy.LocalMemory += float64(in.Bytes) * chip.LocalMemoryWriteEnergyPerBytePJ
			}
			s.contribute(tagOf(st.part, in), st.ready)
			break
		}
		start := wait()
		end := s.bus(start, in.Bytes)
		s.res.Energy.LocalMemory += float64(in.Bytes) * chip.LocalMemoryReadEnergyPerBytePJ
		s.contribute(tagOf(st.part, in), end)
		s.trace(-1, in.Op, st.part, in.Layer, end-chip.BusTransferNs(in.Bytes), end)
		st.ready = end
	case isa.VAcc, isa.VAct, isa.VNorm, isa.VPool, isa.VAdd, isa.VCopy, isa.VMat:
		start := math.Max(wait(), s.vfuFree[st.core])
		end := start + chip.VFUNs(in.Ops)
		if in.Bytes > 0 { // operands and results through the local-memory port
			d := chip.LocalMemoryReadNs(in.Bytes)
			end = math.Max(end, s.lmPort[st.core].book(start, d)+d)
		}
		dur := end - start
		s.vfuFree[st.core] = end
		s.res.CoreVFUBusyNs[st.core] += dur
		s.res.Energy.VFU += float64(in.Ops) * chip.VFUEnergyPerOpPJ
		s.res.Energy.LocalMemory += float64(in.Bytes) * (chip.LocalMemoryReadEnergyPerBytePJ + chip.LocalMemoryWriteEnergyPerBytePJ)
		pr.Compute.add(start, end)
		s.trace(st.core, in.Op, st.part, in.Layer, start, end)
		st.ready = end
	case isa.StoreData:
		start := wait()
		busEnd := s.bus(start, in.Bytes)
		done := s.dramAccess(busEnd, in.Addr, in.Bytes, true, nil)
		s.res.Energy.LocalMemory += float64(in.Bytes) * chip.LocalMemoryReadEnergyPerBytePJ
		if in.Node == isa.SpillNode {
			s.res.SpillBytes += in.Bytes
			pr.SpillBytes += in.Bytes
		}
		k := in.DataKey()
		sd, ok := s.stores[k]
		if !ok {
			sd, ok = s.newStored(k) // not ok: no LOAD_DATA waits for it
		}
		if ok {
			sd.count++
			sd.time = math.Max(sd.time, done)
			w := sd.waiting
			sd.waiting = 0
			s.putStored(k, sd)
			s.wakeList(w, sd.time)
		}
		pr.IO.add(start, done)
		s.trace(st.core, in.Op, st.part, in.Layer, start, done)
		st.ready = busEnd
	case isa.LoadData:
		// Entry tensors go into local memory the previous partition's
		// buffers still occupy: they load once it has ended.
		if in.Node >= 0 && st.part > 0 && s.ended[st.part-1] < 0 {
			s.endWait[st.part-1] = append(s.endWait[st.part-1], id)
			return true, nil
		}
		start := t
		if in.Count > 0 { // wait for the stores
			k := in.DataKey()
			sd, ok := s.stores[k]
			if !ok {
				sd, _ = s.newStored(k) // this LOAD_DATA reads it
			}
			if int64(sd.count) < in.Count {
				s.park(&sd.waiting, id)
				s.stores[k] = sd
				return true, nil
			}
			start = math.Max(start, sd.time)
			sd.passed++
			s.putStored(k, sd)
		}
		if in.Node >= 0 && st.part > 0 {
			start = math.Max(start, s.ended[st.part-1])
		}
		end := start
		s.dramAccess(start, in.Addr, in.Bytes, false, func(done float64, n int64) { end = s.bus(done, n) })
		if in.Node < 0 { // into the replica's own memory; entries are written by the replicas that RECV them
			s.res.Energy.LocalMemory += float64(in.Bytes) * chip.LocalMemoryWriteEnergyPerBytePJ
		}
		if in.Node == isa.SpillNode {
			s.res.ReloadBytes += in.Bytes
			pr.ReloadBytes += in.Bytes
		}
		if in.Node >= 0 { // carried partial sums and spills serve their own stream
			s.contribute(tagOf(st.part, in), end)
			if in.Input == 0 && s.firstLoads[st.part] > 0 {
				s.firstLoads[st.part]--
				s.firstLoaded[st.part] = math.Max(s.firstLoaded[st.part], end)
				s.wakeStarted(st.part)
			}
		}
		pr.IO.add(start, end)
		s.trace(st.core, in.Op, st.part, in.Layer, start, end)
		st.ready = end
	case isa.Barrier:
		st.ready = wait()
		pr.End = math.Max(pr.End, st.ready)
		if s.left[st.part]--; s.left[st.part] == 0 {
			s.ended[st.part] = pr.End
			s.wake(s.endWait[st.part], pr.End)
			s.endWait[st.part] = nil
		}
	default:
		return false, fmt.Errorf("partition %d core %d: unknown opcode %v", st.part, st.core, in.Op)
	}
	if s.fn != nil {
		if err := s.fn.exec(id, st.part, st.core, in); err != nil {
			return false, fmt.Errorf("partition %d core %d %s: %w", st.part, st.core, in.Op, err)
		}
	}
	s.counts[in.Op]++
	st.advance()
	return false, nil
}

// startedAt is when partition p has started computing, for the next
// partition's replacement to begin: its first MVM issued and, when it
// loads its entries band by band (the row pipeline), its first input's
// entries loaded (its first MVMs start on the first band, and the next
// partition's weights queued at the DRAM then would hold up the bands
// still loading); -1 before.
func (s *sim) startedAt(p int32) float64 {
	if s.computing[p] < 0 || s.firstLoads[p] > 0 {
		return -1
	}
	return math.Max(s.computing[p], s.firstLoaded[p])
}

// wakeStarted wakes the replacement waiting for partition p once it has
// started.
func (s *sim) wakeStarted(p int32) {
	if t := s.startedAt(p); t >= 0 && len(s.startWait[p]) > 0 {
		s.wake(s.startWait[p], t)
		s.startWait[p] = nil
	}
}
