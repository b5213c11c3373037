package layout_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/layout"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model/zoo"
)

func estimator(t *testing.T, model, chip string, batch int) *estimate.Estimator {
	return placedEstimator(t, model, chip, batch, mapping.PolicyUnit)
}

func placedEstimator(t *testing.T, model, chip string, batch int, policy mapping.Policy) *estimate.Estimator {
	t.Helper()
	g, err := zoo.Build(model)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hw.Preset(chip)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Map(g, c)
	if err != nil {
		t.Fatal(err)
	}
	e, err := estimate.NewPlaced(m, batch, policy)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// randomCuts draws a valid plan: each partition ends anywhere the
// validity map allows, the last one at every unit's end.
func randomCuts(e *estimate.Estimator, rng *rand.Rand) []int {
	cuts := []int{0}
	for a := 0; a < e.NumUnits(); {
		b := a + 1 + rng.IntN(e.MaxEnd(a)-a)
		cuts = append(cuts, b)
		a = b
	}
	return cuts
}

// checkLayout checks the properties every layout keeps, whatever the
// policy: every replica the estimator asked for is placed, its pieces
// hold each of its unit's crossbars exactly once, no two pieces share a
// crossbar (so no core holds more than its crossbars), the buffers kept
// on a core fit its local memory, the replicas of a unit share out the
// layer's positions exactly, and every graph node has the owner the rule
// gives it.
func checkLayout(t *testing.T, what string, e *estimate.Estimator, cuts []int, lay *layout.Layout) {
	t.Helper()
	m := e.Mapping()
	chip := m.Chip
	K := chip.CrossbarsPerCore
	if len(lay.Partitions) != len(cuts)-1 {
		t.Fatalf("%s: %d partitions laid out, the plan has %d", what, len(lay.Partitions), len(cuts)-1)
	}
	for pi := range lay.Partitions {
		p := &lay.Partitions[pi]
		s := e.MustSpan(cuts[pi], cuts[pi+1])
		if p.Start != s.Start || p.End != s.End {
			t.Fatalf("%s: partition %d spans [%d, %d), the plan [%d, %d)", what, pi, p.Start, p.End, s.Start, s.End)
		}
		// Every replica placed: the estimator's replication of each layer
		// for every unit of the span, each replica index once.
		seen := map[[2]int]bool{}
		for _, r := range p.Replicas {
			if r.Unit < p.Start || r.Unit >= p.End || seen[[2]int{r.Unit, r.Index}] {
				t.Fatalf("%s: partition %d: replica %d of unit %d is out of the span or twice", what, pi, r.Index, r.Unit)
			}
			seen[[2]int{r.Unit, r.Index}] = true
		}
		for _, lp := range s.Layers {
			if p.ReplicationOf(lp.Layer) != lp.Replicas {
				t.Errorf("%s: partition %d: layer %d replicated %d times, the estimator says %d", what, pi, lp.Layer, p.ReplicationOf(lp.Layer), lp.Replicas)
			}
			for u := s.Start; u < s.End; u++ {
				if m.Units[u].Layer != lp.Layer {
					continue
				}
				for k := 0; k < lp.Replicas; k++ {
					if !seen[[2]int{u, k}] {
						t.Fatalf("%s: partition %d: replica %d of unit %d is not placed", what, pi, k, u)
					}
				}
			}
		}
		// Crossbars: each used once, within its core, each of a unit's
		// crossbars held once by each replica.
		used := map[[2]int][2]int{} // (core, crossbar) -> (unit, replica)
		kept := make([]int64, chip.Cores)
		covered := map[int][]int64{} // unit -> positions covered, by replica order
		for _, r := range p.Replicas {
			held := make([]bool, m.Units[r.Unit].Crossbars)
			for _, pc := range r.Pieces {
				if pc.Core < 0 || pc.Core >= chip.Cores || pc.FirstCrossbar < 0 || pc.Crossbars < 1 || pc.FirstCrossbar+pc.Crossbars > K {
					t.Fatalf("%s: partition %d unit %d replica %d: piece %+v is not within a core of %d crossbars on a chip of %d cores", what, pi, r.Unit, r.Index, pc, K, chip.Cores)
				}
				for j := range pc.Crossbars {
					at := [2]int{pc.Core, pc.FirstCrossbar + j}
					if prev, ok := used[at]; ok {
						t.Fatalf("%s: partition %d: core %d crossbar %d holds unit %d replica %d and unit %d replica %d", what, pi, at[0], at[1], prev[0], prev[1], r.Unit, r.Index)
					}
					used[at] = [2]int{r.Unit, r.Index}
					x := pc.UnitCrossbar + j
					if x < 0 || x >= len(held) || held[x] {
						t.Fatalf("%s: partition %d unit %d replica %d: its crossbar %d is held twice or does not exist", what, pi, r.Unit, r.Index, x)
					}
					held[x] = true
					if c, cx, ok := r.Crossbar(x); !ok || c != at[0] || cx != at[1] {
						t.Fatalf("%s: Crossbar(%d) = %d, %d, %v; the piece puts it on core %d crossbar %d", what, x, c, cx, ok, at[0], at[1])
					}
				}
				// What stays in local memory is the buffer up to its
				// share, in proportion to the crossbars on this core.
				kept[pc.Core] += min(r.Buffer.NeedBytes, r.Buffer.ShareBytes) * int64(pc.Crossbars) / int64(len(held))
			}
			for x, ok := range held {
				if !ok {
					t.Fatalf("%s: partition %d unit %d replica %d: its crossbar %d is not placed", what, pi, r.Unit, r.Index, x)
				}
			}
			if want := m.ReplicaBuffer(r.Unit, r.Positions); r.Buffer != want {
				t.Fatalf("%s: unit %d replica %d buffer %+v, mapping says %+v", what, r.Unit, r.Index, r.Buffer, want)
			}
			if len(r.Rows) != len(held) {
				t.Fatalf("%s: unit %d: rows of %d crossbars, it has %d", what, r.Unit, len(r.Rows), len(held))
			}
			if first := covered[r.Unit]; len(first)/2 != r.Index {
				t.Fatalf("%s: unit %d replica %d comes out of order", what, r.Unit, r.Index)
			}
			covered[r.Unit] = append(covered[r.Unit], r.FirstPos, r.Positions)
			if r.Index == 0 {
				checkStripe(t, what, m, p, &r)
			}
		}
		for c, b := range kept {
			if b > int64(chip.LocalMemoryBytes) {
				t.Errorf("%s: partition %d: core %d keeps %d bytes of buffers in %d bytes of local memory", what, pi, c, b, chip.LocalMemoryBytes)
			}
		}
		// The replicas of a unit share its layer's positions, in order,
		// without gap or overlap.
		for u, runs := range covered {
			var next int64
			for i := 0; i < len(runs); i += 2 {
				if runs[i] != next {
					t.Fatalf("%s: unit %d replica %d starts at position %d, want %d", what, u, i/2, runs[i], next)
				}
				next += runs[i+1]
			}
			if l := m.Layers[m.Units[u].Layer]; next != l.Positions {
				t.Fatalf("%s: unit %d's replicas cover %d of %d positions", what, u, next, l.Positions)
			}
		}
	}
	checkOwners(t, what, m, lay.Owners)
}

// checkStripe: a replica's stripe is the units of its layer with its
// output columns (the layer's input splits of them); its home is the
// first of them in the partition, StripeLast the last, and it carries out
// exactly when the stripe's last split lies after the partition.
func checkStripe(t *testing.T, what string, m *mapping.Mapping, p *layout.Partition, r *layout.Replica) {
	t.Helper()
	unit := m.Units[r.Unit]
	first, last, lastSplit := -1, -1, -1
	for u, v := range m.Units {
		if v.Layer != unit.Layer || v.OutStart != unit.OutStart {
			continue
		}
		if u >= p.Start && u < p.End {
			if first < 0 {
				first = u
			}
			last = u
		}
		if v.InputSplit == m.Layers[unit.Layer].InputSplits-1 {
			lastSplit = u
		}
	}
	if r.Home != first || r.StripeLast != last || r.CarriesOut != (lastSplit >= p.End) {
		t.Fatalf("%s: partition [%d, %d) unit %d: home %d, stripe's last %d, carries out %v; want %d, %d, %v (the stripe's last split is unit %d)",
			what, p.Start, p.End, r.Unit, r.Home, r.StripeLast, r.CarriesOut, first, last, lastSplit >= p.End, lastSplit)
	}
}

// checkOwners: a layer node owns itself; a vector node is owned by the
// latest layer among its producers' owners, or, fed by graph inputs only,
// by the first layer among its consumers'; inputs, parameters and
// constants by none; Nodes(l) lists exactly the nodes l owns, in order.
func checkOwners(t *testing.T, what string, m *mapping.Mapping, o *mapping.Owners) {
	t.Helper()
	g := m.Graph
	layerOf := map[int]int{}
	for li, l := range m.Layers {
		layerOf[l.Node] = li
	}
	count := 0
	for i, n := range g.Nodes {
		got := o.Of(i)
		switch li, isLayer := layerOf[i]; {
		case isLayer:
			if got != li {
				t.Fatalf("%s: layer node %s owned by layer %d, not itself (%d)", what, n.Name, got, li)
			}
		case mapping.External(n.Op):
			if got != -1 {
				t.Fatalf("%s: %s node %s owned by layer %d", what, n.Op, n.Name, got)
			}
		default:
			want := -1
			for _, p := range g.Producers(i) {
				want = max(want, o.Of(p))
			}
			if want < 0 {
				want = len(m.Layers) - 1
				for _, c := range g.Consumers(i) {
					if o.Of(c) >= 0 {
						want = min(want, o.Of(c))
					}
				}
			}
			if got != want || got < 0 || got >= len(m.Layers) {
				t.Fatalf("%s: vector node %s owned by layer %d, want %d", what, n.Name, got, want)
			}
		}
		if got >= 0 {
			count++
		}
	}
	listed, last := 0, -1
	for li := range m.Layers {
		last = -1
		for _, n := range o.Nodes(li) {
			if o.Of(n) != li || n <= last {
				t.Fatalf("%s: layer %d lists node %d (owned by %d) out of order or not its own", what, li, n, o.Of(n))
			}
			last = n
			listed++
		}
	}
	if listed != count {
		t.Fatalf("%s: the layers list %d nodes, %d have owners", what, listed, count)
	}
}

func TestLayoutProperties(t *testing.T) {
	for _, p := range mapping.Policies() {
		t.Run(string(p), func(t *testing.T) { checkPolicy(t, p) })
	}
}

func checkPolicy(t *testing.T, policy mapping.Policy) {
	rng := rand.New(rand.NewPCG(14, 1))
	split, carried := 0, 0
	defer func() {
		if policy == mapping.PolicyCrossbar && split == 0 {
			t.Error("crossbar placement split no replica over two cores: the checks above did not see it")
		}
		if carried == 0 {
			t.Error("no stripe carried its partial sums out of a partition: the stripe checks did not see one")
		}
	}()
	for _, c := range []struct {
		model, chip string
		batch       int
	}{{"resnet18", "M", 16}, {"resnet18", "S", 1}, {"vgg16", "S", 2}, {"squeezenet1_1", "L", 4},
		{"mobilenet_v2", "M", 1}, {"googlenet", "M", 8}, {"vit_b_16", "L", 1}} {
		e := placedEstimator(t, c.model, c.chip, c.batch, policy)
		for trial := range 6 {
			cuts := randomCuts(e, rng)
			if trial == 0 { // one partition per start's longest span
				cuts = []int{0}
				for a := 0; a < e.NumUnits(); a = e.MaxEnd(a) {
					cuts = append(cuts, e.MaxEnd(a))
				}
			}
			lay, err := layout.FromPlan(e, cuts)
			if err != nil {
				t.Fatalf("%s on %s: %v", c.model, c.chip, err)
			}
			if lay.Policy != policy {
				t.Fatalf("policy %q, want %q", lay.Policy, policy)
			}
			for _, p := range lay.Partitions {
				for _, r := range p.Replicas {
					// A unit is at most a core: whole under PolicyUnit, at
					// most two pieces on two cores under PolicyCrossbar.
					if n := len(r.Pieces); n != 1 && (policy == mapping.PolicyUnit || n != 2 || r.Pieces[0].Core == r.Pieces[1].Core) {
						t.Fatalf("%s: %s placement put unit %d replica %d in pieces %+v", c.model, policy, r.Unit, r.Index, r.Pieces)
					}
					if len(r.Pieces) > 1 {
						split++
					}
					if r.CarriesOut {
						carried++
					}
				}
			}
			checkLayout(t, c.model+" on "+c.chip, e, cuts, lay)
		}
	}
}

// A plan that does not tile the units, or a replication that does not fit
// the layers or the chip, is an error that names what is wrong.
func TestLayoutErrors(t *testing.T) {
	e := estimator(t, "resnet18", "M", 1)
	m := e.Mapping()
	n := len(m.Units)
	lastLayer := m.Units[n-1].Layer
	whole := func(reps int) []int {
		r := make([]int, lastLayer+1)
		for i := range r {
			r[i] = reps
		}
		return r
	}
	for _, c := range []struct {
		spans  []layout.Span
		policy mapping.Policy
		want   string
	}{
		{[]layout.Span{{Start: 0, End: 1, Replicas: []int{1}}}, mapping.PolicyUnit, "must cover all"},
		{[]layout.Span{{Start: 1, End: n, Replicas: whole(1)}}, mapping.PolicyUnit, "must start at unit 0"},
		{[]layout.Span{{Start: 0, End: n, Replicas: []int{1}}}, mapping.PolicyUnit, "replication counts"},
		{[]layout.Span{{Start: 0, End: 1, Replicas: []int{0}}}, mapping.PolicyUnit, "at least 1"},
		{[]layout.Span{{Start: 0, End: n, Replicas: whole(1)}}, mapping.PolicyUnit, "do not place"},
		{[]layout.Span{{Start: 0, End: 1, Replicas: []int{1}}}, "diagonal", "placement policy"},
	} {
		_, err := layout.New(m, c.spans, c.policy)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("spans %+v: error %v, want one saying %q", c.spans, err, c.want)
		}
	}
	if _, err := layout.New(nil, nil, mapping.PolicyUnit); err == nil {
		t.Error("a nil mapping is accepted")
	}
}

