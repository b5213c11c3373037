package schedule

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model/zoo"
)

// The program does the work the estimator costs: per partition the same
// weight bytes, per layer and input one MVM per output position on every
// crossbar of the layer's units, every RECV answered by exactly the
// contributions it waits for, the exits stored, no core's buffers beyond
// its local memory, and what does not fit spilled as the estimator counts;
// and it programs exactly the crossbars the layout placed the units on.
// So under either placement policy.
func TestProgramMatchesTheEstimate(t *testing.T) {
	for _, p := range mapping.Policies() {
		t.Run(string(p), func(t *testing.T) { programMatchesTheEstimate(t, p) })
	}
}

func programMatchesTheEstimate(t *testing.T, policy mapping.Policy) {
	var spilled int64
	defer func() {
		if !t.Failed() && spilled == 0 {
			t.Error("no partition of the test cases spills: the spill check above proved nothing")
		}
	}()
	for _, c := range []struct {
		model, chip string
		batch       int
	}{{"resnet18", "M", 4}, {"vgg16", "S", 2}, {"mobilenet_v2", "L", 3}, {"googlenet", "M", 1}} {
		g, err := zoo.Build(c.model)
		if err != nil {
			t.Fatal(err)
		}
		chip, _ := hw.Preset(c.chip)
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatal(err)
		}
		e, err := estimate.NewPlaced(m, c.batch, policy)
		if err != nil {
			t.Fatal(err)
		}
		ga, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
		if err != nil {
			t.Fatal(err)
		}
		lay, err := layout.FromPlan(e, ga.Plan.Cuts)
		if err != nil {
			t.Fatal(err)
		}
		lp, err := Compile(e, lay)
		if err != nil {
			t.Fatal(err)
		}
		p := lp.Expand()
		if len(p.Partitions) != ga.Plan.Partitions() {
			t.Fatalf("%s: %d partitions scheduled, plan has %d", c.model, len(p.Partitions), ga.Plan.Partitions())
		}
		for pi, part := range p.Partitions {
			s := e.MustSpan(ga.Plan.Cuts[pi], ga.Plan.Cuts[pi+1])
			var weightBytes, storeBytes, spillStored, spillLoaded int64
			mvms := map[[2]int32]int64{} // (layer, input) -> MVMs
			contributions := map[[4]int32]int64{}
			waits := map[[4]int32]int64{}
			resident := map[int32]int64{}  // core -> bytes of buffers kept in its local memory
			written := map[[3]int32]bool{} // (core, crossbar, unit) programmed
			for _, st := range part.Streams {
				if st.Core < 0 || int(st.Core) >= chip.Cores {
					t.Fatalf("stream on core %d", st.Core)
				}
				// A crossbar thread is one replica: its first MVM names the
				// unit and how many positions it computes. (Under crossbar
				// placement the layout test checks the memory of split
				// replicas, shared between their cores.)
				for _, in := range st.Instrs {
					if in.Op == isa.WriteWeight {
						written[[3]int32{st.Core, in.Xbar, in.Unit}] = true
					}
					if in.Op == isa.MVMul && policy == mapping.PolicyUnit {
						buf := m.ReplicaBuffer(int(in.Unit), in.Count)
						resident[st.Core] += min(buf.NeedBytes, buf.ShareBytes)
						break
					}
				}
				for _, in := range st.Instrs {
					key := [4]int32{in.Node, in.Unit, in.Xbar, in.Input}
					if in.Node >= 0 {
						key = [4]int32{in.Node, -1, -1, in.Input}
					}
					switch in.Op {
					case isa.LoadWeight:
						weightBytes += in.Bytes
					case isa.MVMul:
						mvms[[2]int32{in.Layer, in.Input}] += in.Count
					case isa.StoreData:
						if in.Node == isa.SpillNode {
							spillStored += in.Bytes
						} else {
							storeBytes += in.Bytes
						}
					case isa.LoadData:
						if in.Node == isa.SpillNode {
							spillLoaded += in.Bytes
						}
						contributions[key]++
					case isa.Send:
						contributions[key]++
					case isa.Recv:
						if w, ok := waits[key]; ok && w != in.Count {
							t.Fatalf("%s p%d: two RECVs of %v wait for %d and %d contributions", c.model, pi, key, w, in.Count)
						}
						waits[key] = in.Count
					}
				}
			}
			placed := 0
			for _, r := range lay.Partitions[pi].Replicas {
				for _, pc := range r.Pieces {
					for x := range pc.Crossbars {
						placed++
						if !written[[3]int32{int32(pc.Core), int32(pc.FirstCrossbar + x), int32(r.Unit)}] {
							t.Fatalf("%s p%d: the layout puts unit %d on core %d crossbar %d; the program does not program it", c.model, pi, r.Unit, pc.Core, pc.FirstCrossbar+x)
						}
					}
				}
			}
			if len(written) != placed {
				t.Fatalf("%s p%d: the program programs %d crossbars, the layout places %d", c.model, pi, len(written), placed)
			}
			for core, bytes := range resident {
				if bytes > int64(chip.LocalMemoryBytes) {
					t.Errorf("%s p%d core %d: %d bytes of buffers kept in %d bytes of local memory", c.model, pi, core, bytes, chip.LocalMemoryBytes)
				}
			}
			// Spilled buffers: the estimator sums the same replicas' buffers.
			spilled += spillStored
			if w, r := s.SpillBytes*int64(c.batch), s.ReloadBytes*int64(c.batch); spillStored != w || spillLoaded != r {
				t.Errorf("%s p%d: %d bytes spilled and %d read back, the span spills %d and reads back %d", c.model, pi, spillStored, spillLoaded, w, r)
			}
			if weightBytes != s.WeightBytes {
				t.Errorf("%s p%d: %d weight bytes loaded, the span has %d", c.model, pi, weightBytes, s.WeightBytes)
			}
			for key, n := range waits {
				if contributions[key] != n {
					t.Errorf("%s p%d: RECV %v waits for %d contributions, the program sends %d", c.model, pi, key, n, contributions[key])
				}
			}
			for _, lp := range s.Layers {
				l := m.Layers[lp.Layer]
				for b := 0; b < c.batch; b++ {
					want := l.Positions * int64(lp.Crossbars)
					if got := mvms[[2]int32{int32(lp.Layer), int32(b)}]; got != want {
						t.Errorf("%s p%d %s input %d: %d MVMs, want positions x crossbars = %d", c.model, pi, l.Name, b, got, want)
					}
				}
			}
			// Every home stores its share, rounded up: within one byte per
			// store. A layer split along its inputs and cut across
			// partitions is the exception: the program stores the partial
			// sums of every output it touches, where the estimator counts
			// the layer's share of units (docs/estimator.md, known
			// approximations).
			splitCut := false
			for _, lp := range s.Layers {
				if l := m.Layers[lp.Layer]; l.InputSplits > 1 && lp.Units < l.NumUnits {
					splitCut = true
				}
			}
			wantStore := float64(s.StoreBytes) * float64(c.batch)
			if !splitCut && math.Abs(float64(storeBytes)-wantStore) > float64(len(part.Streams)*c.batch) {
				t.Errorf("%s p%d: %d bytes stored, the span stores %.0f", c.model, pi, storeBytes, wantStore)
			}
		}
	}
}

