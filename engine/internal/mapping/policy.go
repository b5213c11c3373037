package mapping

import "fmt"

// Policy is a placement policy: how the replicas of a partition's units
// become pieces on cores, and with it which spans fit the chip (ValidEnds,
// the validity map) and which replications pack (Packs). The estimator,
// the validity map and the layout stage (package layout, which places the
// replicas) read this one rule.
//
//   - PolicyUnit keeps every replica whole on one core, placed by
//     best-fit decreasing (PlaceCores, the placement whose existence
//     PackCounts and Mapping.ValidEnds decide).
//   - PolicyCrossbar fills the cores crossbar by crossbar, replicas in
//     order: a replica that does not fit what is left of a core continues
//     on the next one, so a span fits when its crossbars do (the bound
//     ceil(crossbars / crossbars_per_core) cores) and a replica is at most
//     two pieces (a unit never has more crossbars than a core).
type Policy string

// The placement policies.
const (
	PolicyUnit     Policy = "unit"
	PolicyCrossbar Policy = "crossbar"
)

// Policies lists the placement policies, the default first.
func Policies() []Policy { return []Policy{PolicyUnit, PolicyCrossbar} }

// Check reports an unknown policy, naming the known ones.
func (p Policy) Check() error {
	for _, q := range Policies() {
		if p == q {
			return nil
		}
	}
	return fmt.Errorf("placement policy %q is not one of %q", p, Policies())
}

// Packs reports whether items of the given crossbar counts (counts[s]
// items of s crossbars, s = 1 .. perCore) fit cores cores of perCore
// crossbars under the policy.
func (p Policy) Packs(counts []int, cores, perCore int) bool {
	if p == PolicyCrossbar {
		var total int64
		for s, c := range counts {
			total += int64(s) * int64(c)
		}
		return total <= int64(cores)*int64(perCore)
	}
	return PackCounts(counts, cores, perCore)
}

// ValidEnds is the validity map of m under the policy, in the compact
// form of Mapping.ValidEnds: [a, b) is valid iff a < b <= ValidEnds[a].
// The returned slice must not be modified.
func (p Policy) ValidEnds(m *Mapping) []int {
	if p != PolicyCrossbar {
		return m.ValidEnds()
	}
	// A span fits when its crossbars do: two pointers over the units.
	n := len(m.Units)
	ends := make([]int, n)
	capacity := m.Chip.Cores * m.Chip.CrossbarsPerCore
	b, sum := 0, 0
	for a := range n {
		if b < a {
			b, sum = a, 0
		}
		for b < n && sum+m.Units[b].Crossbars <= capacity {
			sum += m.Units[b].Crossbars
			b++
		}
		ends[a] = b
		if b > a {
			sum -= m.Units[a].Crossbars
		}
	}
	return ends
}

// CrossbarFill is where PolicyCrossbar's fill puts an item (a replica, or
// what is left of one) of size crossbars that starts at fill offset at,
// the fill running over cores of perCore crossbars in order (offset o is
// crossbar o mod perCore of core o / perCore): the item starts on core
// core at crossbar crossbar, and that core holds its first n crossbars
// (size when it holds the whole item); the rest continue at offset at+n,
// the first crossbar of the next core. The layout places replicas by it
// and the estimator finds the replicas it splits by it.
func CrossbarFill(at, size, perCore int) (core, crossbar, n int) {
	core, crossbar = at/perCore, at%perCore
	return core, crossbar, min(size, perCore-crossbar)
}
