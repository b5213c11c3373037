package mapping

import (
	"github.com/compass-go/compass/engine/model"
)

// Owners says which layer computes each graph node: a Conv/Linear node is
// its own layer's; a vector node runs on the cores of the latest layer
// among its producers (so its operands are there or arrive there), and one
// fed only by graph inputs on the first layer that consumes it; graph
// inputs, parameters and constants have no owner (-1): a partition that
// needs them loads them from DRAM. The estimator costs, the scheduler
// compiles and the functional simulator requantises by this one rule.
type Owners struct {
	owner []int   // graph node -> layer (index into Mapping.Layers), or -1
	nodes [][]int // layer -> the nodes it owns, its own node first
}

// External reports whether a node's tensor comes from outside the chip's
// computation (graph inputs, learned parameters, imported constants): no
// layer owns it, and a partition that needs it loads it from DRAM.
func External(op model.Op) bool {
	return op == model.OpInput || op == model.OpParameter || op == model.OpConstant
}

// NewOwners assigns every node of the mapping's graph to a layer.
func NewOwners(m *Mapping) *Owners {
	g := m.Graph
	n := len(g.Nodes)
	o := &Owners{owner: make([]int, n), nodes: make([][]int, len(m.Layers))}
	layerOfNode := make([]int, n)
	for i := range layerOfNode {
		layerOfNode[i] = -1
	}
	for li, l := range m.Layers {
		layerOfNode[l.Node] = li
	}
	for i, nd := range g.Nodes {
		switch {
		case layerOfNode[i] >= 0:
			o.owner[i] = layerOfNode[i]
		case External(nd.Op):
			o.owner[i] = -1
		default:
			// A vector node joins the latest layer among its producers.
			w := -1
			for _, p := range g.Producers(i) {
				w = max(w, o.owner[p])
			}
			o.owner[i] = w
		}
	}
	// Vector nodes fed only by graph inputs run with the first layer that
	// consumes them.
	for i := n - 1; i >= 0; i-- {
		if o.owner[i] >= 0 || External(g.Nodes[i].Op) {
			continue
		}
		w := len(m.Layers) - 1
		for _, c := range g.Consumers(i) {
			if o.owner[c] >= 0 {
				w = min(w, o.owner[c])
			}
		}
		o.owner[i] = w
	}
	for i, w := range o.owner {
		if w >= 0 {
			o.nodes[w] = append(o.nodes[w], i)
		}
	}
	return o
}

// Of is the layer (index into the mapping's layers) whose cores compute
// graph node i, or -1 for graph inputs, parameters and constants.
func (o *Owners) Of(i int) int { return o.owner[i] }

// Nodes lists the graph nodes layer l owns, in topological order (its own
// Conv/Linear node after any vector node fed only by graph inputs).
func (o *Owners) Nodes(l int) []int { return o.nodes[l] }
