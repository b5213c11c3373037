package model

// Stats are the static figures of one node (or, summed, of a graph) for one
// inference. They need the input shapes, so they are valid after Infer.
type Stats struct {
	Weights  int64 `json:"weights"`   // Conv/Linear weights that map onto crossbars (no biases)
	Biases   int64 `json:"biases"`    // Conv/Linear biases
	Params   int64 `json:"params"`    // every learned parameter: weights, biases, norm affine, Parameter tensors
	MACs     int64 `json:"macs"`      // multiply-accumulates (Conv, Linear, MatMul)
	VecOps   int64 `json:"vec_ops"`   // element operations on a vector unit (see VectorOpsPerElement)
	OutElems int64 `json:"out_elems"` // elements of the output tensor
}

// Add accumulates t into s.
func (s *Stats) Add(t Stats) {
	s.Weights += t.Weights
	s.Biases += t.Biases
	s.Params += t.Params
	s.MACs += t.MACs
	s.VecOps += t.VecOps
	s.OutElems += t.OutElems
}

// NodeStats returns the statistics of node i. The graph must be inferred.
func (g *Graph) NodeStats(i int) Stats {
	n := g.Nodes[i]
	st := Stats{OutElems: n.Out.Elems()}
	in := func(k int) Shape { return g.Nodes[n.in[k]].Out }
	switch n.Op {
	case OpConv:
		c := n.Conv
		cinPerGroup := int64(in(0)[0] / c.Groups)
		st.Weights = int64(c.OutChannels) * cinPerGroup * int64(c.KernelH*c.KernelW)
		if c.Bias {
			st.Biases = int64(c.OutChannels)
		}
		st.MACs = int64(n.Out[1]*n.Out[2]) * st.Weights
	case OpLinear:
		x := in(0)
		fanIn := int64(x[len(x)-1])
		st.Weights = fanIn * int64(n.Linear.OutFeatures)
		if n.Linear.Bias {
			st.Biases = int64(n.Linear.OutFeatures)
		}
		st.MACs = (x.Elems() / fanIn) * st.Weights
	case OpConvTranspose:
		c := n.Conv
		x := in(0)
		st.Weights = int64(x[0]) * int64(c.OutChannels/c.Groups) * int64(c.KernelH*c.KernelW)
		if c.Bias {
			st.Biases = int64(c.OutChannels)
		}
		st.MACs = int64(x[1]) * int64(x[2]) * st.Weights // every input pixel once through the matrix
	case OpMatMul:
		a := in(0)
		st.MACs = n.Out.Elems() * int64(a[len(a)-1])
	case OpEmbedding:
		st.Params = int64(n.Table[0]) * int64(n.Table[1]) // the table: learned, looked up, not on crossbars
	case OpBatchNorm:
		st.Params = 2 * int64(n.Out[0]) // scale and shift; running statistics are buffers
	case OpLayerNorm:
		st.Params = 2 * int64(n.Out[len(n.Out)-1])
	case OpParameter:
		st.Params = n.Out.Elems()
	}
	st.Params += st.Weights + st.Biases
	st.VecOps = g.vectorOps(n)
	return st
}

// vectorOps counts the element operations a node costs a core's vector
// functional unit, one op being one element-wise add, multiply, compare or
// table look-up:
//   - Conv/Linear: none here (their bias adds and the shift-and-add of bit
//     slices happen in the crossbar periphery); partial sums of input-split
//     layers are counted by the mapping;
//   - ConvTranspose: every input pixel passes once through the matrix and
//     gives kernel area x output channels products, which the vector unit
//     adds into the output where windows overlap: one add per product
//     beyond the first landing on an output element, at least
//     (in H x W x kernel area - out H x W) x output channels;
//   - Elementwise: its mode's cost (ElementwiseMode.OpsPerElem) per output
//     element; LRN: size + 3 per element (square, window sum, scale and
//     power by look-up, divide); Embedding: 1 per output element (one
//     table read each);
//   - BatchNorm: 2 per element (scale, shift); LayerNorm: 5 (mean, variance,
//     subtract, scale, shift); Softmax: 3 (max, exponential by look-up,
//     divide); HardSwish: 3; HardSigmoid, Clip, LeakyReLU: 2; ReLU, Sigmoid,
//     Tanh, GELU (look-up tables): 1;
//   - MaxPool/AvgPool: kernel area per output (AvgPool +1 for the scale);
//     GlobalAvgPool: H x W per output + 1;
//   - Add, Sub, Mul, Div: 1 per output element; MatMul: 1 per MAC;
//   - Resize: nearest none (data movement); linear 3 per output element and
//     resized axis (two multiplies, one add); cubic 7 (four multiplies,
//     three adds);
//   - Reduce: one per input element (mean +1 per output for the scale);
//   - Concat, Flatten, Reshape, Transpose, Slice, Pad, Identity, Input,
//     Parameter, Constant: none (data movement, charged as memory traffic).
func (g *Graph) vectorOps(n *Node) int64 {
	out := n.Out.Elems()
	switch n.Op {
	case OpBatchNorm:
		return 2 * out
	case OpLayerNorm:
		return 5 * out
	case OpSoftmax, OpHardSwish:
		return 3 * out
	case OpHardSigmoid, OpClip, OpLeakyReLU:
		return 2 * out
	case OpReLU, OpSigmoid, OpTanh, OpGELU, OpAdd, OpSub, OpMul, OpDiv:
		return out
	case OpMaxPool:
		return out * int64(n.Pool.KernelH*n.Pool.KernelW)
	case OpAvgPool:
		return out * int64(n.Pool.KernelH*n.Pool.KernelW+1)
	case OpGlobalAvgPool:
		in := g.Nodes[n.in[0]].Out
		return out * (int64(in[1])*int64(in[2]) + 1)
	case OpMatMul:
		a := g.Nodes[n.in[0]].Out
		return out * int64(a[len(a)-1])
	case OpResize:
		in := g.Nodes[n.in[0]].Out
		axes := int64(0)
		for i := range in {
			if in[i] != n.Out[i] {
				axes++
			}
		}
		switch n.Mode {
		case "linear":
			return out * 3 * axes
		case "cubic":
			return out * 7 * axes
		}
		return 0
	case OpReduce:
		in := g.Nodes[n.in[0]].Out.Elems()
		if n.Mode == "mean" {
			return in + out
		}
		return in
	case OpConvTranspose:
		in := g.Nodes[n.in[0]].Out
		products := int64(in[1]) * int64(in[2]) * int64(n.Conv.KernelH*n.Conv.KernelW)
		return max(0, products-int64(n.Out[1])*int64(n.Out[2])) * int64(n.Conv.OutChannels)
	case OpElementwise:
		return elementwiseOps(n, len(n.in))
	case OpLRN:
		return out * int64(n.Size+3)
	case OpEmbedding:
		return out
	}
	return 0
}

// Totals sums NodeStats over the graph. The graph must be inferred.
func (g *Graph) Totals() Stats {
	var t Stats
	for i := range g.Nodes {
		t.Add(g.NodeStats(i))
	}
	return t
}

// CrossbarLayers returns the indices of Conv and Linear nodes in
// topological order: the layers whose weights occupy crossbars.
func (g *Graph) CrossbarLayers() []int {
	var out []int
	for i, n := range g.Nodes {
		if n.Op.Crossbar() {
			out = append(out, i)
		}
	}
	return out
}
