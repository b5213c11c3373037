// Package layout is the stage between the partition search and the
// scheduler: for a plan (the cuts the search chose, each partition's
// per-layer replication) it says, once, where every replica of every unit
// sits and what it holds, and which layer computes each graph node
// (mapping.Owners). The facade reports the placement from it, the
// scheduler compiles every partition from it, and the functional
// simulator checks each crossbar write against it. The rules it realises
// live below it in package mapping, where the estimator reads them too:
// the placement policies with their packing rule and validity map
// (mapping.Policy) and the node-owner rule (mapping.Owners). The layout
// takes each span's replication through Replication, which the estimator
// satisfies, so it depends on no cost model.
//
// A partition's replicas come in the scheduler's order: unit by unit, and
// each unit's replicas in order. A replica has
//
//   - its unit and replica index, and its home: the unit of the same
//     stripe in the partition that adds the partial sums of an
//     input-split stripe and does the layer's vector work (itself
//     when it is not a later split);
//   - the run of the layer's output positions it computes
//     (mapping.ReplicaPositions);
//   - its placement, a list of pieces, each a run of crossbars on one
//     core, together holding the unit's crossbars in order;
//   - the rows programmed in each of its crossbars (mapping.CrossbarRows);
//   - its local-memory buffers and what of them spills to DRAM
//     (mapping.Buffer).
//
// Under mapping.PolicyUnit each replica is one piece, placed by best-fit
// decreasing (mapping.PlaceCores). Under mapping.PolicyCrossbar the cores
// fill crossbar by crossbar and a replica is at most two pieces; its
// first piece is its home: the crossbars of the second read the same
// input, and send their results to the first's core as partial sums,
// which its vector unit adds (costed by the estimator, scheduled and
// simulated like the partial sums of an input-split stripe). Local memory
// is shared by crossbars as under PolicyUnit, a replica's buffers split
// between its pieces' cores as its crossbars are.
package layout

import (
	"fmt"

	"github.com/compass-go/compass/engine/internal/mapping"
)

// Piece is a run of a replica's crossbars on one core: the unit's
// crossbars UnitCrossbar .. UnitCrossbar+Crossbars-1 sit on crossbars
// FirstCrossbar .. FirstCrossbar+Crossbars-1 of core Core.
type Piece struct {
	Core          int
	FirstCrossbar int
	Crossbars     int
	UnitCrossbar  int
}

// Replica is one replica of one unit in a partition, placed.
type Replica struct {
	Unit  int // global unit index
	Layer int // index into Mapping.Layers
	Index int // which replica of the unit, 0 .. replication-1
	Home  int // the unit that adds the stripe's partial sums and does the vector work (Unit itself for a home)
	// StripeLast is the last unit of its stripe in the partition (Unit
	// itself unless the layer's input is split); CarriesOut says the
	// stripe has input splits after the partition, so its home stores the
	// partial sums to DRAM for a later partition to finish rather than
	// finishing the outputs. Both are the stripe's, the same for its
	// units.
	StripeLast int
	CarriesOut bool
	FirstPos   int64 // the first output position it computes
	Positions  int64 // how many
	Pieces     []Piece
	Rows       []int          // matrix rows programmed in each of the unit's crossbars (shared by its replicas: do not modify)
	Buffer     mapping.Buffer // what it keeps in local memory and spills
}

// IsHome reports whether the replica is its stripe's home.
func (r *Replica) IsHome() bool { return r.Home == r.Unit }

// Crossbar is where the unit's crossbar j of this replica sits.
func (r *Replica) Crossbar(j int) (core, crossbar int, ok bool) {
	for _, p := range r.Pieces {
		if j >= p.UnitCrossbar && j < p.UnitCrossbar+p.Crossbars {
			return p.Core, p.FirstCrossbar + j - p.UnitCrossbar, true
		}
	}
	return 0, 0, false
}

