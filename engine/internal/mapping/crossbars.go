package mapping

import "fmt"

// Block is a block of a layer's weight matrix that one crossbar holds:
// matrix rows [RowStart, RowEnd) of group Group's matrix against output
// channels [OutStart, OutEnd) (over all groups). A crossbar of a dense
// layer holds one block; a crossbar of a packed grouped convolution holds
// one block per group, on its diagonal (the blocks' rows and columns
// stacked in order).
type Block struct {
	Group            int
	RowStart, RowEnd int
	OutStart, OutEnd int
}

// Crossbar lists the blocks that crossbar j (0 .. Crossbars-1) of unit u
// holds. This is the one rule for how a unit's rows and columns spread
// over its crossbars: the crossbars of a dense unit go stripe by stripe,
// each stripe's row blocks of CrossbarRows rows in order; a packed unit's
// crossbar j holds groups GroupsPerCrossbar x j onwards.
func (m *Mapping) Crossbar(u, j int) ([]Block, error) {
	unit := m.Units[u]
	l := m.Layers[unit.Layer]
	if j < 0 || j >= unit.Crossbars {
		return nil, fmt.Errorf("unit %d of layer %q has %d crossbars, not a crossbar %d", u, l.Name, unit.Crossbars, j)
	}
	if l.GroupsPerCrossbar > 1 {
		g0 := unit.OutStart/l.Cols + j*l.GroupsPerCrossbar
		var blocks []Block
		for g := g0; g < min(g0+l.GroupsPerCrossbar, unit.OutEnd/l.Cols); g++ {
			blocks = append(blocks, Block{Group: g, RowStart: 0, RowEnd: l.Rows, OutStart: g * l.Cols, OutEnd: (g + 1) * l.Cols})
		}
		return blocks, nil
	}
	R := m.Chip.CrossbarRows
	nb := ceilDiv(unit.RowEnd-unit.RowStart, R)
	s, rb := j/nb, j%nb
	// Stripes are blocks of whole weights across one crossbar, group
	// after group; the unit's stripes start at its first output.
	per := m.Chip.CrossbarCols / l.ColsPerWeight
	blocks := ceilDiv(l.Cols, per)
	g := unit.OutStart / l.Cols
	b := (unit.OutStart-g*l.Cols)/per + s
	g, b = g+b/blocks, b%blocks
	o0 := g*l.Cols + b*per
	r0 := unit.RowStart + rb*R
	return []Block{{Group: g, RowStart: r0, RowEnd: min(unit.RowEnd, r0+R), OutStart: o0, OutEnd: g*l.Cols + min((b+1)*per, l.Cols)}}, nil
}

// CrossbarRows lists the matrix rows programmed in each crossbar of unit
// u (Crossbar's blocks, their rows summed).
func (m *Mapping) CrossbarRows(u int) []int {
	rows := make([]int, m.Units[u].Crossbars)
	for j := range rows {
		blocks, _ := m.Crossbar(u, j) // j is in range
		for _, b := range blocks {
			rows[j] += b.RowEnd - b.RowStart
		}
	}
	return rows
}
