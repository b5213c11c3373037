package onnx

import (
	"fmt"
	"sort"
	"strings"
)

// Control flow. An If whose condition is known when the model is read (a
// constant, or computed from inputs given values with Options.Inputs) is
// replaced by the branch it takes: the branch's nodes are converted as if
// they stood in the enclosing graph. Loop and Scan are not supported.

// freeNames adds to out the names the subgraph g (and its own subgraphs)
// reads from enclosing scopes.
func freeNames(g *graphProto, out map[string]bool) {
	local := map[string]bool{}
	for _, t := range g.inits {
		local[t.name] = true
	}
	for _, in := range g.inputs {
		local[in.name] = true
	}
	for _, n := range g.nodes {
		for _, o := range n.outputs {
			local[o] = true
		}
	}
	read := map[string]bool{}
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			read[in] = true
		}
		for _, a := range n.attrs {
			if a.g != nil {
				freeNames(a.g, read)
			}
		}
	}
	for _, o := range g.outputs {
		read[o.name] = true
	}
	for name := range read {
		if name != "" && !local[name] {
			out[name] = true
		}
	}
}

// captures sets n.captures for every node with subgraphs: the names its
// branches read from the enclosing graph, sorted, so ordering and use
// counts see them.
func captures(nodes []*nodeProto) {
	for _, n := range nodes {
		free := map[string]bool{}
		for _, a := range n.attrs {
			if a.g != nil {
				freeNames(a.g, free)
			}
		}
		for _, in := range n.inputs {
			delete(free, in)
		}
		n.captures = n.captures[:0]
		for name := range free {
			n.captures = append(n.captures, name)
		}
		sort.Strings(n.captures)
	}
}

func opIf(c *nctx) ([]*val, error) {
	cond, err := c.need(0)
	if err != nil {
		return nil, err
	}
	var vals *values
	if cond.c != nil {
		vals = c.r.maybeValues(cond)
	}
	if vals == nil || len(vals.f) != 1 {
		return nil, c.condError(cond)
	}
	branch := "else_branch"
	if vals.f[0] != 0 {
		branch = "then_branch"
	}
	a := c.attr(branch)
	if a == nil || a.g == nil {
		return nil, c.errf("the condition is %v, but the If has no %s subgraph", vals.f[0], branch)
	}
	outs, err := c.r.inline(a.g)
	if err != nil {
		return nil, c.errf("in its %s: %v", branch, err)
	}
	if len(outs) != len(c.n.outputs) {
		return nil, c.errf("its %s has %d outputs, the If has %d", branch, len(outs), len(c.n.outputs))
	}
	return outs, nil
}

// condError explains an If condition not known at read time: the integer
// graph inputs it depends on and the flag that gives their values, or
// that it depends on the network's activations.
func (c *nctx) condError(cond *val) error {
	var flags, names, data []string
	for _, d := range c.r.inputsBehind(cond.name) {
		v := c.r.vals[d]
		if info, _ := dtype(v.dtype); v.c == nil && (info.kind == kindInt || info.kind == kindUint || info.kind == kindBool) {
			names = append(names, fmt.Sprintf("%q", d))
			flags = append(flags, "--input "+d+":value=VALUE")
		} else {
			data = append(data, fmt.Sprintf("%q", d))
		}
	}
	if len(names) == 0 {
		from := ""
		if len(data) > 0 {
			from = " (from graph input " + strings.Join(data, " and ") + ")"
		}
		return c.errf("its condition %q is computed from the network's activations%s, so the branch cannot be chosen before the network runs: control flow on data is not supported (export the model without the If, or with the branch you want)", cond.name, from)
	}
	return c.errf("its condition %q depends on graph input %s, whose value is not given, so the branch cannot be chosen: give the value, e.g. %s (in the page, the input's value field)",
		cond.name, strings.Join(names, " and "), strings.Join(flags, " "))
}

// inputsBehind lists the graph inputs a value is computed from, sorted.
func (r *reader) inputsBehind(name string) []string {
	seen := map[string]bool{}
	found := map[string]bool{}
	stack := []string{name}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		if r.graphInputs[s] {
			found[s] = true
			continue
		}
		if n := r.producer[s]; n != nil {
			stack = append(stack, n.inputs...)
			stack = append(stack, n.captures...)
		}
	}
	out := make([]string, 0, len(found))
	for s := range found {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// inline converts the nodes of a branch taken and returns its outputs.
func (r *reader) inline(g *graphProto) ([]*val, error) {
	if err := r.initializers(g.inits, true); err != nil {
		return nil, err
	}
	captures(g.nodes)
	order, err := r.order(g)
	if err != nil {
		return nil, err
	}
	if err := unsupported(order); err != nil {
		return nil, err
	}
	r.count(order, g.outputs)
	for _, n := range order {
		if err := r.node(n); err != nil {
			return nil, err
		}
	}
	outs := make([]*val, len(g.outputs))
	for k, o := range g.outputs {
		v, ok := r.vals[o.name]
		if !ok {
			return nil, fmt.Errorf("output %q is not produced by any node of the branch or the enclosing graph", o.name)
		}
		cp := *v
		outs[k] = &cp
	}
	return outs, nil
}
