package zoo

import (
	"fmt"

	"github.com/compass-go/compass/engine/model"
)

// fire adds torchvision's Fire module named prefix: a 1x1 squeeze
// convolution and ReLU, then parallel 1x1 and 3x3 (padding 1) expand
// convolutions with ReLUs, concatenated on the channel axis. All
// convolutions have a bias.
func fire(b *model.Builder, prefix, x string, squeeze, expand1x1, expand3x3 int) string {
	s := relu(b, prefix+".squeeze_activation", b.Conv(prefix+".squeeze", x, model.Conv2D(squeeze, 1, 1, 0).WithBias()))
	e1 := relu(b, prefix+".expand1x1_activation", b.Conv(prefix+".expand1x1", s, model.Conv2D(expand1x1, 1, 1, 0).WithBias()))
	e3 := relu(b, prefix+".expand3x3_activation", b.Conv(prefix+".expand3x3", s, model.Conv2D(expand3x3, 3, 1, 1).WithBias()))
	return b.Concat(prefix+".cat", 0, e1, e3)
}

// fireSpec is one entry of a SqueezeNet feature list: a Fire module with
// the given squeeze and (equal) expand widths, or, if squeeze is 0, a 3x3
// stride-2 max pool in ceil mode.
type fireSpec struct{ squeeze, expand int }

// squeezenet builds a torchvision SqueezeNet whose first layer is a conv
// with the given channels and kernel (stride 2, no padding) followed by
// ReLU and a max pool, and whose remaining features (from index 3) are
// given by rest. The classifier is Dropout (omitted), a 1x1 conv to 1000
// classes with bias, ReLU, global average pool and flatten.
func squeezenet(name string, stemOut, stemKernel int, rest []fireSpec) *model.Builder {
	b, x := imageInput(name)
	x = relu(b, "features.1", b.Conv("features.0", x, model.Conv2D(stemOut, stemKernel, 2, 0).WithBias()))
	x = b.Pool(model.OpMaxPool, "features.2", x, model.Pool2D(3, 2, 0).Ceil())
	for i, f := range rest {
		mod := fmt.Sprintf("features.%d", i+3)
		if f.squeeze == 0 {
			x = b.Pool(model.OpMaxPool, mod, x, model.Pool2D(3, 2, 0).Ceil())
			continue
		}
		x = fire(b, mod, x, f.squeeze, f.expand, f.expand)
	}
	x = b.Conv("classifier.1", x, model.Conv2D(1000, 1, 1, 0).WithBias())
	x = relu(b, "classifier.2", x)
	x = b.Unary(model.OpGlobalAvgPool, "classifier.3", x)
	b.Flatten("flatten", x, 0)
	return b
}

// maxPool marks a max pool in a fireSpec list.
var maxPool = fireSpec{}

// squeezenet10 builds torchvision's squeezenet1_0 (7x7 stem, 96 channels).
func squeezenet10() *model.Builder {
	return squeezenet("squeezenet1_0", 96, 7, []fireSpec{
		{16, 64}, {16, 64}, {32, 128}, maxPool,
		{32, 128}, {48, 192}, {48, 192}, {64, 256}, maxPool,
		{64, 256},
	})
}

// squeezenet11 builds torchvision's squeezenet1_1 (3x3 stem, 64 channels,
// pools earlier than 1.0), the SqueezeNet of the COMPASS paper.
func squeezenet11() *model.Builder {
	return squeezenet("squeezenet1_1", 64, 3, []fireSpec{
		{16, 64}, {16, 64}, maxPool,
		{32, 128}, {32, 128}, maxPool,
		{48, 192}, {48, 192}, {64, 256}, {64, 256},
	})
}
