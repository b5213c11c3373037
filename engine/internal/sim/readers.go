package sim

import (
	"fmt"
	"math"

	"github.com/compass-go/compass/engine/isa"
)

// The simulator keeps a tag (contributions a RECV waits for) or a stored
// tensor (STORE_DATAs a LOAD_DATA waits for) only while an instruction
// still has to read or write it: each entry counts the readers that have
// passed it (and a stored tensor the stores done) and is dropped after the
// last, and data no instruction reads is not kept at all. Its memory then
// follows the inputs in flight, not the batch. The readers of every key
// are counted from the loop program before the run: a head or tail
// instruction reads its own input, a body instruction the inputs its
// repetitions reach.

// inputRange is the inputs [lo, hi] one instruction of a stream reads, n
// times each.
type inputRange struct {
	lo, hi int32
	n      int64
}

// readerTable lists, per key with the input left out, the input ranges
// of the instructions that read it.
type readerTable[K comparable] map[K][]inputRange

func (t readerTable[K]) add(k K, in isa.Instr, times int64) {
	if in.Input < 0 { // no input: every repetition reads the same key
		t[k] = append(t[k], inputRange{in.Input, in.Input, times})
		return
	}
	t[k] = append(t[k], inputRange{in.Input, in.Input + int32(times-1), 1})
}

// count is the number of instructions that read key k of the given input.
func (t readerTable[K]) count(k K, input int32) int64 {
	var n int64
	for _, r := range t[k] {
		if r.lo <= input && input <= r.hi {
			n += r.n
		}
	}
	return n
}

// tagPattern is a tagKey without its input.
func tagPattern(k tagKey) tagKey { k.input = 0; return k }

// storePattern is a DataKey without its input.
func storePattern(k [4]int32) [4]int32 { k[3] = 0; return k }

// countReaders fills the reader tables from the program: every RECV reads
// its tag, every LOAD_DATA that waits for stores (count > 0) reads its
// stored data, and every STORE_DATA writes it (a layer cut across
// partitions stores shares of its tensors from both, and a later share
// may come after the tensor's readers). A body instruction of input i
// repeated n times reads inputs i .. i+n-1 (a body instruction without an
// input, -1, reads it n times).
func (s *sim) countReaders(p *isa.LoopProgram) {
	s.tagReaders, s.storeReaders, s.storeWriters = readerTable[tagKey]{}, readerTable[[4]int32]{}, readerTable[[4]int32]{}
	p.Count(func(part int, _ *isa.LoopStream, in isa.Instr, times int64) {
		switch {
		case in.Op == isa.Recv:
			s.tagReaders.add(tagPattern(tagOf(int32(part), in)), in, times)
		case in.Op == isa.LoadData && in.Count > 0:
			s.storeReaders.add(storePattern(in.DataKey()), in, times)
		case in.Op == isa.StoreData:
			s.storeWriters.add(storePattern(in.DataKey()), in, times)
		}
	})
}

// newTag makes the entry of tag k (the caller puts it in the map), or
// reports false when nothing reads it.
func (s *sim) newTag(k tagKey) (tag, bool) {
	n := s.tagReaders.count(tagPattern(k), k.input)
	return tag{readers: int32(n)}, n > 0
}

// newStored makes the entry of stored data k (the caller puts it in the
// map), or reports false when nothing reads it.
func (s *sim) newStored(k [4]int32) (stored, bool) {
	n := s.storeReaders.count(storePattern(k), k[3])
	return stored{readers: int32(n), writers: int32(s.storeWriters.count(storePattern(k), k[3]))}, n > 0
}

// putStored keeps stored data k, or drops it once every reader and
// writer has passed.
func (s *sim) putStored(k [4]int32, sd stored) {
	if sd.passed >= sd.readers && sd.count >= sd.writers {
		delete(s.stores, k)
		return
	}
	s.stores[k] = sd
}

// checkCounts makes sure every count the entries hold fits their int32
// fields: the most instructions that can read or write one key of one
// input, and the contributions and stores a RECV or LOAD_DATA waits for.
func (s *sim) checkCounts(p *isa.LoopProgram) error {
	var most int64
	for _, rs := range s.tagReaders {
		most = max(most, sumN(rs))
	}
	for _, rs := range s.storeReaders {
		most = max(most, sumN(rs))
	}
	for _, rs := range s.storeWriters {
		most = max(most, sumN(rs))
	}
	if most > math.MaxInt32 {
		return fmt.Errorf("a tensor of one input is read or written by %d instructions, more than the simulator counts (%d)", most, math.MaxInt32)
	}
	var err error
	p.Count(func(part int, _ *isa.LoopStream, in isa.Instr, _ int64) {
		if (in.Op == isa.Recv || in.Op == isa.LoadData) && (in.Count < 0 || in.Count > math.MaxInt32) && err == nil {
			err = fmt.Errorf("partition %d: %s of node %d waits for %d contributions or stores (0 to %d)", part, in.Op, in.Node, in.Count, math.MaxInt32)
		}
	})
	return err
}

func sumN(rs []inputRange) int64 {
	var n int64
	for _, r := range rs {
		n += r.n
	}
	return n
}
