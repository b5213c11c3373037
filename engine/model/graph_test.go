package model

import (
	"fmt"
	"strings"
	"testing"
)

// tinyCNN is conv(3->8, 3x3, pad 1) -> BN -> ReLU -> maxpool 2 -> flatten -> linear(10).
func tinyCNN() *Builder {
	b := NewBuilder("tiny")
	x := b.Input("x", 3, 8, 8)
	x = b.Conv("conv", x, Conv2D(8, 3, 1, 1).WithBias())
	x = b.Unary(OpBatchNorm, "bn", x)
	x = b.Unary(OpReLU, "relu", x)
	x = b.Pool(OpMaxPool, "pool", x, Pool2D(2, 2, 0))
	x = b.Flatten("flat", x, 0)
	b.Linear("fc", x, 10, true)
	return b
}

func TestTinyCNNShapesAndStats(t *testing.T) {
	g, err := tinyCNN().Build()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Shape{"x": {3, 8, 8}, "conv": {8, 8, 8}, "bn": {8, 8, 8}, "pool": {8, 4, 4}, "flat": {128}, "fc": {10}}
	for name, s := range want {
		if got := g.Nodes[g.Index(name)].Out; !got.Equal(s) {
			t.Errorf("%s: shape %v, want %v", name, got, s)
		}
	}
	conv := g.NodeStats(g.Index("conv"))
	if conv.Weights != 8*3*3*3 || conv.Biases != 8 || conv.MACs != 8*8*8*3*3*3 || conv.OutElems != 512 {
		t.Errorf("conv stats %+v", conv)
	}
	fc := g.NodeStats(g.Index("fc"))
	if fc.Weights != 128*10 || fc.Biases != 10 || fc.MACs != 1280 {
		t.Errorf("fc stats %+v", fc)
	}
	if bn := g.NodeStats(g.Index("bn")); bn.Params != 16 || bn.Weights != 0 || bn.VecOps != 2*512 {
		t.Errorf("bn stats %+v", bn)
	}
	// Vector work: ReLU one op per element, a 2x2 max pool four per output.
	if r := g.NodeStats(g.Index("relu")); r.VecOps != 512 {
		t.Errorf("relu vector ops %d", r.VecOps)
	}
	if p := g.NodeStats(g.Index("pool")); p.VecOps != 4*128 {
		t.Errorf("pool vector ops %d", p.VecOps)
	}
	if conv.VecOps != 0 || fc.VecOps != 0 {
		t.Errorf("crossbar layers charge no vector ops here: %d, %d", conv.VecOps, fc.VecOps)
	}
	tot := g.Totals()
	if tot.Params != 216+8+16+1280+10 {
		t.Errorf("total params %d", tot.Params)
	}
	if got := g.CrossbarLayers(); len(got) != 2 || g.Nodes[got[0]].Name != "conv" || g.Nodes[got[1]].Name != "fc" {
		t.Errorf("crossbar layers %v", got)
	}
}

