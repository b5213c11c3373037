package partition_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model/zoo"
)

// relTol is the relative tolerance for comparing figures that two code
// paths sum in possibly different orders.
const relTol = 1e-9

// relClose reports whether a and b agree to relative tolerance tol.
func relClose(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*max(math.Abs(a), math.Abs(b))
}

// leq reports a <= b up to relative tolerance tol.
func leq(a, b, tol float64) bool { return a <= b+tol*math.Abs(b) }

var (
	zooMu    sync.Mutex
	zooMemo  = map[string]*mapping.Mapping{}
	zooError = map[string]error{}
)

// zooMapping maps a zoo network on a preset chip, memoised across tests
// (a Mapping is read-only once built).
func zooMapping(tb testing.TB, net, chipName string) *mapping.Mapping {
	tb.Helper()
	key := net + "/" + chipName
	zooMu.Lock()
	defer zooMu.Unlock()
	if m, ok := zooMemo[key]; ok {
		return m
	}
	if err, ok := zooError[key]; ok {
		tb.Fatalf("%s: %v", key, err)
	}
	m, err := func() (*mapping.Mapping, error) {
		g, err := zoo.Build(net)
		if err != nil {
			return nil, err
		}
		chip, err := hw.Preset(chipName)
		if err != nil {
			return nil, err
		}
		return mapping.Map(g, chip)
	}()
	if err != nil {
		zooError[key] = err
		tb.Fatalf("%s: %v", key, err)
	}
	zooMemo[key] = m
	return m
}

// newEstimator builds a fresh estimator.
func newEstimator(tb testing.TB, m *mapping.Mapping, batch int) *estimate.Estimator {
	tb.Helper()
	e, err := estimate.New(m, batch)
	if err != nil {
		tb.Fatalf("estimate.New(batch %d): %v", batch, err)
	}
	return e
}

// layerEnd is one past the last unit of the layer holding unit u.
func layerEnd(m *mapping.Mapping, u int) int {
	l := m.Layers[m.Units[u].Layer]
	return l.FirstUnit + l.NumUnits
}

// isLayerBoundary reports whether a cut at b separates two layers (or
// ends the network).
func isLayerBoundary(m *mapping.Mapping, b int) bool {
	return b == 0 || b == len(m.Units) || m.Layers[m.Units[b].Layer].FirstUnit == b
}

// checkSpan checks the estimator's layout of span [a, b) against the
// paper's validity rules: every unit fits one core (rule 1), each layer of
// the span has one replication count >= 1 (rule 2), and the replicated
// units pack into the chip's cores (rule 3).
func checkSpan(t testing.TB, label string, m *mapping.Mapping, s *estimate.Span, a, b int) {
	t.Helper()
	chip := m.Chip
	K := chip.CrossbarsPerCore
	if s.Start != a || s.End != b {
		t.Errorf("%s: span [%d,%d) reports Start/End %d/%d", label, a, b, s.Start, s.End)
	}
	for u := a; u < b; u++ {
		if c := m.Units[u].Crossbars; c < 1 || c > K {
			t.Errorf("%s: unit %d has %d crossbars; a core has %d", label, u, c, K)
			return
		}
	}
	first, last := m.Units[a].Layer, m.Units[b-1].Layer
	if len(s.Layers) != last-first+1 {
		t.Errorf("%s: span [%d,%d) covers layers %d..%d but has %d layer plans", label, a, b, first, last, len(s.Layers))
		return
	}
	counts := make([]int, K+1)
	used, units := 0, 0
	for i, lp := range s.Layers {
		if lp.Layer != first+i {
			t.Errorf("%s: layer plan %d is for layer %d, want %d", label, i, lp.Layer, first+i)
		}
		if lp.Replicas < 1 {
			t.Errorf("%s: layer %d has %d replicas", label, lp.Layer, lp.Replicas)
		}
		n, xb := 0, 0
		for u := a; u < b; u++ {
			if m.Units[u].Layer == lp.Layer {
				n++
				xb += m.Units[u].Crossbars
				counts[m.Units[u].Crossbars] += lp.Replicas
			}
		}
		if lp.Units != n || lp.Crossbars != xb {
			t.Errorf("%s: layer %d plan has %d units / %d crossbars, the span holds %d / %d", label, lp.Layer, lp.Units, lp.Crossbars, n, xb)
		}
		if math.IsNaN(lp.StageNs) || lp.StageNs < 0 {
			t.Errorf("%s: layer %d stage time %v", label, lp.Layer, lp.StageNs)
		}
		units += n
		used += lp.Replicas * xb
	}
	if units != b-a {
		t.Errorf("%s: layer plans hold %d units, the span %d", label, units, b-a)
	}
	if s.CrossbarsUsed != used {
		t.Errorf("%s: CrossbarsUsed = %d, sum of replicas x crossbars = %d", label, s.CrossbarsUsed, used)
	}
	if s.CrossbarsUsed > chip.Cores*K {
		t.Errorf("%s: span [%d,%d) uses %d crossbars; the chip has %d", label, a, b, s.CrossbarsUsed, chip.Cores*K)
	}
	if !mapping.PackCounts(counts, chip.Cores, K) {
		t.Errorf("%s: span [%d,%d): replicated units %v do not pack into %d cores of %d crossbars (replicas %v)",
			label, a, b, counts, chip.Cores, K, replicas(s))
	}
	for _, v := range []float64{s.TimeNs, s.EnergyPJ} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			t.Errorf("%s: span [%d,%d) time %v ns, energy %v pJ", label, a, b, s.TimeNs, s.EnergyPJ)
			break
		}
	}
}

