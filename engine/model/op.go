package model

import (
	"fmt"
	"strings"
)

// Op is the kind of computation a node performs.
type Op string

// Op kinds. Conv and Linear hold weights that map onto crossbars; every
// other op runs on a core's vector functional unit (VFU) or is pure data
// movement.
const (
	OpInput     Op = "Input"     // graph input; Shape gives its shape without batch
	OpParameter Op = "Parameter" // learned tensor (class token, position embedding); Shape gives its shape
	OpConstant  Op = "Constant"  // model constant that is not learned (an imported operand such as a scale or a mask); Shape gives its shape; no parameters
	OpConv      Op = "Conv"      // 2-D convolution on [C,H,W]; Conv holds the attributes
	OpLinear    Op = "Linear"    // fully connected layer on the last axis (Gemm, MatMul with a constant)
	OpMatMul    Op = "MatMul"    // product of two activations [...,M,K]x[...,K,N]; vector work
	OpBatchNorm Op = "BatchNorm" // per-channel affine normalisation (axis 0)
	OpLayerNorm Op = "LayerNorm" // normalisation over the last axis, with affine parameters

	OpReLU        Op = "ReLU"
	OpClip        Op = "Clip" // ReLU6 is Clip{0,6}
	OpLeakyReLU   Op = "LeakyReLU"
	OpSigmoid     Op = "Sigmoid"
	OpHardSigmoid Op = "HardSigmoid"
	OpHardSwish   Op = "HardSwish"
	OpTanh        Op = "Tanh"
	OpGELU        Op = "GELU"
	OpIdentity    Op = "Identity" // also Dropout at inference

	OpMaxPool       Op = "MaxPool"
	OpAvgPool       Op = "AvgPool"
	OpGlobalAvgPool Op = "GlobalAvgPool"

	OpAdd Op = "Add" // element-wise with numpy-style broadcasting
	OpSub Op = "Sub"
	OpMul Op = "Mul"
	OpDiv Op = "Div"

	OpConcat    Op = "Concat"
	OpFlatten   Op = "Flatten"   // flattens axes [Axis, rank) into one (Axis 0: everything)
	OpReshape   Op = "Reshape"   // Shape gives the target; one -1 is inferred
	OpTranspose Op = "Transpose" // Perm gives the axis order
	OpSoftmax   Op = "Softmax"   // over Axis
	OpSlice     Op = "Slice"     // elements [Start, End) of Axis, every Step-th (negative values count from the end)

	OpPad    Op = "Pad"    // Pads gives the elements added before (first half) and after (second half) each axis; negative crops
	OpResize Op = "Resize" // Shape gives the output shape; Mode "nearest" (default), "linear" or "cubic"
	OpReduce Op = "Reduce" // Mode "mean", "sum", "max" or "min" over Axes; KeepDims keeps them as size 1

	OpConvTranspose Op = "ConvTranspose" // 2-D transposed convolution on [C,H,W] (a decoder's upsampling); Conv holds the attributes with OutPadH/OutPadW
	OpElementwise   Op = "Elementwise"   // element-wise function of one or more operands with broadcasting; Mode names it (FindElementwiseMode)
	OpLRN           Op = "LRN"           // local response normalisation across Size channels (axis 0)
	OpEmbedding     Op = "Embedding"     // table lookup: input holds row indices, Table the table's [rows, width]; output is the input's shape + [width]
)

// opInfo says how many inputs an op takes and how it is classified.
type opInfo struct {
	minIn, maxIn int  // accepted input count; maxIn < 0 means unbounded
	elementwise  bool // one VFU op per output element, shape preserved
}

