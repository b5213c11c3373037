package isa

import (
	"bytes"
	"testing"
)

// An instruction's band survives the msgpack encoding, and a band of 0
// (every instruction of a per-input program) is not written at all, so
// those programs' bytes are what they were before bands existed.
func TestBandEncoding(t *testing.T) {
	enc := func(band int32) ([]byte, *Program) {
		p := &Program{Model: "m", Chip: "c", Batch: 1, Partitions: []Partition{{Streams: []Stream{{Core: 0, Instrs: []Instr{
			{Op: Recv, Xbar: -1, Layer: 0, Unit: 0, Node: 3, Input: 0, Peer: -1, Count: 2, Band: band}}}}}}}
		var buf bytes.Buffer
		if err := p.WriteMsgpack(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), p
	}
	key := []byte{0xa1, 'r'} // the one-letter key "r"
	zero, _ := enc(0)
	if bytes.Contains(zero, key) {
		t.Error("band 0 is written")
	}
	three, p := enc(3)
	if !bytes.Contains(three, key) {
		t.Error("band 3 is not written")
	}
	back, err := ReadMsgpack(bytes.NewReader(three))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Partitions[0].Streams[0].Instrs[0]; got != p.Partitions[0].Streams[0].Instrs[0] {
		t.Errorf("read back %+v, wrote %+v", got, p.Partitions[0].Streams[0].Instrs[0])
	}
}