func replicas(s *estimate.Span) []int {
	r := make([]int, len(s.Layers))
	for i, lp := range s.Layers {
		r[i] = lp.Replicas
	}
	return r
}

// checkPlan checks that p is a valid partitioning for e (cuts strictly
// increasing from 0 to NumUnits, every span inside the validity map), that
// every span's layout obeys the validity rules, and returns its totals.
func checkPlan(t testing.TB, label string, e *estimate.Estimator, p partition.Plan) (partition.Totals, bool) {
	t.Helper()
	n := e.NumUnits()
	c := p.Cuts
	if len(c) < 2 || c[0] != 0 || c[len(c)-1] != n {
		t.Errorf("%s: cuts %s do not run from 0 to %d", label, short(c), n)
		return partition.Totals{}, false
	}
	for i := 0; i+1 < len(c); i++ {
		if c[i] >= c[i+1] {
			t.Errorf("%s: cuts not strictly increasing at %d: %s", label, i, short(c))
			return partition.Totals{}, false
		}
		if c[i+1] > e.MaxEnd(c[i]) {
			t.Errorf("%s: span [%d,%d) is invalid (MaxEnd %d)", label, c[i], c[i+1], e.MaxEnd(c[i]))
			return partition.Totals{}, false
		}
	}
	if p.Partitions() != len(c)-1 {
		t.Errorf("%s: Partitions() = %d with %d cuts", label, p.Partitions(), len(c))
	}
	tot, spans, err := partition.Evaluate(e, p)
	if err != nil {
		t.Errorf("%s: Evaluate: %v", label, err)
		return partition.Totals{}, false
	}
	if len(spans) != len(c)-1 {
		t.Errorf("%s: Evaluate returned %d spans for %d partitions", label, len(spans), len(c)-1)
		return tot, false
	}
	var sumT, sumE float64
	for i, s := range spans {
		checkSpan(t, label, e.Mapping(), s, c[i], c[i+1])
		sumT += s.TimeNs
		sumE += s.EnergyPJ
	}
	if !relClose(tot.TimeNs, sumT, relTol) || !relClose(tot.EnergyPJ, sumE, relTol) || !relClose(tot.Energy.Total(), tot.EnergyPJ, 1e-9) {
		t.Errorf("%s: totals %v ns / %v pJ (components %v pJ) but spans sum to %v ns / %v pJ",
			label, tot.TimeNs, tot.EnergyPJ, tot.Energy.Total(), sumT, sumE)
	}
	if tot.Batch != e.Batch() {
		t.Errorf("%s: Totals.Batch = %d, estimator batch %d", label, tot.Batch, e.Batch())
	}
	return tot, true
}

// short formats cuts for messages, eliding the middle of long lists.
func short(c []int) string {
	if len(c) <= 12 {
		return fmt.Sprint(c)
	}
	return fmt.Sprintf("%v ... %v (%d cuts)", c[:6], c[len(c)-6:], len(c))
}
