package mapping

import "testing"

// Cores of 16 crossbars: where the fill puts items, worked by hand.
func TestCrossbarFill(t *testing.T) {
	for _, c := range []struct{ at, size, core, crossbar, n int }{
		{0, 5, 0, 0, 5},    // the first item, whole on core 0
		{12, 4, 0, 12, 4},  // ends exactly at core 0's end: not split
		{12, 5, 0, 12, 4},  // runs past it: 4 on core 0, the fifth on core 1
		{16, 16, 1, 0, 16}, // a whole core
		{47, 9, 2, 15, 1},  // one crossbar left on core 2
	} {
		core, x, n := CrossbarFill(c.at, c.size, 16)
		if core != c.core || x != c.crossbar || n != c.n {
			t.Errorf("CrossbarFill(%d, %d, 16) = core %d crossbar %d, %d crossbars; want core %d crossbar %d, %d", c.at, c.size, core, x, n, c.core, c.crossbar, c.n)
		}
	}
}