// Partition is one partition of the plan, laid out.
type Partition struct {
	Start, End  int   // its units [Start, End)
	FirstLayer  int   // the layer of unit Start
	Replication []int // replicas of each layer FirstLayer, FirstLayer+1, ... of the span
	Replicas    []Replica
}

// Replication of layer l in the partition (0 if it holds none of it).
func (p *Partition) ReplicationOf(l int) int {
	if i := l - p.FirstLayer; i >= 0 && i < len(p.Replication) {
		return p.Replication[i]
	}
	return 0
}

// Span is a partition as New takes it: its units and the replication of
// each of its layers, in order from the layer of unit Start.
type Span struct {
	Start, End int
	Replicas   []int
}

// Layout is a plan laid out on the chip.
type Layout struct {
	Mapping    *mapping.Mapping
	Owners     *mapping.Owners
	Policy     mapping.Policy
	Partitions []Partition
}

// Replication gives each span of a plan its per-layer replication; the
// estimator (*estimate.Estimator) satisfies it with the replication it
// chose when it costed the span under the placement policy's packing
// rule.
type Replication interface {
	Mapping() *mapping.Mapping
	Policy() mapping.Policy
	// Replicas is the replication of each layer of units [start, end),
	// in order from the layer of unit start.
	Replicas(start, end int) ([]int, error)
}

// FromPlan lays out the plan with the given cuts (0 = c0 < ... < ck =
// units), each partition replicated as r says, under r's policy.
func FromPlan(r Replication, cuts []int) (*Layout, error) {
	m := r.Mapping()
	if m == nil {
		return nil, fmt.Errorf("layout: nil mapping")
	}
	if len(cuts) < 2 {
		return nil, fmt.Errorf("a plan needs at least two cuts (0 and %d), not %v", len(m.Units), cuts)
	}
	spans := make([]Span, 0, len(cuts)-1)
	for i := 0; i+1 < len(cuts); i++ {
		reps, err := r.Replicas(cuts[i], cuts[i+1])
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", i, err)
		}
		spans = append(spans, Span{Start: cuts[i], End: cuts[i+1], Replicas: reps})
	}
	return New(m, spans, r.Policy())
}

// New lays out the plan whose partitions are spans (contiguous, from
// unit 0 to the last) under a placement policy. A span whose replicas do
// not fit the chip is an error naming it.
func New(m *mapping.Mapping, spans []Span, policy mapping.Policy) (*Layout, error) {
	if m == nil {
		return nil, fmt.Errorf("layout: nil mapping")
	}
	if err := policy.Check(); err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	lay := &Layout{Mapping: m, Owners: mapping.NewOwners(m), Policy: policy, Partitions: make([]Partition, len(spans))}
	rows := make([][]int, len(m.Units)) // per unit, made on first use
	next := 0
	for pi, s := range spans {
		if s.Start != next || s.End <= s.Start || s.End > len(m.Units) {
			return nil, fmt.Errorf("layout: partition %d spans units [%d, %d); it must start at unit %d and end after it, by unit %d", pi, s.Start, s.End, next, len(m.Units))
		}
		next = s.End
		first, last := m.Units[s.Start].Layer, m.Units[s.End-1].Layer
		if len(s.Replicas) != last-first+1 {
			return nil, fmt.Errorf("layout: partition %d holds layers %d..%d but has %d replication counts", pi, first, last, len(s.Replicas))
		}
		for i, r := range s.Replicas {
			if r < 1 {
				return nil, fmt.Errorf("layout: partition %d gives layer %q %d replicas; every layer needs at least 1", pi, m.Layers[first+i].Name, r)
			}
		}
		p := &lay.Partitions[pi]
		p.Start, p.End, p.FirstLayer = s.Start, s.End, first
		p.Replication = append([]int(nil), s.Replicas...)
		home, last := s.Start, s.Start // the stripe of the unit at hand: its first and last units in the span
		for u := s.Start; u < s.End; u++ {
			unit := m.Units[u]
			l := m.Layers[unit.Layer]
			reps := s.Replicas[unit.Layer-first]
			if rows[u] == nil {
				rows[u] = m.CrossbarRows(u)
			}
			if !continuesStripe(m, s.Start, u) {
				home, last = u, u
				for last+1 < s.End && continuesStripe(m, s.Start, last+1) {
					last++
				}
			}
			carriesOut := m.Units[last].InputSplit < l.InputSplits-1
			for k := 0; k < reps; k++ {
				firstPos, positions := mapping.ReplicaPositions(l.Positions, reps, k)
				p.Replicas = append(p.Replicas, Replica{Unit: u, Layer: unit.Layer, Index: k, Home: home, StripeLast: last, CarriesOut: carriesOut,
					FirstPos: firstPos, Positions: positions, Rows: rows[u], Buffer: m.ReplicaBuffer(u, positions)})
			}
		}
		place := placeUnits
		if policy == mapping.PolicyCrossbar {
			place = placeCrossbars
		}
		if err := place(m, p); err != nil {
			return nil, fmt.Errorf("layout: partition %d: %w", pi, err)
		}
	}
	if next != len(m.Units) {
		return nil, fmt.Errorf("layout: the partitions end at unit %d; they must cover all %d units", next, len(m.Units))
	}
	return lay, nil
}

