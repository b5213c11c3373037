package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/model"
)

// preLayerNets are graphs with vector nodes between a graph input and the
// first crossbar layer, which the scheduler runs on a thread of their own
// per home (before the fix they deadlocked: the layer's MVMs waited for a
// node its own vector thread computed after them).
func preLayerNets() map[string]*model.Builder {
	nets := map[string]*model.Builder{}
	{ // the reported repro: a ReLU between the input and a 1x1 convolution
		b := model.NewBuilder("relu-conv")
		x := b.Input("x", 4, 8, 8)
		b.Conv("c", b.Unary(model.OpReLU, "a", x), model.Conv2D(8, 1, 1, 0))
		nets["relu-conv"] = b
	}
	{ // a chain of vector nodes before the first layer, then two layers
		b := model.NewBuilder("chain")
		x := b.Input("x", 3, 6, 6)
		x = b.Unary(model.OpIdentity, "id", b.Unary(model.OpReLU, "r0", b.Clip("clip", x, 1, 12)))
		x = b.Unary(model.OpReLU, "r1", b.Conv("c1", x, model.Conv2D(8, 3, 1, 1)))
		b.Conv("c2", x, model.Conv2D(5, 3, 2, 1))
		nets["chain"] = b
	}
	{ // a graph input read by a vector node (then a layer) and by a layer
		b := model.NewBuilder("shared-input")
		x := b.Input("x", 4, 5, 5)
		y1 := b.Conv("c1", b.Unary(model.OpReLU, "a", x), model.Conv2D(6, 3, 1, 1))
		y2 := b.Conv("c2", x, model.Conv2D(6, 1, 1, 0))
		b.Unary(model.OpReLU, "out", b.Binary(model.OpAdd, "add", y1, y2))
		nets["shared-input"] = b
	}
	{ // two graph inputs: their sum feeds one layer, one of them another
		b := model.NewBuilder("two-inputs")
		x := b.Input("x", 3, 5, 5)
		y := b.Input("y", 3, 5, 5)
		s := b.Binary(model.OpAdd, "sum", x, b.Clip("yc", y, 0, 9))
		c1 := b.Unary(model.OpReLU, "r1", b.Conv("c1", s, model.Conv2D(4, 3, 1, 1)))
		c2 := b.Conv("c2", b.Unary(model.OpReLU, "yr", y), model.Conv2D(4, 1, 1, 0))
		b.Binary(model.OpAdd, "out", c1, c2)
		nets["two-inputs"] = b
	}
	{ // a node before every layer read by its layer's own vector work
		b := model.NewBuilder("skip-before")
		x := b.Input("x", 4, 5, 5)
		a := b.Unary(model.OpReLU, "a", x)
		b.Binary(model.OpAdd, "add", b.Conv("c", a, model.Conv2D(4, 3, 1, 1)), a)
		nets["skip-before"] = b
	}
	{ // a node before every layer that no layer reads: a graph output of its own
		b := model.NewBuilder("side-output")
		x := b.Input("x", 4, 5, 5)
		b.Unary(model.OpReLU, "r", b.Conv("c", x, model.Conv2D(4, 3, 1, 1)))
		b.Clip("side", x, 2, 9)
		nets["side-output"] = b
	}
	{ // a linear layer cut into several units and input splits
		b := model.NewBuilder("linear-split")
		x := b.Input("x", 80)
		x = b.Unary(model.OpReLU, "r", b.Linear("fc1", b.Clip("clip", x, 0, 11), 24, false))
		b.Linear("fc2", x, 8, false)
		nets["linear-split"] = b
	}
	return nets
}

// Vector nodes before the first layer simulate (no deadlock) and compute
// bit-exactly what the direct integer computation gives, for every
// method's plan, on 1-bit and 2-bit cells, at batch 1 and 3.
func TestPreLayerNodesFunctional(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range preLayerNets() {
			if !yield(n) {
				return
			}
		}
	})
	nets := preLayerNets()
	threads := 0
	for _, name := range names {
		g, err := nets[name].Build()
		if err != nil {
			t.Fatal(err)
		}
		for _, bits := range []int{1, 2} {
			chip := smallChip(t, bits)
			m, err := mapping.Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			weights := randomWeights(rng, m)
			for _, batch := range []int{1, 3} {
				e, err := estimate.New(m, batch)
				if err != nil {
					t.Fatal(err)
				}
				inputs := randomInputs(rng, g, batch, chip.ActivationBits)
				ga, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
				if err != nil {
					t.Fatal(err)
				}
				plans := map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e), "compass": ga.Plan}
				for _, method := range []string{"greedy", "layerwise", "compass"} {
					plan := plans[method]
					what := fmt.Sprintf("%s, %d-bit cells, batch %d, %s (cuts %v)", name, bits, batch, method, plan.Cuts)
					lp, _ := checkFunctional(t, what, e, plan, weights, inputs)
					threads += preThreads(lp, g)
				}
			}
		}
	}
	if threads == 0 {
		t.Error("no program ran a node before every layer on a thread of its own")
	}
}

