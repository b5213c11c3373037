package mapping

import (
	"testing"

	"github.com/compass-go/compass/engine/model/zoo"
)

// The crossbars of a layer's units hold every weight of its matrix
// exactly once: each block lies within its group's rows and outputs and
// within one crossbar (rows and cell columns), a unit's blocks hold its
// cells, and the blocks of all units cover the matrix without overlap.
func TestCrossbarsHoldTheMatrixOnce(t *testing.T) {
	for _, name := range []string{"resnet18", "squeezenet1_1", "mobilenet_v2", "googlenet", "alexnet"} {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, chipName := range []string{"S", "M", "L", "ReRAM"} {
			chip := preset(t, chipName)
			m, err := Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range m.Layers {
				total := int64(l.Rows) * int64(l.Cols) * int64(l.Groups)
				var seen []bool
				if total <= 1<<22 {
					seen = make([]bool, total)
				}
				var area int64
				for u := l.FirstUnit; u < l.FirstUnit+l.NumUnits; u++ {
					unit := m.Units[u]
					var cells int64
					rows := m.CrossbarRows(u)
					for j := range unit.Crossbars {
						blocks, err := m.Crossbar(u, j)
						if err != nil || len(blocks) == 0 {
							t.Fatalf("%s %s unit %d crossbar %d: %v, %d blocks", name, l.Name, u, j, err, len(blocks))
						}
						usedRows, usedCols := 0, 0
						for _, b := range blocks {
							if b.Group < 0 || b.Group >= l.Groups || b.RowStart < 0 || b.RowEnd > l.Rows || b.RowStart >= b.RowEnd ||
								b.OutStart < b.Group*l.Cols || b.OutEnd > (b.Group+1)*l.Cols || b.OutStart >= b.OutEnd ||
								b.OutStart < unit.OutStart || b.OutEnd > unit.OutEnd {
								t.Fatalf("%s %s unit %d crossbar %d: block %+v outside its group's matrix or its unit", name, l.Name, u, j, b)
							}
							usedRows += b.RowEnd - b.RowStart
							usedCols += (b.OutEnd - b.OutStart) * l.ColsPerWeight
							n := int64(b.RowEnd-b.RowStart) * int64(b.OutEnd-b.OutStart)
							cells += n * int64(l.ColsPerWeight)
							area += n
							if seen == nil {
								continue
							}
							for o := b.OutStart; o < b.OutEnd; o++ {
								for r := b.RowStart; r < b.RowEnd; r++ {
									k := int64(o)*int64(l.Rows) + int64(r)
									if seen[k] {
										t.Fatalf("%s %s: weight (%d, %d) on two crossbars", name, l.Name, o, r)
									}
									seen[k] = true
								}
							}
						}
						if usedRows > chip.CrossbarRows || usedCols > chip.CrossbarCols || usedRows != rows[j] {
							t.Fatalf("%s %s unit %d crossbar %d: %d rows (CrossbarRows says %d) and %d columns on a %dx%d crossbar", name, l.Name, u, j, usedRows, rows[j], usedCols, chip.CrossbarRows, chip.CrossbarCols)
						}
					}
					if cells != unit.Cells {
						t.Fatalf("%s %s unit %d: its crossbars hold %d cells, the unit %d", name, l.Name, u, cells, unit.Cells)
					}
					if _, err := m.Crossbar(u, unit.Crossbars); err == nil {
						t.Fatalf("%s %s unit %d: a crossbar past its last is accepted", name, l.Name, u)
					}
				}
				if area != total {
					t.Fatalf("%s on %s: layer %s: its crossbars hold %d weights of %d", name, chipName, l.Name, area, total)
				}
			}
		}
	}
}