// continuesStripe reports whether unit u, in a partition starting at unit
// start, continues the stripe of unit u-1: a later input split of the
// same layer's same outputs.
func continuesStripe(m *mapping.Mapping, start, u int) bool {
	return u > start && m.Units[u-1].Layer == m.Units[u].Layer && m.Units[u-1].OutStart == m.Units[u].OutStart && m.Units[u].InputSplit > 0
}

// placeUnits is PolicyUnit: each replica whole on one core, best-fit
// decreasing.
func placeUnits(m *mapping.Mapping, p *Partition) error {
	sizes := make([]int, len(p.Replicas))
	for i, r := range p.Replicas {
		sizes[i] = m.Units[r.Unit].Crossbars
	}
	core, off, ok := mapping.PlaceCores(sizes, m.Chip.Cores, m.Chip.CrossbarsPerCore)
	if !ok {
		return fmt.Errorf("units [%d, %d) with their replication do not place on the chip's %d cores of %d crossbars", p.Start, p.End, m.Chip.Cores, m.Chip.CrossbarsPerCore)
	}
	pieces := make([]Piece, len(p.Replicas))
	for i := range p.Replicas {
		pieces[i] = Piece{Core: core[i], FirstCrossbar: off[i], Crossbars: sizes[i]}
		p.Replicas[i].Pieces = pieces[i : i+1 : i+1]
	}
	return nil
}

// placeCrossbars is PolicyCrossbar: the cores filled crossbar by
// crossbar, replicas in order, a replica that does not fit what is left of
// a core continuing on the next.
func placeCrossbars(m *mapping.Mapping, p *Partition) error {
	K := m.Chip.CrossbarsPerCore
	at := 0 // the fill's offset over the cores
	for i := range p.Replicas {
		r := &p.Replicas[i]
		size := m.Units[r.Unit].Crossbars
		r.Pieces = nil
		for done := 0; done < size; {
			core, x, n := mapping.CrossbarFill(at, size-done, K)
			if core >= m.Chip.Cores {
				return fmt.Errorf("units [%d, %d) with their replication need more than the chip's %d cores of %d crossbars", p.Start, p.End, m.Chip.Cores, K)
			}
			r.Pieces = append(r.Pieces, Piece{Core: core, FirstCrossbar: x, Crossbars: n, UnitCrossbar: done})
			done += n
			at += n
		}
	}
	return nil
}

// CoresUsed is the number of distinct cores the partition's pieces
// occupy.
func (p *Partition) CoresUsed() int {
	seen := map[int]bool{}
	for _, r := range p.Replicas {
		for _, pc := range r.Pieces {
			seen[pc.Core] = true
		}
	}
	return len(seen)
}
