package isa

import (
	"fmt"
	"unsafe"
)

// A LoopProgram is a program in the form the scheduler emits and the
// simulator runs: each stream's per-input instructions are stored once, as
// a body that repeats for the batch's inputs, so its size does not grow
// with the batch. Expand materialises the flat Program (the export
// format); LoopStream.At yields any one instruction without it.
type LoopProgram struct {
	Model      string
	Chip       string
	Batch      int
	Layers     []string // layer names, for listings
	Nodes      []string // graph node names, for listings
	Partitions []LoopPartition
}

// LoopPartition is the streams of one partition.
type LoopPartition struct {
	Index   int
	Streams []LoopStream
}

// LoopStream is one core's in-order instructions for one partition: Head,
// then Body Repeat times, then Tail. Repetition k (0-based) is Body with
// k added to every Input that is not -1 and k*AddrStep[j] added to the
// Addr of instruction j: the scheduler puts the first input's instructions
// in Head and the second's in Body, and the inputs after it repeat it.
type LoopStream struct {
	Core     int32
	Head     []Instr
	Body     []Instr
	AddrStep []uint64 // one per Body instruction
	Repeat   int
	Tail     []Instr
}

// Len is the number of instructions the stream executes.
func (s *LoopStream) Len() int64 {
	return int64(len(s.Head)) + int64(len(s.Body))*int64(s.Repeat) + int64(len(s.Tail))
}

// At returns instruction i (0 <= i < Len()) of the stream.
func (s *LoopStream) At(i int64) Instr {
	if i < int64(len(s.Head)) {
		return s.Head[i]
	}
	i -= int64(len(s.Head))
	if n := int64(len(s.Body)); n > 0 && i < n*int64(s.Repeat) {
		k, j := i/n, i%n
		in := s.Body[j]
		if in.Input >= 0 {
			in.Input += int32(k)
		}
		in.Addr += uint64(k) * s.AddrStep[j]
		return in
	}
	return s.Tail[i-int64(len(s.Body))*int64(s.Repeat)]
}

// Check verifies the stream's shape: one address step per body
// instruction, a non-negative repeat, and inputs that stay within int32.
func (s *LoopStream) Check() error {
	if len(s.AddrStep) != len(s.Body) {
		return fmt.Errorf("stream on core %d: %d address steps for %d body instructions", s.Core, len(s.AddrStep), len(s.Body))
	}
	if s.Repeat < 0 || int64(s.Repeat) > 1<<31-1 {
		return fmt.Errorf("stream on core %d: repeat %d out of range", s.Core, s.Repeat)
	}
	for _, in := range s.Body {
		if in.Input >= 0 && int64(in.Input)+int64(s.Repeat) > 1<<31-1 {
			return fmt.Errorf("stream on core %d: input %d repeated %d times overflows", s.Core, in.Input, s.Repeat)
		}
	}
	return nil
}

// Instructions is the number of instructions of the expanded program: the
// events the simulator processes, one per instruction.
func (p *LoopProgram) Instructions() int64 {
	var n int64
	for i := range p.Partitions {
		for j := range p.Partitions[i].Streams {
			n += p.Partitions[i].Streams[j].Len()
		}
	}
	return n
}

// InstrBytes is the memory one instruction of an expanded Program takes.
// Its msgpack encoding takes about 40 bytes and its listing line about 60.
const InstrBytes = int64(unsafe.Sizeof(Instr{}))

// ExpandedBytes is the memory the expanded program's instructions take
// (Instructions x InstrBytes).
func (p *LoopProgram) ExpandedBytes() int64 { return p.Instructions() * InstrBytes }

// Count calls f once for every stored instruction with how many times it
// runs, without expanding the program: head and tail instructions once,
// body instructions (as their first repetition) with Repeat.
func (p *LoopProgram) Count(f func(part int, s *LoopStream, in Instr, times int64)) {
	for pi := range p.Partitions {
		for si := range p.Partitions[pi].Streams {
			s := &p.Partitions[pi].Streams[si]
			for _, in := range s.Head {
				f(pi, s, in, 1)
			}
			if s.Repeat > 0 {
				for _, in := range s.Body {
					f(pi, s, in, int64(s.Repeat))
				}
			}
			for _, in := range s.Tail {
				f(pi, s, in, 1)
			}
		}
	}
}

// Expand materialises the flat program, every instruction of every input
// (ExpandedBytes of memory): the form WriteMsgpack and WriteListing write.
func (p *LoopProgram) Expand() *Program {
	out := &Program{Model: p.Model, Chip: p.Chip, Batch: p.Batch, Layers: p.Layers, Nodes: p.Nodes}
	for _, part := range p.Partitions {
		fp := Partition{Index: part.Index}
		for si := range part.Streams {
			s := &part.Streams[si]
			st := Stream{Core: s.Core, Instrs: make([]Instr, 0, s.Len())}
			for i := range s.Len() {
				st.Instrs = append(st.Instrs, s.At(i))
			}
			fp.Streams = append(fp.Streams, st)
		}
		out.Partitions = append(out.Partitions, fp)
	}
	return out
}
