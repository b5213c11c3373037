package onnx

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// nested returns a model whose single node is an If whose then_branch
// holds an If whose then_branch holds ... depth levels deep.
func nested(depth int) []byte {
	var g pb // innermost graph
	g.msg(1, func(n *pb) { n.str(2, "y"); n.str(4, "Identity") })
	for i := 0; i < depth; i++ {
		inner := g.b
		var ng pb
		ng.msg(1, func(n *pb) {
			n.str(1, "x")
			n.str(2, "y")
			n.str(4, "If")
			n.msg(5, func(a *pb) { a.str(1, "then_branch"); a.bytes(6, inner); a.varint(20, attrGraph) })
		})
		g = ng
	}
	var p pb
	p.msg(7, func(q *pb) {
		q.b = append(q.b, g.b...)
		q.msg(11, (&vinfo{name: "x", dims: []any{1, 4}}).write)
		q.msg(12, (&vinfo{name: "y"}).write)
	})
	return p.b
}

func withNode(n node) []byte {
	m := &onnxModel{name: "bad", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: n.out[0]}}}
	m.nodes = append(m.nodes, n)
	return m.bytes()
}

func withInit(t *tensor) []byte {
	m := &onnxModel{name: "bad", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "c"}}}
	m.inits = append(m.inits, t)
	m.add("c", "Conv", []string{"x", t.name})
	return m.bytes()
}

