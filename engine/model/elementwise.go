package model

import (
	"fmt"
	"strings"
)

// ElementwiseMode is one function an Elementwise node computes: how many
// operands it takes and what it costs the vector unit per output element.
type ElementwiseMode struct {
	Name         string
	MinIn, MaxIn int   // operand count; MaxIn < 0: any number
	OpsPerElem   int64 // vector ops per output element (n-ary modes: per operand after the first)
	Nary         bool  // OpsPerElem is charged once per operand after the first
}

// elementwiseModes lists the Elementwise functions, sorted by name. Costs
// count one vector op per add, multiply, compare, select or table look-up:
// transcendental functions (exp, log, erf, sqrt, reciprocal, sin, cos,
// softplus) are one look-up; the activations elu, selu, celu and mish a
// look-up and a select or multiply (two), softsign an add and a divide,
// prelu a compare and a multiply by the slope; pow is three (log look-up, multiply, exp look-up); mod is two
// (divide, multiply-subtract); quantize is three (scale, round, clamp),
// dequantize two (subtract the zero point, scale); dynamic_quantize five
// (min and max over the tensor, then quantize); n-ary sum, max and min one
// per operand after the first, mean one more for the scale; expand (the
// first operand broadcast to the shape of the second, a constant) one copy.
var elementwiseModes = [...]ElementwiseMode{
	{"abs", 1, 1, 1, false},
	{"and", 2, 2, 1, false},
	{"ceil", 1, 1, 1, false},
	{"celu", 1, 1, 2, false},
	{"cos", 1, 1, 1, false},
	{"dequantize", 1, 1, 2, false},
	{"dynamic_quantize", 1, 1, 5, false},
	{"elu", 1, 1, 2, false},
	{"equal", 2, 2, 1, false},
	{"erf", 1, 1, 1, false},
	{"exp", 1, 1, 1, false},
	{"expand", 2, 2, 1, false},
	{"floor", 1, 1, 1, false},
	{"greater", 2, 2, 1, false},
	{"greater_or_equal", 2, 2, 1, false},
	{"less", 2, 2, 1, false},
	{"less_or_equal", 2, 2, 1, false},
	{"log", 1, 1, 1, false},
	{"max", 1, -1, 1, true},
	{"mean", 1, -1, 1, true},
	{"min", 1, -1, 1, true},
	{"mish", 1, 1, 2, false},
	{"mod", 2, 2, 2, false},
	{"neg", 1, 1, 1, false},
	{"not", 1, 1, 1, false},
	{"or", 2, 2, 1, false},
	{"pow", 2, 2, 3, false},
	{"prelu", 2, 2, 2, false},
	{"quantize", 1, 1, 3, false},
	{"reciprocal", 1, 1, 1, false},
	{"round", 1, 1, 1, false},
	{"selu", 1, 1, 2, false},
	{"sign", 1, 1, 1, false},
	{"sin", 1, 1, 1, false},
	{"softplus", 1, 1, 1, false},
	{"softsign", 1, 1, 2, false},
	{"sqrt", 1, 1, 1, false},
	{"sum", 1, -1, 1, true},
	{"thresholded_relu", 1, 1, 1, false},
	{"where", 3, 3, 1, false},
	{"xor", 2, 2, 1, false},
}

