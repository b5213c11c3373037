// Package isa defines the instruction set of the simulated crossbar chip:
// the per-core instruction streams the scheduler emits and the simulator
// executes, their readable text listing, and a compact binary encoding for
// export. docs/isa.md documents every instruction.
//
// An instruction names its core and, where it has one, a crossbar, a
// layer, a unit and a batch input. Repeated work is compressed: one MVMUL
// stands for Count back-to-back MVMs on its crossbar (the output positions
// a replica computes for one input), and vector instructions carry an
// element count, so a program's size grows with layers x inputs x cores,
// not with positions.
package isa

import (
	"fmt"
	"io"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// Opcode is an instruction kind.
type Opcode uint8

// Opcodes.
const (
	// LoadWeight reads Bytes of a unit's weights from DRAM address Addr and
	// broadcasts them over the bus to the cores that hold the unit's
	// replicas.
	LoadWeight Opcode = iota + 1
	// WriteWeight programs Count rows of crossbar Xbar of the core with the
	// unit's weights (replacement).
	WriteWeight
	// LoadData reads Bytes of an entry activation tensor (Node) for input
	// Input from DRAM address Addr into the core's local memory.
	LoadData
	// StoreData writes Bytes of an exit tensor (Node) of input Input from
	// local memory to DRAM address Addr.
	StoreData
	// MVMul runs Count matrix-vector multiplications on crossbar Xbar, one
	// per output position assigned to this replica (positions Pos ..
	// Pos+Count-1 of the layer's output, row-major), for input Input.
	MVMul
	// VAcc adds Count partial sums of an input-split layer.
	VAcc
	// VAct applies an element-wise activation to Count elements (Ops
	// vector operations in all).
	VAct
	// VNorm applies batch or layer normalisation (Ops operations).
	VNorm
	// VPool pools (Ops operations for Count outputs).
	VPool
	// VAdd adds two tensors element-wise (residual add; Count elements).
	VAdd
	// VCopy moves Bytes within local memory (concatenation, reshapes).
	VCopy
	// VMat multiplies two activations on the vector unit (attention).
	VMat
	// Send transfers Bytes of input Input's tensor Node to core Peer over
	// the bus.
	Send
	// Recv waits for Bytes of input Input's tensor Node from core Peer.
	Recv
	// Barrier ends a partition: the next partition's instructions on this
	// core wait for it.
	Barrier
)

var opNames = [...]string{
	LoadWeight: "LOAD_WEIGHT", WriteWeight: "WRITE_WEIGHT", LoadData: "LOAD_DATA", StoreData: "STORE_DATA",
	MVMul: "MVMUL", VAcc: "VACC", VAct: "VACT", VNorm: "VNORM", VPool: "VPOOL", VAdd: "VADD", VCopy: "VCOPY",
	VMat: "VMAT", Send: "SEND", Recv: "RECV", Barrier: "BARRIER",
}

// String is the opcode's mnemonic.
func (o Opcode) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("OP%d", uint8(o))
}

// Opcodes lists every opcode in order.
func Opcodes() []Opcode {
	var out []Opcode
	for o := LoadWeight; o <= Barrier; o++ {
		out = append(out, o)
	}
	return out
}

// Special Node values of SEND and RECV.
const (
	// PsumNode marks partial sums of an input-split layer; Unit is the
	// home unit that adds them, Xbar the replica and, on SEND, Peer the
	// sending unit.
	PsumNode = -1
	// LocalNode marks a hand-over between the two threads of one replica
	// on its own core (the crossbar thread tells the vector thread that an
	// input's MVMs are done); it uses no bus. Unit and Xbar name the
	// replica.
	LocalNode = -2
	// SpillNode marks the part of a replica's buffers that does not fit
	// its share of the core's local memory (mapping.Buffer): STORE_DATA
	// parks it in DRAM and LOAD_DATA reads it back. Unit and Xbar name the
	// replica. It moves no value the network computes.
	SpillNode = -3
	// TableNode marks the rows a lookup (an Embedding node) reads from its
	// table in DRAM: LOAD_DATA on the pre-layer thread of a home, before
	// the lookup's vector instruction. Unit and Xbar name the replica, Peer
	// the Embedding node; pos is the first element of the home's range.
	TableNode = -4
)

// specialNodes names the special Node values in listings.
var specialNodes = map[int32]string{PsumNode: "partial-sums", LocalNode: "hand-over", SpillNode: "spill", TableNode: "table-rows"}

// Instr is one instruction. Fields an opcode does not use are -1 (indices)
// or 0 (amounts).
type Instr struct {
	Op    Opcode `msgpack:"o" json:"op"`
	Xbar  int32  `msgpack:"x" json:"xbar"`  // crossbar within the core
	Layer int32  `msgpack:"l" json:"layer"` // index into the mapping's layers
	Unit  int32  `msgpack:"u" json:"unit"`  // global unit index
	Node  int32  `msgpack:"n" json:"node"`  // graph node of the tensor moved or computed
	Input int32  `msgpack:"i" json:"input"` // batch input
	Peer  int32  `msgpack:"p" json:"peer"`  // other core of a SEND/RECV
	// Band is, in the row pipeline, which band of a tensor's rows a SEND,
	// RECV or LOAD_DATA moves (a row counter: a RECV waits for the
	// contributions to that band only), or, on a hand-over and on partial
	// sums, which band of the replica's positions; 0 otherwise (the whole
	// tensor, the per-input pipeline).
	Band  int32  `msgpack:"r,omitempty" json:"band,omitempty"`
	Count int64  `msgpack:"c" json:"count"` // MVMs, rows or elements
	Ops   int64  `msgpack:"v" json:"ops"`   // vector operations
	Bytes int64  `msgpack:"b" json:"bytes"`
	Addr  uint64 `msgpack:"a" json:"addr"` // DRAM byte address
	Pos   int64  `msgpack:"s" json:"pos"`  // first output position of the replica's share (MVMUL and vector-thread work)
}