func TestBadInputs(t *testing.T) {
	good, _ := convChain(encRaw)
	goodBytes := good.bytes()
	huge := &tensor{name: "w", dtype: typeFloat, dims: []int64{1000000, 1000000}, enc: encNone}
	hugeBytes := func() []byte {
		m := &onnxModel{name: "bad", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "c"}}}
		m.inits = append(m.inits, huge)
		m.add("c", "Conv", []string{"x", "w"})
		b := m.bytes()
		return b
	}()
	var wrongWire pb // NodeProto.op_type (field 4) as a varint
	wrongWire.msg(7, func(g *pb) { g.msg(1, func(n *pb) { n.varint(4, 7) }) })
	var group pb
	group.b = protowire.AppendTag(group.b, 7, protowire.StartGroupType)
	var longLen pb
	longLen.b = protowire.AppendTag(longLen.b, 7, protowire.BytesType)
	longLen.b = protowire.AppendVarint(longLen.b, 1<<40)
	cycle := &onnxModel{name: "cyc", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "b"}}}
	cycle.nodes = []node{{name: "A", op: "Add", in: []string{"x", "b"}, out: []string{"a"}}, {name: "B", op: "Relu", in: []string{"a"}, out: []string{"b"}}}
	missing := &onnxModel{name: "miss", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "a"}}}
	missing.nodes = []node{{name: "A", op: "Add", in: []string{"x", "ghost"}, out: []string{"a"}}}
	dup := &onnxModel{name: "dup", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "a"}}}
	dup.nodes = []node{{name: "A", op: "Relu", in: []string{"x"}, out: []string{"a"}}, {name: "B", op: "Relu", in: []string{"x"}, out: []string{"a"}}}
	dynReshape := &onnxModel{name: "dyn", inputs: []vinfo{img("x", "N", 4), img("s", 2)}, outputs: []vinfo{{name: "r"}}}
	dynReshape.nodes = []node{{name: "R", op: "Reshape", in: []string{"x", "s"}, out: []string{"r"}}}
	noShape := &onnxModel{name: "ns", inputs: []vinfo{{name: "x"}}, outputs: []vinfo{{name: "r"}}}
	noShape.nodes = []node{{name: "R", op: "Relu", in: []string{"x"}, out: []string{"r"}}}
	actWeight := &onnxModel{name: "aw", inputs: []vinfo{img("x", "N", 3, 8, 8), img("w", 8, 3, 3, 3)}, outputs: []vinfo{{name: "c"}}}
	actWeight.nodes = []node{{name: "C", op: "Conv", in: []string{"x", "w"}, out: []string{"c"}}}

	cases := []struct {
		name string
		data []byte
		opt  Options
		want []string // substrings of the error
	}{
		{"empty", nil, Options{}, []string{"empty"}},
		{"truncated", goodBytes[:len(goodBytes)/2], Options{}, []string{"truncated"}},
		{"truncated tag", goodBytes[:1], Options{}, []string{"truncated"}},
		{"not protobuf", []byte("hello, world: this is plain text"), Options{}, []string{"onnx:"}},
		{"JSON", []byte(`{"name": "x", "nodes": []}`), Options{}, []string{"JSON"}},
		{"Git LFS pointer", []byte("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 26454\n"), Options{}, []string{"Git LFS pointer"}},
		{"wrong wire type", wrongWire.b, Options{}, []string{"NodeProto.op_type", "wire type varint"}},
		{"group wire type", group.b, Options{}, []string{"wire type 3"}},
		{"length past the end", longLen.b, Options{}, []string{"claims 1099511627776 bytes"}},
		{"tensor claims 10^12 elements", hugeBytes, Options{}, []string{`initializer "w"`, "1000000000000 elements", "no data"}},
		{"raw_data size mismatch", withInit(&tensor{name: "w", dtype: typeFloat, dims: []int64{8, 3, 3, 3}, enc: encRaw, vals: nil}), Options{}, nil},
		{"dims overflow", withInit(&tensor{name: "w", dtype: typeFloat, dims: []int64{1 << 40, 1 << 40}, enc: encNone}), Options{}, []string{"overflows"}},
		{"negative dim", withInit(&tensor{name: "w", dtype: typeFloat, dims: []int64{-3, 4}, enc: encNone}), Options{}, []string{"dimension 0 = -3"}},
		{"unknown data type", withInit(&tensor{name: "w", dtype: 99, dims: []int64{4}, enc: encNone}), Options{}, []string{"unknown data type 99"}},
		{"a cycle", cycle.bytes(), Options{}, []string{"cycle", `"A"`, `"B"`}},
		{"a missing input", missing.bytes(), Options{}, []string{"ghost", "missing input"}},
		{"a value produced twice", dup.bytes(), Options{}, []string{`"a" is produced twice`}},
		{"an unsupported op", withNode(node{name: "nms", op: "NonMaxSuppression", in: []string{"x"}, out: []string{"y"}}), Options{}, []string{`"nms"`, `"NonMaxSuppression" (1 node`, "does not support"}},
		{"a loop", withNode(node{name: "lp", op: "Loop", in: []string{"x"}, out: []string{"y"}}), Options{}, []string{`"lp"`, `"Loop"`, "loops cannot be unrolled"}},
		{"a foreign domain", func() []byte {
			m := &onnxModel{name: "d", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "y"}}}
			m.nodes = []node{{name: "ms", op: "FusedGemm", in: []string{"x"}, out: []string{"y"}}}
			b := m.bytes()
			return b
		}(), Options{}, []string{"FusedGemm"}},
		{"deeply nested graphs", nested(2000), Options{}, []string{"nested more than 8 deep"}},
		{"dynamic reshape target", dynReshape.bytes(), Options{}, []string{`"R"`, "must be a constant"}},
		{"input without shape", noShape.bytes(), Options{}, []string{`"x" has no shape`, "--input x="}},
		{"computed conv weights", actWeight.bytes(), Options{}, []string{`"C"`, "weight", "constant"}},
		{"file too large", goodBytes, Options{MaxBytes: 100}, []string{"larger than 100 ", "MaxBytes"}},
		{"bad input shape", goodBytes, Options{InputShape: []int{1, 3, 0, 32}}, []string{"model fixes it to 32"}},
	}
	// raw_data of the wrong size: write 8 bytes for 216 floats.
	cases[10].data = func() []byte {
		m := &onnxModel{name: "bad", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "c"}}}
		m.inits = append(m.inits, &tensor{name: "w", dtype: typeFloat, dims: []int64{2}, enc: encRaw})
		m.inits[0].dims = []int64{8, 3, 3, 3}
		b := m.bytes()
		// Re-encode the initializer with 8 bytes of raw data.
		var p pb
		p.varint(1, 1)
		p.msg(8, func(q *pb) { q.varint(2, 17) })
		p.msg(7, func(g *pb) {
			g.msg(1, (&node{name: "C", op: "Conv", in: []string{"x", "w"}, out: []string{"c"}}).write)
			g.msg(5, func(t *pb) {
				for _, d := range []int64{8, 3, 3, 3} {
					t.varint(1, uint64(d))
				}
				t.varint(2, typeFloat)
				t.str(8, "w")
				t.bytes(9, make([]byte, 8))
			})
			g.msg(11, (&vinfo{name: "x", dims: []any{1, 3, 8, 8}}).write)
			g.msg(12, (&vinfo{name: "c"}).write)
		})
		_ = b
		return p.b
	}()
	cases[10].want = []string{"216 elements", "864 bytes", "holds 8 bytes"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			g, err := ReadBytes(c.data, c.opt)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("accepted: %d nodes", len(g.Nodes))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Errorf("error %q does not say it comes from the ONNX reader", err)
			}
			// Memory stays bounded whatever the file declares.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

