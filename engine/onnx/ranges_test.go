package onnx

import (
	"strings"
	"testing"
)

// TestCapsStateTheirRange: an attribute above its cap is refused with the
// allowed range, bound included, naming the node, the attribute and the
// entry; a value below the range gets the same range, with its own value.
func TestCapsStateTheirRange(t *testing.T) {
	conv := func(attrs ...attr) []byte {
		m := &onnxModel{name: "caps", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "c"}}}
		m.add("c", "Conv", []string{"x", m.init("w", typeFloat, encRaw, nil, 8, 3, 3, 3)}, attrs...)
		return m.bytes()
	}
	pool := func(attrs ...attr) []byte {
		m := &onnxModel{name: "caps", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "p"}}}
		m.add("p", "MaxPool", []string{"x"}, attrs...)
		return m.bytes()
	}
	split := func(sizes ...float64) []byte {
		m := &onnxModel{name: "caps", inputs: []vinfo{img("x", "N", 4)}, outputs: []vinfo{{name: "a"}, {name: "b"}}}
		m.nodes = append(m.nodes, node{name: "sp", op: "Split", in: []string{"x", m.init("sizes", typeInt64, encRaw, sizes, int64(len(sizes)))}, out: []string{"a", "b"}, attrs: []attr{{"axis", 1}}})
		return m.bytes()
	}
	flatten := func(axis int) []byte {
		m := &onnxModel{name: "caps", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "f"}}}
		m.add("f", "Flatten", []string{"x"}, attr{"axis", axis})
		return m.bytes()
	}
	concat := func(axis int) []byte {
		m := &onnxModel{name: "caps", inputs: []vinfo{img("x", "N", 3, 8, 8)}, outputs: []vinfo{{name: "k"}}}
		m.add("k", "Concat", []string{"x", "x"}, attr{"axis", axis})
		return m.bytes()
	}
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"pad above the cap", conv(attr{"pads", i64s(0, 0, 1<<20+1, 0)}), []string{`node "c" (Conv)`, "pads [0 0 1048577 0]", "entry 2 = 1048577", "must be from 0 to 1048576"}},
		{"negative pad", conv(attr{"pads", i64s(0, -1, 0, 0)}), []string{`node "c" (Conv)`, "pads", "entry 1 = -1", "must be from 0 to 1048576"}},
		{"stride above the cap", conv(attr{"strides", i64s(1, 1<<20+1)}), []string{`node "c" (Conv)`, "strides [1 1048577]", "entry 1 = 1048577", "must be from 1 to 1048576"}},
		{"zero stride", conv(attr{"strides", i64s(0, 1)}), []string{`node "c" (Conv)`, "strides", "entry 0 = 0", "must be from 1 to 1048576"}},
		{"dilation above the cap", conv(attr{"dilations", i64s(1<<21, 1)}), []string{`node "c" (Conv)`, "dilations", "entry 0 = 2097152", "must be from 1 to 1048576"}},
		{"kernel above the cap", pool(attr{"kernel_shape", i64s(2, 1<<20+1)}), []string{`node "p" (MaxPool)`, "kernel_shape", "entry 1 = 1048577", "must be from 1 to 1048576"}},
		{"negative kernel", pool(attr{"kernel_shape", i64s(-2, 2)}), []string{`node "p" (MaxPool)`, "kernel_shape", "entry 0 = -2", "must be from 1 to 1048576"}},
		// [6 -2] sums to the axis size 4: the negative size is the fault.
		{"negative split size", split(6, -2), []string{`node "sp" (Split)`, "size 1 = -2 is negative"}},
		{"flatten axis past the rank", flatten(5), []string{`node "f" (Flatten)`, "axis = 5", "must be from -4 to 4"}},
		{"concat axis past the rank", concat(-5), []string{`node "k" (Concat)`, "= -5", "must be from -4 to 3"}},
		{"split sizes that do not add up", split(1, 2), []string{`node "sp" (Split)`, "do not add up", "size 4"}},
	}
	for _, c := range cases {
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
			if strings.Contains(err.Error(), "must be positive") || strings.Contains(err.Error(), "non-negative") {
				t.Errorf("error %q states a one-sided range", err)
			}
		})
	}
}

// TestInputShapeConflict: InputShape and a differing shape set by name
// for the first input are refused, naming the input and both shapes.
func TestInputShapeConflict(t *testing.T) {
	m := &onnxModel{name: "two", inputs: []vinfo{img("x", "N", 3, "H", "W")}, outputs: []vinfo{{name: "r"}}}
	m.add("r", "Relu", []string{"x"})
	_, err := ReadBytes(m.bytes(), Options{InputShape: []int{1, 3, 48, 999}, Inputs: []InputSetting{{Name: "x", Shape: []int{1, 3, 48, 192}}}})
	if err == nil {
		t.Fatal("two shapes for x accepted")
	}
	for _, w := range []string{`"x"`, "[1 3 48 999]", "[1 3 48 192]", "--input-shape", "--input x="} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