// preThreads counts the streams whose vector instructions compute nodes
// before every layer.
func preThreads(p *isa.LoopProgram, g *model.Graph) int {
	pre := g.BeforeEveryLayer()
	n := 0
	for _, part := range p.Partitions {
		for _, st := range part.Streams {
			for _, in := range st.Head {
				if in.Node >= 0 && pre[in.Node] && in.Op != isa.Recv && in.Op != isa.LoadData && in.Op != isa.Send && in.Op != isa.StoreData {
					n++
					break
				}
			}
		}
	}
	return n
}

// The nodes before every layer (one rule, model.Graph.BeforeEveryLayer,
// read by the estimator, the scheduler and this simulator) are what the
// graphs say.
func TestPreLayerSets(t *testing.T) {
	want := map[string][]string{
		"relu-conv":    {"a"},
		"chain":        {"clip", "r0", "id"},
		"shared-input": {"a"},
		"two-inputs":   {"yc", "sum", "yr"},
		"skip-before":  {"a"},
		"linear-split": {"clip"},
		"side-output":  {"side"},
	}
	for name, b := range preLayerNets() {
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		s := g.BeforeEveryLayer()
		var got []string
		for i, n := range g.Nodes {
			if s[i] {
				got = append(got, n.Name)
			}
		}
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s: nodes before every layer %v, want %v", name, got, want[name])
		}
	}
}

// The reported repro on chip M, with every method at batch 1 and 2:
// the run finishes, and the layer's MVMs wait for the ReLU before them.
func TestPreLayerReproChipM(t *testing.T) {
	g, err := preLayerNets()["relu-conv"].Build()
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
	for _, batch := range []int{1, 2} {
		e, err := estimate.New(m, batch)
		if err != nil {
			t.Fatal(err)
		}
		ga, err := partition.GA(context.Background(), e, partition.Latency, partition.PaperGAOptions(1))
		if err != nil {
			t.Fatal(err)
		}
		opt, err := partition.Optimal(context.Background(), e, partition.Latency)
		if err != nil {
			t.Fatal(err)
		}
		for method, plan := range map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e), "compass": ga.Plan, "optimal": opt.Plan} {
			what := fmt.Sprintf("batch %d %s", batch, method)
			tot, p, r := simulatePlan(t, what, e, plan, Options{Trace: true, MaxTrace: 1 << 20})
			if r.LatencyNs <= 0 || tot.TimeNs <= 0 {
				t.Fatalf("%s: simulated %g ns, estimated %g ns", what, r.LatencyNs, tot.TimeNs)
			}
			// The ReLU's vector work ends before the first MVM starts.
			firstMVM, lastVec := -1.0, -1.0
			for _, ev := range r.Trace {
				switch ev.Op {
				case isa.MVMul:
					if firstMVM < 0 || ev.StartNs < firstMVM {
						firstMVM = ev.StartNs
					}
				case isa.VAct:
					lastVec = max(lastVec, ev.EndNs)
				}
			}
			if batch == 1 && (lastVec < 0 || firstMVM < lastVec) {
				t.Errorf("%s: the ReLU's work ends at %g ns, the first MVM starts at %g ns", what, lastVec, firstMVM)
			}
			if preThreads(p, g) == 0 {
				t.Errorf("%s: no thread computes the ReLU", what)
			}
			t.Logf("%s: simulated %.0f ns, estimated %.0f ns (estimate/simulated %.2f)", what, r.LatencyNs, tot.TimeNs, tot.TimeNs/r.LatencyNs)
		}
	}
}

// A token lookup before the first layer simulates with every method, and
// its table loads read the looked-up rows of every input from DRAM: the
// run reads that much more than the same program without them.
func TestEmbeddingSimulates(t *testing.T) {
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
	rowsBytes := int64(16*8*chip.ActivationBits) / 8 // per input
	for _, batch := range []int{1, 2} {
		e, err := estimate.New(m, batch)
		if err != nil {
			t.Fatal(err)
		}
		for method, plan := range map[string]partition.Plan{"greedy": partition.Greedy(e), "layerwise": partition.Layerwise(e)} {
			_, p, r := simulatePlan(t, method, e, plan, Options{})
			if r.Counts[isa.VCopy] == 0 {
				t.Errorf("batch %d %s: no lookup ran", batch, method)
			}
			without, err := Run(dropTableLoads(p), chip, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := r.DRAM.BytesRead - without.DRAM.BytesRead; d < int64(batch)*rowsBytes {
				t.Errorf("batch %d %s: the table loads read %d bytes from DRAM, want at least %d", batch, method, d, int64(batch)*rowsBytes)
			}
		}
	}
}

// dropTableLoads is the program without its LOAD_DATAs of table rows.
func dropTableLoads(p *isa.LoopProgram) *isa.LoopProgram {
	q := *p
	q.Partitions = nil
	keep := func(in isa.Instr) bool { return in.Op != isa.LoadData || in.Node != isa.TableNode }
	for _, part := range p.Partitions {
		np := part
		np.Streams = nil
		for _, st := range part.Streams {
			ns := st
			ns.Head, ns.Body, ns.AddrStep = nil, nil, nil
			for _, in := range st.Head {
				if keep(in) {
					ns.Head = append(ns.Head, in)
				}
			}
			for k, in := range st.Body {
				if keep(in) {
					ns.Body = append(ns.Body, in)
					ns.AddrStep = append(ns.AddrStep, st.AddrStep[k])
				}
			}
			np.Streams = append(np.Streams, ns)
		}
		q.Partitions = append(q.Partitions, np)
	}
	return &q
}