// The validity map is the placement's own rule: under each policy, the
// longest valid span from every start lays out at replication 1, and one
// unit more does not (the other units each alone, which always fits).
func TestValidEndsArePlacementsRule(t *testing.T) {
	for _, c := range []struct{ model, chip string }{{"resnet18", "M"}, {"squeezenet1_1", "S"}, {"mobilenet_v2", "S"}, {"vgg16", "L"}} {
		e := estimator(t, c.model, c.chip, 1)
		m := e.Mapping()
		n := len(m.Units)
		spans := func(a, b int) []layout.Span {
			var out []layout.Span
			one := func(s, t int) layout.Span {
				reps := make([]int, m.Units[t-1].Layer-m.Units[s].Layer+1)
				for i := range reps {
					reps[i] = 1
				}
				return layout.Span{Start: s, End: t, Replicas: reps}
			}
			for u := 0; u < a; u++ {
				out = append(out, one(u, u+1))
			}
			out = append(out, one(a, b))
			for u := b; u < n; u++ {
				out = append(out, one(u, u+1))
			}
			return out
		}
		for _, p := range mapping.Policies() {
			ends := p.ValidEnds(m)
			if p == mapping.PolicyUnit && !slices.Equal(ends, m.ValidEnds()) {
				t.Fatalf("%s: the unit policy's validity map is not the mapping's", c.model)
			}
			for a := range n {
				if ends[a] <= a || ends[a] > n {
					t.Fatalf("%s %s: ValidEnds[%d] = %d", c.model, p, a, ends[a])
				}
				if _, err := layout.New(m, spans(a, ends[a]), p); err != nil {
					t.Fatalf("%s %s: the valid span [%d, %d) does not lay out: %v", c.model, p, a, ends[a], err)
				}
				if ends[a] < n {
					if _, err := layout.New(m, spans(a, ends[a]+1), p); err == nil {
						t.Fatalf("%s %s: [%d, %d) lays out but the validity map ends it at %d", c.model, p, a, ends[a]+1, ends[a])
					}
				}
			}
		}
	}
}
