package partition

import "github.com/compass-go/compass/engine/internal/estimate"

// layerEnd is one past the last unit of the layer that unit u belongs to.
func layerEnd(e *estimate.Estimator, u int) int {
	m := e.Mapping()
	l := m.Layers[m.Units[u].Layer]
	return l.FirstUnit + l.NumUnits
}

// Greedy is the paper's greedy baseline: walk the layers in order and pack
// as many consecutive whole layers into each partition as fit. A layer that
// does not fit an empty chip on its own is cut at the largest valid span,
// and its remainder opens the next partition, which goes on packing whole
// layers after it.
func Greedy(e *estimate.Estimator) Plan {
	n := e.NumUnits()
	cuts := []int{0}
	for a := 0; a < n; {
		b := a
		for b < n {
			next := layerEnd(e, b)
			if next > e.MaxEnd(a) {
				break
			}
			b = next
		}
		if b == a { // the layer (or its remainder) alone exceeds the chip
			b = e.MaxEnd(a)
		}
		cuts = append(cuts, b)
		a = b
	}
	return Plan{Cuts: cuts}
}

// Layerwise is the paper's layerwise baseline: one Conv/Linear layer per
// partition, with the vector work it owns. A layer larger than the chip is
// cut into as few valid spans as possible, greedily.
func Layerwise(e *estimate.Estimator) Plan {
	n := e.NumUnits()
	cuts := []int{0}
	for a := 0; a < n; {
		b := min(layerEnd(e, a), e.MaxEnd(a))
		cuts = append(cuts, b)
		a = b
	}
	return Plan{Cuts: cuts}
}
