package onnx

import (
	"fmt"
	"strings"
	"testing"
)

// reshapeBy returns a model that reshapes x [N,3,8,8] to the constant
// Concat([1], r), where r is op over the int64 constant vals (all axes,
// keepdims), so the Reshape target is [1, op(vals)].
func reshapeBy(op string, dtype int32, vals ...int64) []byte {
	m := &onnxModel{name: "fold", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "y"}}}
	v := m.init("v", dtype, encRaw, f64s(vals...), int64(len(vals)))
	m.add("r", op, []string{v}, attr{"keepdims", 1})
	m.add("cat", "Concat", []string{m.init("one", typeInt64, encRaw, f64s(1), 1), "r"}, attr{"axis", 0})
	m.add("y", "Reshape", []string{"x", "cat"})
	return m.bytes()
}

// TestReduceFoldsSmallInts: ReduceSum, ReduceProd, ReduceMax, ReduceMin
// and ReduceMean of a small integer constant are evaluated, so a Reshape
// whose target they compute reads; each target is 192 = 3*8*8 elements.
func TestReduceFoldsSmallInts(t *testing.T) {
	for _, c := range []struct {
		op   string
		vals []int64
	}{
		{"ReduceSum", []int64{100, 92}},
		{"ReduceProd", []int64{3, 8, 8}},
		{"ReduceMax", []int64{7, 192, -3}},
		{"ReduceMin", []int64{192, 500, 1000}},
		{"ReduceMean", []int64{100, 284}},
	} {
		g, err := ReadBytes(reshapeBy(c.op, typeInt64, c.vals...), Options{})
		if err != nil {
			t.Errorf("%s %v: %v", c.op, c.vals, err)
			continue
		}
		if out := g.Nodes[len(g.Nodes)-1].Out.String(); out != "[192]" {
			t.Errorf("%s %v: the reshape gives %s, want [192]", c.op, c.vals, out)
		}
	}
}

// TestReduceInts: reductions over some axes, by hand, and the cases that
// stay unknown with their reason.
func TestReduceInts(t *testing.T) {
	m := &values{f: []float64{1, 2, 3, 4, 5, 6}, i: []int64{1, 2, 3, 4, 5, 6}} // [[1 2 3] [4 5 6]]
	for _, c := range []struct {
		op   string
		red  []bool
		want string
	}{
		{"sum", []bool{false, true}, "[6 15]"},
		{"sum", []bool{true, false}, "[5 7 9]"},
		{"prod", []bool{true, true}, "[720]"},
		{"max", []bool{true, false}, "[4 5 6]"},
		{"min", []bool{false, true}, "[1 4]"},
	} {
		v, why := reduceInts(c.op, m, []int{2, 3}, c.red)
		if v == nil || fmt.Sprint(v.i) != c.want || fmt.Sprint(v.f) != c.want {
			t.Errorf("%s over %v: %v (%s), want %s", c.op, c.red, v, why, c.want)
		}
	}
	// [[2 4] [6 8]] over axis 0: whole means [4 6]; [[1 2 3] [4 5 6]]
	// over axis 0: means 2.5, 3.5, 4.5 are not whole.
	if v, why := reduceInts("mean", &values{f: []float64{2, 4, 6, 8}, i: []int64{2, 4, 6, 8}}, []int{2, 2}, []bool{true, false}); v == nil || fmt.Sprint(v.i) != "[4 6]" || fmt.Sprint(v.f) != "[4 6]" {
		t.Errorf("mean: %v (%s)", v, why)
	}
	if v, why := reduceInts("mean", m, []int{2, 3}, []bool{true, false}); v != nil || !strings.Contains(why, "not a whole number") {
		t.Errorf("mean of [1 4]: %v %q", v, why)
	}
	big := &values{f: []float64{1 << 62, 1 << 62}, i: []int64{1 << 62, 1 << 62}}
	if v, why := reduceInts("sum", big, []int{2}, []bool{true}); v != nil || !strings.Contains(why, "overflows") {
		t.Errorf("sum overflow: %v %q", v, why)
	}
	if v, why := reduceInts("prod", big, []int{2}, []bool{true}); v != nil || !strings.Contains(why, "overflows") {
		t.Errorf("product overflow: %v %q", v, why)
	}
	neg := &values{f: []float64{-1 << 62, -2}, i: []int64{-1 << 62, -2}}
	if v, why := reduceInts("sum", neg, []int{2}, []bool{true}); v == nil || v.i[0] != -1<<62-2 {
		t.Errorf("negative sum: %v %q", v, why)
	}
	if v, why := reduceInts("max", &values{f: []float64{}, i: []int64{}}, []int{0}, []bool{true}); v != nil || !strings.Contains(why, "empty axis") {
		t.Errorf("max of nothing: %v %q", v, why)
	}
}

// TestUnknownConstantNamesItsSource: a constant whose values the reader
// cannot compute is named with the node that computes it, the node where
// the unknown values start, and why.
func TestUnknownConstantNamesItsSource(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want []string
	}{
		{"an operator not evaluated", reshapeBy("ReduceL2", typeInt64, 3, 4),
			[]string{`node "y" (Reshape)`, `constant "cat"`, `node "cat" (Concat) computes it from unknown values`, `node "r" (ReduceL2) computes "r"`, "does not evaluate ReduceL2"}},
		{"a product that overflows", reshapeBy("ReduceProd", typeInt64, 1<<40, 1<<40),
			[]string{`node "cat" (Concat)`, `node "r" (ReduceProd) computes "r"`, "product overflows 64-bit integers"}},
		{"a float reduction", reshapeBy("ReduceSum", typeFloat, 100, 92),
			[]string{`node "r" (ReduceSum) computes "r"`, "integer values only"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadBytes(c.data, Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
