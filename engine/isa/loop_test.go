package isa

import (
	"reflect"
	"testing"
)

func loopSample() *LoopProgram {
	return &LoopProgram{Model: "m", Chip: "S", Batch: 4, Layers: []string{"conv1"}, Nodes: []string{"x", "conv1"},
		Partitions: []LoopPartition{{Index: 0, Streams: []LoopStream{{
			Core: 2,
			Head: []Instr{
				{Op: WriteWeight, Xbar: 0, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1, Count: 9},
				{Op: LoadData, Xbar: -1, Layer: -1, Unit: -1, Node: 0, Input: 0, Peer: -1, Bytes: 100, Addr: 0x1000},
			},
			Body: []Instr{
				{Op: LoadData, Xbar: -1, Layer: -1, Unit: -1, Node: 0, Input: 1, Peer: -1, Bytes: 100, Addr: 0x1040},
				{Op: Recv, Xbar: 3, Layer: 0, Unit: 0, Node: LocalNode, Input: 0, Peer: -1, Count: 1},
				{Op: VAct, Xbar: -1, Layer: 0, Unit: 0, Node: 1, Input: -1, Peer: -1, Count: 5, Addr: 0x80},
			},
			AddrStep: []uint64{0x40, 0, 0},
			Repeat:   3,
			Tail:     []Instr{{Op: Barrier, Xbar: -1, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1}},
		}}}}}
}

// A loop stream runs its head, its body once per repetition with the
// input and the address stepped, and its tail; written out by hand.
func TestLoopStreamExpands(t *testing.T) {
	p := loopSample()
	s := &p.Partitions[0].Streams[0]
	load := func(input int32, addr uint64) Instr {
		return Instr{Op: LoadData, Xbar: -1, Layer: -1, Unit: -1, Node: 0, Input: input, Peer: -1, Bytes: 100, Addr: addr}
	}
	hand := func(input int32) Instr {
		return Instr{Op: Recv, Xbar: 3, Layer: 0, Unit: 0, Node: LocalNode, Input: input, Peer: -1, Count: 1}
	}
	act := Instr{Op: VAct, Xbar: -1, Layer: 0, Unit: 0, Node: 1, Input: -1, Peer: -1, Count: 5, Addr: 0x80}
	want := []Instr{
		{Op: WriteWeight, Xbar: 0, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1, Count: 9},
		load(0, 0x1000),
		load(1, 0x1040), hand(0), act,
		load(2, 0x1080), hand(1), act,
		load(3, 0x10c0), hand(2), act,
		{Op: Barrier, Xbar: -1, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1},
	}
	if s.Len() != int64(len(want)) || p.Instructions() != int64(len(want)) || p.ExpandedBytes() != int64(len(want))*InstrBytes {
		t.Fatalf("Len %d, Instructions %d, ExpandedBytes %d; want %d instructions", s.Len(), p.Instructions(), p.ExpandedBytes(), len(want))
	}
	for i, w := range want {
		if got := s.At(int64(i)); got != w {
			t.Errorf("instruction %d: %+v, want %+v", i, got, w)
		}
	}
	flat := p.Expand()
	if flat.Model != "m" || flat.Batch != 4 || len(flat.Partitions) != 1 || !reflect.DeepEqual(flat.Partitions[0].Streams[0].Instrs, want) || flat.Partitions[0].Streams[0].Core != 2 {
		t.Errorf("Expand: %+v", flat)
	}
	counted := map[Opcode]int64{}
	p.Count(func(part int, _ *LoopStream, in Instr, times int64) { counted[in.Op] += times })
	if !reflect.DeepEqual(counted, map[Opcode]int64{WriteWeight: 1, LoadData: 4, Recv: 3, VAct: 3, Barrier: 1}) {
		t.Errorf("Count: %v", counted)
	}
	if err := s.Check(); err != nil {
		t.Errorf("a good stream: %v", err)
	}
}

// A malformed loop stream is an error, not a wrong instruction or a panic.
func TestLoopStreamCheck(t *testing.T) {
	for name, spoil := range map[string]func(s *LoopStream){
		"steps":    func(s *LoopStream) { s.AddrStep = s.AddrStep[:2] },
		"repeat":   func(s *LoopStream) { s.Repeat = -1 },
		"overflow": func(s *LoopStream) { s.Repeat = 1<<31 - 1 },
	} {
		s := loopSample().Partitions[0].Streams[0]
		spoil(&s)
		if err := s.Check(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
