package zoo

import (
	"fmt"

	"github.com/compass-go/compass/engine/model"
)

// convBNReLU6 adds torchvision's Conv2dNormActivation with ReLU6 named
// prefix: a convolution without bias (padding (k-1)/2), BatchNorm and
// ReLU6, as prefix.0, prefix.1 and prefix.2.
func convBNReLU6(b *model.Builder, prefix, x string, out, kernel, stride, groups int) string {
	spec := model.Conv2D(out, kernel, stride, (kernel-1)/2).WithGroups(groups)
	return relu6(b, prefix+".2", convBN(b, prefix+".0", prefix+".1", x, spec))
}

// invertedResidual adds torchvision's InvertedResidual named prefix (e.g.
// "features.2"): an optional 1x1 expansion to in*expand channels, a 3x3
// depthwise convolution with the stride, a linear 1x1 projection to out
// channels with BatchNorm, and a residual add when the stride is 1 and the
// channel count is unchanged. Layers are numbered inside prefix.conv as
// torchvision's nn.Sequential numbers them.
func invertedResidual(b *model.Builder, prefix, x string, in, out, stride, expand int) string {
	hidden := in * expand
	y := x
	i := 0
	if expand != 1 {
		y = convBNReLU6(b, fmt.Sprintf("%s.conv.%d", prefix, i), y, hidden, 1, 1, 1)
		i++
	}
	y = convBNReLU6(b, fmt.Sprintf("%s.conv.%d", prefix, i), y, hidden, 3, stride, hidden)
	y = convBN(b, fmt.Sprintf("%s.conv.%d", prefix, i+1), fmt.Sprintf("%s.conv.%d", prefix, i+2), y, model.Conv2D(out, 1, 1, 0))
	if stride == 1 && in == out {
		y = b.Binary(model.OpAdd, prefix+".add", x, y)
	}
	return y
}

// mobilenetV2Setting is torchvision's inverted residual setting: expansion
// t, output channels c, repeats n, first stride s.
var mobilenetV2Setting = [][4]int{
	{1, 16, 1, 1},
	{6, 24, 2, 2},
	{6, 32, 3, 2},
	{6, 64, 4, 2},
	{6, 96, 3, 1},
	{6, 160, 3, 2},
	{6, 320, 1, 1},
}

// mobilenetV2 builds torchvision's mobilenet_v2 at width multiplier 1.0
// (where every channel count is already a multiple of 8). The classifier
// is Dropout (omitted) and classifier.1, a Linear 1280 -> 1000 with bias.
func mobilenetV2() *model.Builder {
	b, x := imageInput("mobilenet_v2")
	x = convBNReLU6(b, "features.0", x, 32, 3, 2, 1)
	in, f := 32, 1
	for _, s := range mobilenetV2Setting {
		t, c, n, stride := s[0], s[1], s[2], s[3]
		for i := 0; i < n; i++ {
			if i > 0 {
				stride = 1
			}
			x = invertedResidual(b, fmt.Sprintf("features.%d", f), x, in, c, stride, t)
			in = c
			f++
		}
	}
	x = convBNReLU6(b, fmt.Sprintf("features.%d", f), x, 1280, 1, 1, 1)
	classifierHead(b, "avgpool", "flatten", "classifier.1", x)
	return b
}