// TestErrorsNameTheNode: shape errors inside an operator name its node.
func TestErrorsNameTheNode(t *testing.T) {
	m := &onnxModel{name: "e", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "c"}}}
	m.add("c", "Conv", []string{"x", m.init("w", typeFloat, encRaw, nil, 8, 4, 3, 3)})
	_, err := ReadBytes(m.bytes(), Options{})
	if err == nil || !strings.Contains(err.Error(), `node "c" (Conv)`) || !strings.Contains(err.Error(), "input channels") {
		t.Fatalf("error %v", err)
	}
	// Concatenating on the batch axis.
	m = &onnxModel{name: "e", inputs: []vinfo{img("x", "N", 3)}, outputs: []vinfo{{name: "c"}}}
	m.add("c", "Concat", []string{"x", "x"}, attr{"axis", 0})
	if _, err := ReadBytes(m.bytes(), Options{}); err == nil || !strings.Contains(err.Error(), "batch axis") {
		t.Fatalf("concat on batch: %v", err)
	}
}

// TestManyNodesIsFast: sorting and naming are not quadratic in the node
// count (a 1 MB file can hold hundreds of thousands of empty nodes).
func TestManyNodesIsFast(t *testing.T) {
	var p pb
	p.msg(7, func(g *pb) {
		for i := 0; i < maxNodes; i++ {
			g.bytes(1, nil)
		}
		g.msg(11, (&vinfo{name: "x", dims: []any{1, 4}}).write)
	})
	if _, err := ReadBytes(p.b, Options{}); err == nil || !strings.Contains(err.Error(), `"" (262144 nodes`) {
		t.Fatalf("empty nodes: %v", err)
	}
	// A chain of 50000 ReLUs that all have the same node name.
	m := &onnxModel{name: "chain", inputs: []vinfo{img("x", "N", 4)}}
	prev := "x"
	for i := 0; i < 50000; i++ {
		out := "v" + string(rune('a'+i%26)) + itoa(i)
		m.nodes = append(m.nodes, node{name: "relu", op: "Relu", in: []string{prev}, out: []string{out}})
		prev = out
	}
	m.outputs = []vinfo{{name: prev}}
	g, err := ReadBytes(m.bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 50001 || g.Nodes[50000].Name != "relu#50000" {
		t.Fatalf("%d nodes, last %q", len(g.Nodes), g.Nodes[len(g.Nodes)-1].Name)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestOpTableSorted(t *testing.T) {
	for i, d := range opDefs {
		if i > 0 && opDefs[i-1].name >= d.name {
			t.Fatalf("opDefs not sorted at %q", d.name)
		}
		if findOp(d.name) != &opDefs[i] {
			t.Fatalf("findOp(%q)", d.name)
		}
	}
	if findOp("NonMaxSuppression") != nil || findOp("") != nil || findOp("zzz") != nil {
		t.Fatal("findOp finds unknown operators")
	}
	if ops := SupportedOps(); len(ops) != len(opDefs) || ops[1] != "Add" {
		t.Fatalf("SupportedOps %v", ops)
	}
}

// TestManyUnsupportedOpsIsFast: listing 262,144 distinct unsupported
// operators is linear, and the message lists them all.
func TestManyUnsupportedOpsIsFast(t *testing.T) {
	var p pb
	p.msg(7, func(g *pb) {
		for i := 0; i < maxNodes; i++ {
			g.msg(1, func(n *pb) { n.str(2, "y"+itoa(i)); n.str(4, "Op"+itoa(i)) })
		}
		g.msg(11, (&vinfo{name: "x", dims: []any{1, 4}}).write)
	})
	_, err := ReadBytes(p.b, Options{})
	var u *UnsupportedOpsError
	if !errors.As(err, &u) {
		t.Fatalf("%T", err)
	}
	if len(u.Ops) != maxNodes || u.Ops[maxNodes-1].Op != "Op"+itoa(maxNodes-1) {
		t.Fatalf("%d operators listed", len(u.Ops))
	}
	// The message names the first 32 and counts the rest.
	if msg := err.Error(); len(msg) > 4096 || !strings.Contains(msg, `"Op31" (1 node, first "y31"); and 262112 more`) {
		t.Fatalf("message of %d bytes: %.300s", len(msg), msg)
	}
}
