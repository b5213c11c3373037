package model

import "fmt"

// NodeError reports what is wrong with one node of a graph: a node of the
// IR (Graph.Infer's checks: unknown op, arity, dangling input, duplicate
// name, cycle, weight_bits, shapes) or of an imported file (the ONNX
// reader's checks of one node). Front ends find it with errors.As, through
// the facade's InputError, to name the node beside the field at fault.
type NodeError struct {
	// Node is the node's name. An ONNX node without one is named as the
	// IR names it: by its first output. (An IR node without a name, which
	// front ends cannot point at, is reported as a plain error.)
	Node string
	// Op is the node's operator as the graph gives it (an IR op such as
	// "Conv", or an ONNX op type); "" when the op is not one the IR knows.
	Op  string
	Err error // what is wrong and how to fix it
}

func (e *NodeError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("node %q: %v", e.Node, e.Err)
	}
	return fmt.Sprintf("node %q (%s): %v", e.Node, e.Op, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// nodeErrorf returns a *NodeError for n with a formatted message.
func nodeErrorf(n *Node, format string, a ...any) error {
	return &NodeError{Node: n.Name, Op: string(n.Op), Err: fmt.Errorf(format, a...)}
}