// DataKey names the DRAM data a STORE_DATA writes or a LOAD_DATA reads:
// a graph tensor of one input, or (PsumNode) the partial sums of one
// stripe (Unit) for one input, carried from one partition to the next
// (each replica stores its positions; a partition with another
// replication loads after all of them), or (SpillNode) one replica's
// (Unit, Xbar) spilled buffers.
func (in Instr) DataKey() [4]int32 {
	switch in.Node {
	case PsumNode:
		return [4]int32{in.Node, in.Unit, -1, in.Input}
	case SpillNode:
		return [4]int32{in.Node, in.Unit, in.Xbar, in.Input}
	}
	return [4]int32{in.Node, -1, -1, in.Input}
}

// Stream is one core's instructions for one partition, executed in order.
type Stream struct {
	Core   int32   `msgpack:"core" json:"core"`
	Instrs []Instr `msgpack:"instrs" json:"instrs"`
}

// Partition is the streams of one partition.
type Partition struct {
	Index   int      `msgpack:"index" json:"index"`
	Streams []Stream `msgpack:"streams" json:"streams"`
}

// Program is a compiled model: every partition's streams, in order.
type Program struct {
	Model      string      `msgpack:"model" json:"model"`
	Chip       string      `msgpack:"chip" json:"chip"`
	Batch      int         `msgpack:"batch" json:"batch"`
	Layers     []string    `msgpack:"layers" json:"layers"` // layer names, for listings
	Nodes      []string    `msgpack:"nodes" json:"nodes"`   // graph node names, for listings
	Partitions []Partition `msgpack:"partitions" json:"partitions"`
}

// WriteListing writes the readable text listing: one line per
// instruction, grouped by partition and core.
func (p *Program) WriteListing(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "; %s on chip %s, batch %d, %d partitions\n", p.Model, p.Chip, p.Batch, len(p.Partitions))
	name := func(list []string, i int32) string {
		if i >= 0 && int(i) < len(list) {
			return list[i]
		}
		return "-"
	}
	node := func(i int32) string {
		if s, ok := specialNodes[i]; ok {
			return s
		}
		return name(p.Nodes, i)
	}
	for _, part := range p.Partitions {
		fmt.Fprintf(&b, "\npartition %d\n", part.Index)
		for _, s := range part.Streams {
			fmt.Fprintf(&b, "  core %d\n", s.Core)
			for _, in := range s.Instrs {
				b.WriteString("    ")
				b.WriteString(in.text(name(p.Layers, in.Layer), node(in.Node)))
				b.WriteByte('\n')
			}
			if b.Len() > 1<<16 {
				if _, err := io.WriteString(w, b.String()); err != nil {
					return err
				}
				b.Reset()
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// text formats one instruction.
func (in Instr) text(layer, node string) string {
	switch in.Op {
	case LoadWeight:
		return fmt.Sprintf("%-12s unit %d (%s) %d B from 0x%x", in.Op, in.Unit, layer, in.Bytes, in.Addr)
	case WriteWeight:
		return fmt.Sprintf("%-12s xbar %d unit %d (%s) %d rows", in.Op, in.Xbar, in.Unit, layer, in.Count)
	case LoadData, StoreData:
		return fmt.Sprintf("%-12s in %d %s %d B at 0x%x", in.Op, in.Input, node, in.Bytes, in.Addr)
	case MVMul:
		return fmt.Sprintf("%-12s in %d xbar %d unit %d (%s) x%d from position %d", in.Op, in.Input, in.Xbar, in.Unit, layer, in.Count, in.Pos)
	case Send, Recv:
		dir := "to"
		if in.Op == Recv {
			dir = "from"
		}
		if in.Band > 0 {
			node = fmt.Sprintf("%s band %d", node, in.Band)
		}
		return fmt.Sprintf("%-12s in %d %s %d B %s core %d", in.Op, in.Input, node, in.Bytes, dir, in.Peer)
	case Barrier:
		return in.Op.String()
	case VCopy:
		return fmt.Sprintf("%-12s in %d %s %d B", in.Op, in.Input, node, in.Bytes)
	}
	return fmt.Sprintf("%-12s in %d %s (%s) %d elems, %d ops", in.Op, in.Input, node, layer, in.Count, in.Ops)
}

// WriteMsgpack encodes the program with msgpack (field names are the
// short tags on Instr, so a program of a million instructions stays
// compact).
func (p *Program) WriteMsgpack(w io.Writer) error {
	enc := msgpack.NewEncoder(w)
	enc.UseCompactInts(true)
	return enc.Encode(p)
}

// ReadMsgpack decodes a program written by WriteMsgpack.
func ReadMsgpack(r io.Reader) (*Program, error) {
	var p Program
	if err := msgpack.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("program: %w", err)
	}
	return &p, nil
}