// The loop form (each stream's per-input instructions stored once and
// repeated) expands to exactly the program generated input by input, and
// its size does not grow with the batch while the expanded one does.
func TestLoopFormExpandsToEveryInput(t *testing.T) {
	var carried, spilled, entries bool
	defer func() {
		if !t.Failed() && (!carried || !spilled || !entries) {
			t.Errorf("coverage at inputs past the third: carried partial sums %v, spills %v, entry loads %v", carried, spilled, entries)
		}
	}()
	for _, c := range []struct {
		model, chip string
		batch       int
	}{{"resnet18", "M", 5}, {"vgg16", "S", 4}, {"resnet18", "S", 4}, {"squeezenet1_1", "S", 2}, {"googlenet", "M", 1}, {"mobilenet_v2", "S", 4}} {
		g, err := zoo.Build(c.model)
		if err != nil {
			t.Fatal(err)
		}
		chip, _ := hw.Preset(c.chip)
		m, err := mapping.Map(g, chip)
		if err != nil {
			t.Fatal(err)
		}
		sizes := map[int]int64{}
		for _, batch := range []int{c.batch, 40 * c.batch} {
			e, err := estimate.New(m, batch)
			if err != nil {
				t.Fatal(err)
			}
			cuts := partition.Layerwise(e).Cuts
			lp, err := Build(e, cuts)
			if err != nil {
				t.Fatal(err)
			}
			var stored int64
			for _, part := range lp.Partitions {
				for _, st := range part.Streams {
					stored += int64(len(st.Head) + len(st.Body) + len(st.Tail))
				}
			}
			sizes[batch] = stored
			if batch != c.batch {
				if lo := MinInstructions(m, batch); lp.Instructions() < lo {
					t.Errorf("%s batch %d: %d instructions, under the lower bound %d", c.model, batch, lp.Instructions(), lo)
				}
				if lp.Instructions() < 30*stored/4 {
					t.Errorf("%s batch %d: %d instructions run from %d stored: the loop form does not compress", c.model, batch, lp.Instructions(), stored)
				}
				continue
			}
			// Every plan kind: layerwise cuts at layers, greedy and the GA
			// also inside them (partial sums carried through DRAM).
			ga, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
			if err != nil {
				t.Fatal(err)
			}
			for name, plan := range map[string][]int{"layerwise": cuts, "greedy": partition.Greedy(e).Cuts, "compass": ga.Plan.Cuts} {
				lp, err := Build(e, plan)
				if err != nil {
					t.Fatal(err)
				}
				flat, err := build(e, plan, true)
				if err != nil {
					t.Fatal(err)
				}
				got, want := lp.Expand(), flat.Expand()
				if lp.Instructions() != flat.Instructions() || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %s batch %d: the loop form expands to %d instructions, input by input %d, or they differ", c.model, name, batch, lp.Instructions(), flat.Instructions())
				}
				if lo := MinInstructions(m, batch); lp.Instructions() < lo {
					t.Errorf("%s %s batch %d: %d instructions, under the lower bound %d", c.model, name, batch, lp.Instructions(), lo)
				}
				if n := lp.Instructions(); n != int64(countInstrs(got)) || lp.ExpandedBytes() != n*isa.InstrBytes {
					t.Errorf("%s %s: Instructions %d, the expanded program has %d", c.model, name, n, countInstrs(got))
				}
				for _, part := range got.Partitions {
					for _, st := range part.Streams {
						for _, in := range st.Instrs {
							// Addresses that step with the input, seen
							// beyond the inputs the steps come from.
							if in.Input >= 3 {
								carried = carried || (in.Op == isa.LoadData && in.Node == isa.PsumNode)
								spilled = spilled || (in.Op == isa.StoreData && in.Node == isa.SpillNode)
								entries = entries || (in.Op == isa.LoadData && in.Node >= 0)
							}
						}
					}
				}
			}
		}
		if sizes[c.batch] != sizes[40*c.batch] && c.batch > 1 {
			t.Errorf("%s: %d instructions stored at batch %d, %d at batch %d: the stored program grows with the batch", c.model, sizes[c.batch], c.batch, sizes[40*c.batch], 40*c.batch)
		}
	}
}

func countInstrs(p *isa.Program) int {
	n := 0
	for _, part := range p.Partitions {
		for _, st := range part.Streams {
			n += len(st.Instrs)
		}
	}
	return n
}