// FindElementwiseMode returns the Elementwise function of the given name.
func FindElementwiseMode(name string) (ElementwiseMode, bool) {
	lo, hi := 0, len(elementwiseModes)
	for lo < hi {
		m := (lo + hi) / 2
		if elementwiseModes[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(elementwiseModes) && elementwiseModes[lo].Name == name {
		return elementwiseModes[lo], true
	}
	return ElementwiseMode{}, false
}

func elementwiseModeList() string {
	names := make([]string, len(elementwiseModes))
	for k, m := range elementwiseModes {
		names[k] = m.Name
	}
	return strings.Join(names, ", ")
}

// elementwiseShape checks an Elementwise node's mode and operand count and
// broadcasts its operands.
func elementwiseShape(n *Node, in []Shape) (Shape, error) {
	m, ok := FindElementwiseMode(n.Mode)
	if !ok {
		return nil, fmt.Errorf("mode %q is not an element-wise function: use one of %s", n.Mode, elementwiseModeList())
	}
	if len(in) < m.MinIn || (m.MaxIn >= 0 && len(in) > m.MaxIn) {
		want := fmt.Sprintf("%d", m.MinIn)
		switch {
		case m.MaxIn < 0:
			want = fmt.Sprintf("at least %d", m.MinIn)
		case m.MaxIn != m.MinIn:
			want = fmt.Sprintf("%d to %d", m.MinIn, m.MaxIn)
		}
		return nil, fmt.Errorf("mode %s takes %s operands, the node has %d", n.Mode, want, len(in))
	}
	out := clone(in[0])
	for k := 1; k < len(in); k++ {
		b, err := Broadcast(out, in[k])
		if err != nil {
			return nil, fmt.Errorf("operand %d: %w", k, err)
		}
		out = b
	}
	return out, nil
}

// elementwiseOps is an Elementwise node's vector work.
func elementwiseOps(n *Node, operands int) int64 {
	m, _ := FindElementwiseMode(n.Mode)
	per := m.OpsPerElem
	if m.Nary {
		per *= int64(operands - 1)
		if m.Name == "mean" {
			per++
		}
	}
	return n.Out.Elems() * per
}

// lrnShape checks a local response normalisation across channels.
func lrnShape(n *Node, x Shape) (Shape, error) {
	if len(x) < 1 {
		return nil, fmt.Errorf("input is a scalar: LRN normalises across the channels (axis 0)")
	}
	if n.Size <= 0 {
		return nil, fmt.Errorf("size = %d: the number of channels summed must be a positive integer", n.Size)
	}
	return clone(x), nil
}

// convTransposeShape is a transposed convolution's output: per spatial
// axis (in-1) x stride - pads + dilation x (kernel-1) + output padding + 1.
func convTransposeShape(n *Node, x Shape) (Shape, error) {
	c := n.Conv
	if c == nil {
		return nil, fmt.Errorf("missing conv attributes")
	}
	if len(x) != 3 {
		return nil, fmt.Errorf("input shape %v: ConvTranspose wants [C,H,W]", x)
	}
	if err := checkConvSpec(c); err != nil {
		return nil, err
	}
	if err := nonNegative("out_pad_h", c.OutPadH); err != nil {
		return nil, err
	}
	if err := nonNegative("out_pad_w", c.OutPadW); err != nil {
		return nil, err
	}
	if c.OutPadH >= max(c.StrideH, c.DilationH) || c.OutPadW >= max(c.StrideW, c.DilationW) {
		return nil, fmt.Errorf("output padding %dx%d must be smaller than the stride %dx%d or the dilation", c.OutPadH, c.OutPadW, c.StrideH, c.StrideW)
	}
	if x[0]%c.Groups != 0 || c.OutChannels%c.Groups != 0 {
		return nil, fmt.Errorf("input channels %d and out_channels %d must both be divisible by groups = %d", x[0], c.OutChannels, c.Groups)
	}
	h := int64(x[1]-1)*int64(c.StrideH) - int64(c.PadTop+c.PadBottom) + int64(c.DilationH)*int64(c.KernelH-1) + int64(c.OutPadH) + 1
	w := int64(x[2]-1)*int64(c.StrideW) - int64(c.PadLeft+c.PadRight) + int64(c.DilationW)*int64(c.KernelW-1) + int64(c.OutPadW) + 1
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("padding %d,%d,%d,%d crops away the whole %dx%d output of input %v", c.PadTop, c.PadLeft, c.PadBottom, c.PadRight, h+int64(c.PadTop+c.PadBottom), w+int64(c.PadLeft+c.PadRight), x)
	}
	if h > MaxElems || w > MaxElems {
		return nil, fmt.Errorf("output %dx%d is too large", h, w)
	}
	return Shape{c.OutChannels, int(h), int(w)}, nil
}

// embeddingShape is a table lookup's output: the indices' shape with the
// table's row width appended.
func embeddingShape(n *Node, idx Shape) (Shape, error) {
	if len(n.Table) != 2 || n.Table[0] <= 0 || n.Table[1] <= 0 {
		return nil, fmt.Errorf("table = %v: give the table's [rows, width], both positive", n.Table)
	}
	out := append(clone(idx), n.Table[1])
	if err := checkShape(out); err != nil {
		return nil, err
	}
	return out, nil
}
