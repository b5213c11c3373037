package isa

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func sample() *Program {
	return &Program{Model: "m", Chip: "S", Batch: 2, Layers: []string{"conv1"}, Nodes: []string{"x", "conv1"},
		Partitions: []Partition{{Index: 0, Streams: []Stream{{Core: 3, Instrs: []Instr{
			{Op: LoadWeight, Xbar: -1, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1, Bytes: 4096, Addr: 0x40},
			{Op: WriteWeight, Xbar: 2, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1, Count: 147},
			{Op: Recv, Xbar: -1, Layer: 0, Unit: 0, Node: 0, Input: 1, Peer: -1, Count: 1, Bytes: 100},
			{Op: MVMul, Xbar: 2, Layer: 0, Unit: 0, Node: -1, Input: 1, Peer: -1, Count: 12544, Pos: 0},
			{Op: Barrier, Xbar: -1, Layer: 0, Unit: 0, Node: -1, Input: -1, Peer: -1},
		}}}}}}
}

func TestMsgpackRoundTrip(t *testing.T) {
	p := sample()
	var buf bytes.Buffer
	if err := p.WriteMsgpack(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := ReadMsgpack(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip changed the program:\n%+v\n%+v", p, q)
	}
	if _, err := ReadMsgpack(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Error("a truncated program decoded")
	}
}

func TestListing(t *testing.T) {
	var b strings.Builder
	if err := sample().WriteListing(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"; m on chip S, batch 2", "partition 0", "core 3", "LOAD_WEIGHT  unit 0 (conv1) 4096 B from 0x40",
		"WRITE_WEIGHT xbar 2 unit 0 (conv1) 147 rows", "MVMUL        in 1 xbar 2 unit 0 (conv1) x12544 from position 0", "RECV         in 1 x 100 B from core -1", "BARRIER"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, b.String())
		}
	}
	if LoadWeight.String() != "LOAD_WEIGHT" || Opcode(200).String() != "OP200" || len(Opcodes()) != 15 {
		t.Error("opcode names")
	}
}