func TestTopologicalOrderIsStableAndReorders(t *testing.T) {
	g := New("order")
	// Added out of order: c consumes b which consumes a.
	g.Add(&Node{Name: "c", Op: OpReLU, Inputs: []string{"b"}})
	g.Add(&Node{Name: "a", Op: OpInput, Shape: Shape{4}})
	g.Add(&Node{Name: "b", Op: OpReLU, Inputs: []string{"a"}})
	g.Add(&Node{Name: "d", Op: OpAdd, Inputs: []string{"a", "c"}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,c,d" {
		t.Fatalf("order %s", got)
	}
	if p := g.Producers(g.Index("d")); len(p) != 2 || p[0] != 0 || p[1] != 2 {
		t.Errorf("producers of d: %v", p)
	}
	if c := g.Consumers(0); len(c) != 2 || c[0] != 1 || c[1] != 3 {
		t.Errorf("consumers of a: %v", c)
	}
	// A graph already in order keeps it.
	g2, _ := tinyCNN().Build()
	want := []string{"x", "conv", "bn", "relu", "pool", "flat", "fc"}
	for i, n := range g2.Nodes {
		if n.Name != want[i] {
			t.Fatalf("node %d is %s, want %s", i, n.Name, want[i])
		}
	}
}

func TestInferErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *Graph)
		want  []string
	}{
		{"empty", func(g *Graph) {}, []string{"no nodes"}},
		{"cycle", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "a", Op: OpAdd, Inputs: []string{"x", "c"}})
			g.Add(&Node{Name: "b", Op: OpReLU, Inputs: []string{"a"}})
			g.Add(&Node{Name: "c", Op: OpReLU, Inputs: []string{"b"}})
		}, []string{"cycle", `"a"`, `"b"`, `"c"`}},
		{"self loop", func(g *Graph) {
			g.Add(&Node{Name: "a", Op: OpReLU, Inputs: []string{"a"}})
		}, []string{"cycle", `"a"`}},
		{"dangling", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "r", Op: OpReLU, Inputs: []string{"ghost"}})
		}, []string{`"r"`, `"ghost"`, "dangling"}},
		{"duplicate", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "x", Op: OpReLU, Inputs: []string{"x"}})
		}, []string{`"x"`, "twice"}},
		{"unknown op", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: "Frobnicate"})
		}, []string{`"Frobnicate"`, "supported ops", "Conv"}},
		{"arity", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4}})
			g.Add(&Node{Name: "a", Op: OpAdd, Inputs: []string{"x"}})
		}, []string{`"a"`, "1 inputs", "exactly 2"}},
		{"add mismatch", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{8, 4, 4}})
			g.Add(&Node{Name: "y", Op: OpInput, Shape: Shape{16, 4, 4}})
			g.Add(&Node{Name: "sum", Op: OpAdd, Inputs: []string{"x", "y"}})
		}, []string{`"sum"`, "[8,4,4]", "[16,4,4]"}},
		{"concat mismatch", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{8, 4, 4}})
			g.Add(&Node{Name: "y", Op: OpInput, Shape: Shape{8, 2, 2}})
			g.Add(&Node{Name: "cat", Op: OpConcat, Inputs: []string{"x", "y"}})
		}, []string{`"cat"`, "[8,2,2]", "[8,4,4]"}},
		{"matmul inner", func(g *Graph) {
			g.Add(&Node{Name: "q", Op: OpInput, Shape: Shape{5, 7}})
			g.Add(&Node{Name: "k", Op: OpInput, Shape: Shape{6, 9}})
			g.Add(&Node{Name: "mm", Op: OpMatMul, Inputs: []string{"q", "k"}})
		}, []string{`"mm"`, "[5,7]", "[6,9]"}},
		{"conv rank", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{10}})
			g.Add(&Node{Name: "c", Op: OpConv, Inputs: []string{"x"}, Conv: ptr(Conv2D(4, 3, 1, 1))})
		}, []string{`"c"`, "[10]", "[C,H,W]"}},
		{"conv groups", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{6, 8, 8}})
			g.Add(&Node{Name: "c", Op: OpConv, Inputs: []string{"x"}, Conv: ptr(Conv2D(8, 3, 1, 1).WithGroups(4))})
		}, []string{`"c"`, "input channels 6", "groups = 4"}},
		{"conv kernel too big", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, 4, 4}})
			g.Add(&Node{Name: "c", Op: OpConv, Inputs: []string{"x"}, Conv: ptr(Conv2D(8, 7, 1, 0))})
		}, []string{`"c"`, "7x7", "empty"}},
		{"conv zero stride", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, 4, 4}})
			c := Conv2D(8, 3, 1, 1)
			c.StrideH = 0
			g.Add(&Node{Name: "c", Op: OpConv, Inputs: []string{"x"}, Conv: &c})
		}, []string{`"c"`, "stride_h = 0"}},
		{"conv missing attrs", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, 4, 4}})
			g.Add(&Node{Name: "c", Op: OpConv, Inputs: []string{"x"}})
		}, []string{`"c"`, "missing conv attributes"}},
		{"linear out", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3}})
			g.Add(&Node{Name: "fc", Op: OpLinear, Inputs: []string{"x"}, Linear: &LinearSpec{}})
		}, []string{`"fc"`, "out_features = 0"}},
		{"reshape count", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, 4}})
			g.Add(&Node{Name: "r", Op: OpReshape, Inputs: []string{"x"}, Shape: Shape{5, -1}})
		}, []string{`"r"`, "[3,4]", "[5,-1]"}},
		{"transpose perm", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, 4}})
			g.Add(&Node{Name: "t", Op: OpTranspose, Inputs: []string{"x"}, Perm: []int{0, 0}})
		}, []string{`"t"`, "permutation"}},
		{"huge input", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{1 << 30, 1 << 30, 4}})
		}, []string{`"x"`, "too large"}},
		{"negative dim", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, -4}})
		}, []string{`"x"`, "-4"}},
		{"clip range", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3}})
			g.Add(&Node{Name: "c", Op: OpClip, Inputs: []string{"x"}, Min: 6, Max: 0})
		}, []string{`"c"`, "[6, 0]"}},
		{"flatten axis", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{2, 3, 4}})
			g.Add(&Node{Name: "f", Op: OpFlatten, Inputs: []string{"x"}, Axis: -4})
		}, []string{`"f"`, "axis = -4"}},
		{"softmax axis", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3}})
			g.Add(&Node{Name: "s", Op: OpSoftmax, Inputs: []string{"x"}, Axis: 2})
		}, []string{`"s"`, "axis = 2"}},
		{"slice range", func(g *Graph) {
			g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{3, 5}})
			g.Add(&Node{Name: "s", Op: OpSlice, Inputs: []string{"x"}, Axis: 1, Start: 4, End: 9})
		}, []string{`"s"`, "[4, 9)", "size 5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := New("bad")
			tc.build(g)
			err := g.Infer()
			if err == nil {
				t.Fatal("Infer accepted a bad graph")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if g.Inferred() {
				t.Error("graph marked inferred after an error")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestShapeRules(t *testing.T) {
	cases := []struct {
		name string
		in   []Shape
		node Node
		want Shape
	}{
		{"conv stride 2 pad 3 (resnet stem)", []Shape{{3, 224, 224}}, Node{Op: OpConv, Conv: ptr(Conv2D(64, 7, 2, 3))}, Shape{64, 112, 112}},
		{"conv dilation 2", []Shape{{4, 10, 10}}, Node{Op: OpConv, Conv: &ConvSpec{OutChannels: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 2, DilationW: 2, Groups: 1}}, Shape{2, 6, 6}},
		{"asymmetric pad", []Shape{{1, 5, 5}}, Node{Op: OpConv, Conv: &ConvSpec{OutChannels: 1, KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1, PadTop: 0, PadBottom: 1, PadLeft: 1, PadRight: 0, DilationH: 1, DilationW: 1, Groups: 1}}, Shape{1, 5, 5}},
		{"maxpool floor", []Shape{{64, 112, 112}}, Node{Op: OpMaxPool, Pool: ptr(Pool2D(3, 2, 1))}, Shape{64, 56, 56}},
		// SqueezeNet: 111 -> ceil((111-3)/2)+1 = 55; 55 -> 27; 27 -> 13.
		{"maxpool ceil 111", []Shape{{96, 111, 111}}, Node{Op: OpMaxPool, Pool: ptr(Pool2D(3, 2, 0).Ceil())}, Shape{96, 55, 55}},
		{"maxpool ceil 56", []Shape{{8, 56, 56}}, Node{Op: OpMaxPool, Pool: ptr(Pool2D(3, 2, 0).Ceil())}, Shape{8, 28, 28}},
		{"maxpool floor 56", []Shape{{8, 56, 56}}, Node{Op: OpMaxPool, Pool: ptr(Pool2D(3, 2, 0))}, Shape{8, 27, 27}},
		// Ceil mode drops a window that would start in the right padding only.
		{"ceil no window in padding", []Shape{{1, 5, 5}}, Node{Op: OpMaxPool, Pool: ptr(Pool2D(2, 2, 1).Ceil())}, Shape{1, 3, 3}},
		{"global avg", []Shape{{512, 7, 7}}, Node{Op: OpGlobalAvgPool}, Shape{512, 1, 1}},
		{"flatten 0", []Shape{{512, 7, 7}}, Node{Op: OpFlatten}, Shape{25088}},
		{"flatten 1", []Shape{{768, 14, 14}}, Node{Op: OpFlatten, Axis: 1}, Shape{768, 196}},
		{"flatten -1", []Shape{{2, 3, 4}}, Node{Op: OpFlatten, Axis: -1}, Shape{2, 3, 4}},
		{"flatten rank", []Shape{{2, 3, 4}}, Node{Op: OpFlatten, Axis: 3}, Shape{2, 3, 4, 1}},
		{"linear on tokens", []Shape{{197, 768}}, Node{Op: OpLinear, Linear: &LinearSpec{OutFeatures: 3072}}, Shape{197, 3072}},
		{"broadcast", []Shape{{8, 4, 4}, {8, 1, 1}}, Node{Op: OpMul}, Shape{8, 4, 4}},
		{"broadcast rank", []Shape{{197, 768}, {768}}, Node{Op: OpAdd}, Shape{197, 768}},
		{"concat channels", []Shape{{64, 55, 55}, {64, 55, 55}}, Node{Op: OpConcat}, Shape{128, 55, 55}},
		{"concat negative axis", []Shape{{1, 768}, {196, 768}}, Node{Op: OpConcat, Axis: -2}, Shape{197, 768}},
		{"reshape -1", []Shape{{197, 768}}, Node{Op: OpReshape, Shape: Shape{197, 12, -1}}, Shape{197, 12, 64}},
		{"transpose", []Shape{{197, 12, 64}}, Node{Op: OpTranspose, Perm: []int{1, 0, 2}}, Shape{12, 197, 64}},
		{"matmul transB", []Shape{{12, 197, 64}, {12, 197, 64}}, Node{Op: OpMatMul, TransposeB: true}, Shape{12, 197, 197}},
		{"matmul", []Shape{{12, 197, 197}, {12, 197, 64}}, Node{Op: OpMatMul}, Shape{12, 197, 64}},
		{"slice token", []Shape{{197, 768}}, Node{Op: OpSlice, Axis: 0, Start: 0, End: 1}, Shape{1, 768}},
		{"slice negative", []Shape{{10, 4}}, Node{Op: OpSlice, Axis: -2, Start: -3, End: 10}, Shape{3, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := New("s")
			var ins []string
			for i, s := range tc.in {
				name := string(rune('a' + i))
				g.Add(&Node{Name: name, Op: OpInput, Shape: s})
				ins = append(ins, name)
			}
			n := tc.node
			n.Name, n.Inputs = "out", ins
			g.Add(&n)
			if err := g.Infer(); err != nil {
				t.Fatal(err)
			}
			if got := g.Nodes[g.Index("out")].Out; !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGroupedConvStats(t *testing.T) {
	b := NewBuilder("dw")
	x := b.Input("x", 32, 14, 14)
	b.Conv("dw", x, Conv2D(32, 3, 2, 1).WithGroups(32))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	st := g.NodeStats(1)
	if st.Weights != 32*9 || st.MACs != 7*7*32*9 {
		t.Errorf("depthwise stats %+v", st)
	}
}

func TestAttentionStats(t *testing.T) {
	b := NewBuilder("attn")
	q := b.Input("q", 4, 10, 8)
	k := b.Input("k", 4, 10, 8)
	b.MatMul("s", q, k, true)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	st := g.NodeStats(g.Index("s"))
	if st.Weights != 0 || st.MACs != 4*10*10*8 {
		t.Errorf("matmul stats %+v", st)
	}
}

// TestImportOps covers the op kinds an imported model can use beyond the
// zoo's: Constant, Pad, Resize, Reduce and strided Slice.
func TestImportOps(t *testing.T) {
	b := NewBuilder("ops")
	x := b.Input("x", 4, 8, 8)
	k := b.Node(&Node{Name: "k", Op: OpConstant, Shape: Shape{4, 1, 1}})
	y := b.Binary(OpMul, "scale", x, k)
	p := b.Node(&Node{Name: "pad", Op: OpPad, Inputs: []string{y}, Pads: []int{0, 1, 2, 0, 3, -1}})
	up := b.Node(&Node{Name: "up", Op: OpResize, Inputs: []string{p}, Shape: Shape{4, 24, 18}, Mode: "linear"})
	nn := b.Node(&Node{Name: "nn", Op: OpResize, Inputs: []string{up}, Shape: Shape{4, 48, 18}})
	r := b.Node(&Node{Name: "mean", Op: OpReduce, Inputs: []string{nn}, Axes: []int{-1, 1}, Mode: "mean"})
	rk := b.Node(&Node{Name: "max", Op: OpReduce, Inputs: []string{nn}, Axes: []int{0}, KeepDims: true, Mode: "max"})
	all := b.Node(&Node{Name: "sum", Op: OpReduce, Inputs: []string{rk}, Axes: []int{0, 1, 2}, Mode: "sum"})
	s := b.Node(&Node{Name: "odd", Op: OpSlice, Inputs: []string{nn}, Axis: 1, Start: 1, End: 48, Step: 2})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Shape{"k": {4, 1, 1}, "scale": {4, 8, 8}, "pad": {4, 12, 9}, "up": {4, 24, 18}, "nn": {4, 48, 18},
		"mean": {4}, "max": {1, 48, 18}, "sum": {1}, "odd": {4, 24, 18}}
	for name, sh := range want {
		if got := g.Nodes[g.Index(name)].Out; !got.Equal(sh) {
			t.Errorf("%s: shape %v, want %v", name, got, sh)
		}
	}
	_, _, _ = r, all, s
	st := func(name string) Stats { return g.NodeStats(g.Index(name)) }
	if c := st("k"); c.Params != 0 || c.VecOps != 0 || c.OutElems != 4 {
		t.Errorf("a Constant is no learned parameter and no work: %+v", c)
	}
	if v := st("pad").VecOps; v != 0 {
		t.Errorf("pad vector ops %d", v)
	}
	if v := st("up").VecOps; v != 4*24*18*3*2 { // linear, two resized axes
		t.Errorf("linear resize vector ops %d", v)
	}
	if v := st("nn").VecOps; v != 0 {
		t.Errorf("nearest resize vector ops %d", v)
	}
	if v := st("mean").VecOps; v != 4*48*18+4 {
		t.Errorf("mean vector ops %d", v)
	}
	if v := st("max").VecOps; v != 4*48*18 {
		t.Errorf("max vector ops %d", v)
	}
	for _, c := range []struct {
		n    *Node
		want string
	}{
		{&Node{Name: "bad", Op: OpPad, Inputs: []string{"x"}, Pads: []int{0, 0}}, "pads"},
		{&Node{Name: "bad", Op: OpPad, Inputs: []string{"x"}, Pads: []int{0, -8, 0, 0, 0, 0}}, "positive"},
		{&Node{Name: "bad", Op: OpResize, Inputs: []string{"x"}, Shape: Shape{4, 8}}, "rank"},
		{&Node{Name: "bad", Op: OpResize, Inputs: []string{"x"}, Shape: Shape{4, 8, 8}, Mode: "area"}, "mode"},
		{&Node{Name: "bad", Op: OpReduce, Inputs: []string{"x"}, Axes: []int{1, -2}, Mode: "mean"}, "twice"},
		{&Node{Name: "bad", Op: OpReduce, Inputs: []string{"x"}, Axes: []int{3}, Mode: "mean"}, "out of range"},
		{&Node{Name: "bad", Op: OpReduce, Inputs: []string{"x"}, Mode: "mean"}, "axes is empty"},
		{&Node{Name: "bad", Op: OpReduce, Inputs: []string{"x"}, Axes: []int{0}, Mode: "prod"}, "mode"},
		{&Node{Name: "bad", Op: OpSlice, Inputs: []string{"x"}, Axis: 0, Start: 0, End: 2, Step: -1}, "step"},
		{&Node{Name: "bad", Op: OpConstant}, "shape is empty"},
		{&Node{Name: "bad", Op: OpConstant, Inputs: []string{"x"}, Shape: Shape{1}}, "inputs"},
	} {
		g := New("bad")
		g.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{4, 8, 8}})
		g.Add(c.n)
		if err := g.Infer(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: error %v, want %q", c.n.Op, c.n, err, c.want)
		}
	}
}

// TestNewOpRules: the shape rules and vector costs of ConvTranspose,
// Elementwise, LRN and Embedding, and their errors.
func TestNewOpRules(t *testing.T) {
	g := New("ops")
	add := func(n *Node) { g.Add(n) }
	add(&Node{Name: "x", Op: OpInput, Shape: Shape{8, 5, 5}})
	add(&Node{Name: "ids", Op: OpInput, Shape: Shape{7}})
	add(&Node{Name: "up", Op: OpConvTranspose, Inputs: []string{"x"}, Conv: &ConvSpec{OutChannels: 4, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2,
		PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, DilationH: 1, DilationW: 1, Groups: 2, OutPadH: 1, OutPadW: 0}})
	add(&Node{Name: "k", Op: OpConstant, Shape: Shape{1, 1}})
	add(&Node{Name: "sum", Op: OpElementwise, Mode: "sum", Inputs: []string{"up", "up", "k"}})
	add(&Node{Name: "where", Op: OpElementwise, Mode: "where", Inputs: []string{"up", "sum", "k"}})
	add(&Node{Name: "lrn", Op: OpLRN, Size: 5, Inputs: []string{"where"}})
	add(&Node{Name: "emb", Op: OpEmbedding, Table: Shape{100, 16}, Inputs: []string{"ids"}})
	if err := g.Infer(); err != nil {
		t.Fatal(err)
	}
	// (5-1)x2 - 2 + 2 + 1 + 1 = 10 rows, (5-1)x2 - 2 + 2 + 1 = 9 columns.
	for name, want := range map[string]string{"up": "[4,10,9]", "sum": "[4,10,9]", "where": "[4,10,9]", "lrn": "[4,10,9]", "emb": "[7,16]"} {
		if got := g.Nodes[g.Index(name)].Out.String(); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	// 8 input channels x 2 outputs per group x 9 taps; 25 pixels; 225
	// products per channel on 90 outputs.
	if st := g.NodeStats(g.Index("up")); st.Weights != 144 || st.MACs != 3600 || st.VecOps != (225-90)*4 || st.Params != 144 {
		t.Errorf("up %+v", st)
	}
	for name, want := range map[string]int64{"sum": 360 * 2, "where": 360, "lrn": 360 * 8, "emb": 112} {
		if st := g.NodeStats(g.Index(name)); st.VecOps != want {
			t.Errorf("%s: %d vector ops, want %d", name, st.VecOps, want)
		}
	}
	if st := g.NodeStats(g.Index("emb")); st.Params != 1600 || st.Weights != 0 {
		t.Errorf("emb %+v", st)
	}
	if !OpConvTranspose.Crossbar() || OpEmbedding.Crossbar() || OpElementwise.Crossbar() {
		t.Error("crossbar classification")
	}
	for _, c := range []struct {
		n    *Node
		want string
	}{
		{&Node{Name: "e", Op: OpElementwise, Mode: "cosh", Inputs: []string{"x"}}, "not an element-wise function"},
		{&Node{Name: "e", Op: OpElementwise, Mode: "where", Inputs: []string{"x", "x"}}, "takes 3 operands"},
		{&Node{Name: "e", Op: OpElementwise, Mode: "pow", Inputs: []string{"x"}}, "takes 2 operands"},
		{&Node{Name: "e", Op: OpLRN, Inputs: []string{"x"}}, "size = 0"},
		{&Node{Name: "e", Op: OpEmbedding, Table: Shape{4}, Inputs: []string{"x"}}, "[rows, width]"},
		{&Node{Name: "e", Op: OpConvTranspose, Inputs: []string{"x"}, Conv: &ConvSpec{OutChannels: 4, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1, Groups: 1, OutPadH: 2}}, "output padding"},
		{&Node{Name: "e", Op: OpConvTranspose, Inputs: []string{"x"}, Conv: &ConvSpec{OutChannels: 4, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1, PadTop: 3, PadBottom: 3}}, "crops away"},
	} {
		h := New("bad")
		h.Add(&Node{Name: "x", Op: OpInput, Shape: Shape{8, 5, 5}})
		h.Add(c.n)
		if err := h.Infer(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: error %v, want %q", c.n.Op, c.n.Mode, err, c.want)
		}
	}
}

// BeforeEveryLayer marks exactly the vector nodes fed, through other
// such nodes, by graph inputs, parameters and constants alone.
func TestBeforeEveryLayer(t *testing.T) {
	b := NewBuilder("pre")
	x := b.Input("x", 3, 4, 4)
	y := b.Input("y", 3, 4, 4)
	s := b.Binary(OpAdd, "s", b.Unary(OpReLU, "rx", x), y)
	c := b.Conv("c", s, Conv2D(3, 1, 1, 0))
	b.Binary(OpAdd, "after", b.Unary(OpReLU, "rc", c), b.Unary(OpReLU, "ry", y))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, isPre := range g.BeforeEveryLayer() {
		if isPre {
			got = append(got, g.Nodes[i].Name)
		}
	}
	if want := []string{"rx", "s", "ry"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("BeforeEveryLayer = %v, want %v", got, want)
	}
}
