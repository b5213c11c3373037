package schedule

import (
	"reflect"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// A linear layer behind a Clip, on a chip small enough that the layer
// takes many units, so plans cut it across partitions.
func splitBehindClip(t *testing.T) (*model.Graph, *mapping.Mapping) {
	t.Helper()
	b := model.NewBuilder("clip-linear")
	x := b.Input("x", 80)
	x = b.Unary(model.OpReLU, "r", b.Linear("fc1", b.Clip("clip", x, 0, 11), 24, false))
	b.Linear("fc2", x, 8, false)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	chip, err := hw.Preset("S")
	if err != nil {
		t.Fatal(err)
	}
	chip.Name = "tiny"
	chip.CrossbarRows, chip.CrossbarCols = 32, 16
	chip.Cores, chip.CrossbarsPerCore = 4, 2
	chip.BitsPerCell = 2
	if err := chip.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	return g, m
}

// Every partition that holds units of a layer computes all of the nodes
// before every layer that the layer owns: its homes' element ranges tile
// the node exactly, each once; the partition never loads that node from
// DRAM (no partition stored it before) and loads its operand whole; and
// the layer's MVMs wait for every home's share.
func TestPreLayerNodesComputedWholePerPartition(t *testing.T) {
	g, m := splitBehindClip(t)
	clip, x := g.Index("clip"), g.Index("x")
	elems := g.Nodes[clip].Out.Elems()
	e, err := estimate.New(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	units := len(m.Units)
	layer0 := 0
	for m.Units[layer0].Layer == 0 {
		layer0++
	}
	if layer0 < 3 {
		t.Fatalf("fc1 has %d units; the test needs it cut across partitions", layer0)
	}
	// Cut fc1 in three places, then the rest.
	cuts := []int{0, 1, layer0 / 2, layer0, units}
	if !slices.IsSorted(cuts) {
		t.Fatalf("cuts %v", cuts)
	}
	for k := 0; k+1 < len(cuts); k++ {
		if cuts[k+1] > e.MaxEnd(cuts[k]) {
			t.Fatalf("cuts %v: [%d, %d) is not a valid partition", cuts, cuts[k], cuts[k+1])
		}
	}
	lp, err := Build(e, cuts)
	if err != nil {
		t.Fatal(err)
	}
	p := lp.Expand()
	for pi, part := range p.Partitions {
		holdsFC1 := cuts[pi] < layer0
		for b := int32(0); b < 3; b++ {
			var ranges [][2]int64
			var sends, recvWant int64
			var xLoaded int64
			for _, st := range part.Streams {
				for _, in := range st.Instrs {
					if in.Input != b {
						continue
					}
					switch {
					case in.Node == int32(clip) && in.Op == isa.VAct:
						ranges = append(ranges, [2]int64{in.Pos, in.Pos + in.Count})
					case in.Node == int32(clip) && in.Op == isa.Send:
						sends++
					case in.Node == int32(clip) && in.Op == isa.Recv:
						if recvWant != 0 && recvWant != in.Count {
							t.Errorf("partition %d: RECVs of clip wait for %d and %d contributions", pi, recvWant, in.Count)
						}
						recvWant = in.Count
					case in.Node == int32(clip) && in.Op == isa.LoadData:
						t.Errorf("partition %d loads clip of input %d", pi, b)
					case in.Node == int32(x) && in.Op == isa.LoadData:
						xLoaded += in.Bytes
					}
				}
			}
			if !holdsFC1 {
				if len(ranges) != 0 || sends != 0 {
					t.Errorf("partition %d holds no unit of fc1 but computes clip %v", pi, ranges)
				}
				continue
			}
			slices.SortFunc(ranges, func(a, c [2]int64) int { return int(a[0] - c[0]) })
			at := int64(0)
			for _, r := range ranges {
				if r[0] != at || r[1] < r[0] {
					t.Errorf("partition %d input %d: clip's ranges %v do not tile [0, %d)", pi, b, ranges, elems)
					break
				}
				at = r[1]
			}
			if at != elems {
				t.Errorf("partition %d input %d: clip's ranges %v end at %d, want %d", pi, b, ranges, at, elems)
			}
			if sends != int64(len(ranges)) || recvWant != sends {
				t.Errorf("partition %d input %d: %d homes compute clip, %d send it, fc1's RECVs wait for %d", pi, b, len(ranges), sends, recvWant)
			}
			if want := int64(e.TensorBytes(x)); xLoaded != want {
				t.Errorf("partition %d input %d: %d bytes of x loaded, want the whole %d", pi, b, xLoaded, want)
			}
		}
	}
}

// With nodes before every layer, the loop form still expands to exactly
// the program generated input by input.
func TestPreLayerLoopFormExpands(t *testing.T) {
	g, m := splitBehindClip(t)
	_ = g
	for _, batch := range []int{1, 2, 3, 5} {
		e, err := estimate.New(m, batch)
		if err != nil {
			t.Fatal(err)
		}
		cuts := []int{0, 2, len(m.Units)}
		if cuts[1] > e.MaxEnd(0) || cuts[2] > e.MaxEnd(2) {
			t.Fatalf("cuts %v invalid", cuts)
		}
		loop, err := build(e, cuts, false)
		if err != nil {
			t.Fatal(err)
		}
		flat, err := build(e, cuts, true)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := loop.Expand(), flat.Expand(); !reflect.DeepEqual(got, want) {
			t.Errorf("batch %d: the loop form does not expand to the program built input by input", batch)
		}
		if n := loop.Instructions(); n != int64(countInstrs(flat.Expand())) {
			t.Errorf("batch %d: %d instructions counted, %d expanded", batch, n, countInstrs(flat.Expand()))
		}
	}
}

// A token lookup (Embedding) before the first layer reads its rows from
// the table in DRAM: on each home's pre-layer thread, a LOAD_DATA of the
// table's rows for the home's elements comes before the lookup, the loads
// of one input add up to the lookup's output at activation precision, and
// they address the table's own region.
func TestEmbeddingLoadsItsRows(t *testing.T) {
	b := model.NewBuilder("embed")
	ids := b.Input("ids", 16)
	emb := b.Node(&model.Node{Name: "emb", Op: model.OpEmbedding, Inputs: []string{ids}, Table: model.Shape{100, 8}})
	b.Linear("fc", emb, 4, false)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, chip)
	if err != nil {
		t.Fatal(err)
	}
	n := g.Index("emb")
	outBytes := (g.Nodes[n].Out.Elems()*int64(chip.ActivationBits) + 7) / 8 // 16 tokens x 8 wide
	tableBytes := uint64(100 * 8 * chip.ActivationBits / 8)
	for _, batch := range []int{1, 3} {
		e, err := estimate.New(m, batch)
		if err != nil {
			t.Fatal(err)
		}
		lp, err := Build(e, []int{0, len(m.Units)})
		if err != nil {
			t.Fatal(err)
		}
		a := newAddresses(e)
		p := lp.Expand()
		perInput := map[int32]int64{}
		for _, st := range p.Partitions[0].Streams {
			for k, in := range st.Instrs {
				if in.Op != isa.LoadData || in.Node != isa.TableNode {
					continue
				}
				if in.Peer != int32(n) {
					t.Errorf("table load names node %d, want emb (%d)", in.Peer, n)
				}
				if in.Addr < a.table[n] || in.Addr >= a.table[n]+tableBytes {
					t.Errorf("table load at %d, the table is [%d, %d)", in.Addr, a.table[n], a.table[n]+tableBytes)
				}
				if next := st.Instrs[k+1]; next.Op != isa.VCopy || next.Node != int32(n) || next.Input != in.Input || next.Pos != in.Pos {
					t.Errorf("table load of input %d is followed by %+v, want the lookup of the same elements", in.Input, next)
				}
				perInput[in.Input] += in.Bytes
			}
		}
		if len(perInput) != batch {
			t.Errorf("batch %d: table loads for %d inputs", batch, len(perInput))
		}
		for b, got := range perInput {
			if got != outBytes {
				t.Errorf("batch %d input %d: %d bytes of rows loaded, want %d", batch, b, got, outBytes)
			}
		}
	}
}