var ops = map[Op]opInfo{
	OpInput:         {0, 0, false},
	OpParameter:     {0, 0, false},
	OpConstant:      {0, 0, false},
	OpConv:          {1, 1, false},
	OpLinear:        {1, 1, false},
	OpMatMul:        {2, 2, false},
	OpBatchNorm:     {1, 1, true},
	OpLayerNorm:     {1, 1, false},
	OpReLU:          {1, 1, true},
	OpClip:          {1, 1, true},
	OpLeakyReLU:     {1, 1, true},
	OpSigmoid:       {1, 1, true},
	OpHardSigmoid:   {1, 1, true},
	OpHardSwish:     {1, 1, true},
	OpTanh:          {1, 1, true},
	OpGELU:          {1, 1, true},
	OpIdentity:      {1, 1, true},
	OpMaxPool:       {1, 1, false},
	OpAvgPool:       {1, 1, false},
	OpGlobalAvgPool: {1, 1, false},
	OpAdd:           {2, 2, false},
	OpSub:           {2, 2, false},
	OpMul:           {2, 2, false},
	OpDiv:           {2, 2, false},
	OpConcat:        {1, -1, false},
	OpFlatten:       {1, 1, false},
	OpReshape:       {1, 1, false},
	OpTranspose:     {1, 1, false},
	OpSoftmax:       {1, 1, false},
	OpSlice:         {1, 1, false},
	OpPad:           {1, 1, false},
	OpResize:        {1, 1, false},
	OpReduce:        {1, 1, false},
	OpConvTranspose: {1, 1, false},
	OpElementwise:   {1, -1, false},
	OpLRN:           {1, 1, false},
	OpEmbedding:     {1, 1, false},
}

// Crossbar reports whether the op's weights are mapped onto crossbars.
func (op Op) Crossbar() bool { return op == OpConv || op == OpLinear || op == OpConvTranspose }

// Ops lists every op kind, sorted by name, for error messages and docs.
func Ops() []Op {
	out := make([]Op, 0, len(ops))
	for op := range ops {
		out = append(out, op)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func opList() string {
	names := make([]string, 0, len(ops))
	for _, op := range Ops() {
		names = append(names, string(op))
	}
	return strings.Join(names, ", ")
}

// ConvSpec holds the attributes of a 2-D convolution (and of a transposed
// one, whose output also grows by OutPadH/OutPadW on the bottom and right).
type ConvSpec struct {
	OutChannels int  `json:"out_channels"`
	KernelH     int  `json:"kernel_h"`
	KernelW     int  `json:"kernel_w"`
	StrideH     int  `json:"stride_h"`
	StrideW     int  `json:"stride_w"`
	PadTop      int  `json:"pad_top"`
	PadLeft     int  `json:"pad_left"`
	PadBottom   int  `json:"pad_bottom"`
	PadRight    int  `json:"pad_right"`
	DilationH   int  `json:"dilation_h"`
	DilationW   int  `json:"dilation_w"`
	Groups      int  `json:"groups"`
	Bias        bool `json:"bias"`
	OutPadH     int  `json:"out_pad_h,omitempty"` // ConvTranspose only
	OutPadW     int  `json:"out_pad_w,omitempty"` // ConvTranspose only
}

// LinearSpec holds the attributes of a fully connected layer.
type LinearSpec struct {
	OutFeatures int  `json:"out_features"`
	Bias        bool `json:"bias"`
}

// PoolSpec holds the attributes of MaxPool and AvgPool.
type PoolSpec struct {
	KernelH   int  `json:"kernel_h"`
	KernelW   int  `json:"kernel_w"`
	StrideH   int  `json:"stride_h"`
	StrideW   int  `json:"stride_w"`
	PadTop    int  `json:"pad_top"`
	PadLeft   int  `json:"pad_left"`
	PadBottom int  `json:"pad_bottom"`
	PadRight  int  `json:"pad_right"`
	CeilMode  bool `json:"ceil_mode"`
}

// Shape is a tensor shape without the batch dimension: [C,H,W] for images,
// [T,D] for token sequences, [N] for vectors.
type Shape []int

// Elems is the number of elements in the shape (1 for a scalar).
func (s Shape) Elems() int64 {
	n := int64(1)
	for _, d := range s {
		n *= int64(d)
	}
	return n
}

// String formats the shape as [a,b,c].
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", d)
	}
	b.WriteByte(']')
	return b.String()
}

// Equal reports whether two shapes are identical.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}
