package schedule

import (
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/mapping"
)

// contributions is how many SENDs and LOAD_DATAs a RECV of a tensor
// waits for, per input: per tensor in the per-input pipeline, per band of
// the tensor's rows in the row pipeline (its row counters).
type contributions struct {
	whole map[int]int64    // node -> contributions (per-input pipeline)
	band  map[[2]int]int64 // (node, band) -> contributions (row pipeline), nil otherwise
}

// of is the contributions to band j of tensor n.
func (c contributions) of(n, j int) int64 {
	if c.band == nil {
		return c.whole[n]
	}
	return c.band[[2]int{n, j}]
}

// homeSends lists, per item that sends its layer's tensors on chip (a
// home whose stripe finishes in the span), the nodes it sends (the nodes
// before every layer excepted: their own thread sends them whole).
func homeSends(m *mapping.Mapping, s *estimate.Span, items []item, sendsOf map[int][]int, pre []bool) [][]int {
	out := make([][]int, len(items))
	for i, it := range items {
		if it.home != it.unit || it.carryOut {
			continue
		}
		for _, n := range sendsOf[m.Units[it.unit].Layer] {
			if !pre[n] {
				out[i] = append(out[i], n)
			}
		}
	}
	return out
}

// rowContributions counts, for the row pipeline, the contributions to
// each band of each tensor the partition moves: every chunk of every home
// that sends a tensor contributes to the band its rows fall in, a node
// before every layer once per home (it moves whole, one band), and the
// loader once to every band of an entry.
func rowContributions(e *estimate.Estimator, owners *mapping.Owners, items []item, sends [][]int, pre []bool, entries []int) map[[2]int]int64 {
	m := e.Mapping()
	c := map[[2]int]int64{}
	for i, it := range items {
		if len(sends[i]) == 0 {
			continue
		}
		for _, ch := range e.Chunks(m.Units[it.unit].Layer, it.firstPos, it.positions) {
			for _, n := range sends[i] {
				c[[2]int{n, e.ChunkBand(n, ch)}]++
			}
		}
	}
	homes := map[int]int64{} // layer -> its home items
	for _, it := range items {
		if it.home == it.unit {
			homes[m.Units[it.unit].Layer]++
		}
	}
	for n, isPre := range pre {
		if isPre && homes[owners.Of(n)] > 0 {
			c[[2]int{n, 0}] += homes[owners.Of(n)]
		}
	}
	for _, ent := range entries {
		for j := range e.Bands(ent) {
			c[[2]int{ent, j}]++
		}
	}
	return c
}
