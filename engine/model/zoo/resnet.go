package zoo

import (
	"fmt"

	"github.com/compass-go/compass/engine/model"
)

// resnetBlock adds one residual block named prefix (e.g. "layer2.0") to x,
// which has inplanes channels, and returns the block's output.
type resnetBlock func(b *model.Builder, prefix, x string, inplanes, planes, stride int) string

// resnet builds torchvision's ResNet with the given block, channel
// expansion (1 for BasicBlock, 4 for Bottleneck) and blocks per stage.
func resnet(name string, block resnetBlock, expansion int, layers [4]int) *model.Builder {
	b, x := imageInput(name)
	x = convBN(b, "conv1", "bn1", x, model.Conv2D(64, 7, 2, 3))
	x = relu(b, "relu", x)
	x = b.Pool(model.OpMaxPool, "maxpool", x, model.Pool2D(3, 2, 1))
	inplanes := 64
	for s, n := range layers {
		planes := 64 << s
		for i := 0; i < n; i++ {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			x = block(b, fmt.Sprintf("layer%d.%d", s+1, i), x, inplanes, planes, stride)
			inplanes = planes * expansion
		}
	}
	classifierHead(b, "avgpool", "flatten", "fc", x)
	return b
}

// shortcut returns the identity input x, or, when the block changes the
// resolution or the channel count, torchvision's downsample: a 1x1
// convolution of the block's stride followed by BatchNorm.
func shortcut(b *model.Builder, prefix, x string, inplanes, outplanes, stride int) string {
	if stride == 1 && inplanes == outplanes {
		return x
	}
	return convBN(b, prefix+".downsample.0", prefix+".downsample.1", x, model.Conv2D(outplanes, 1, stride, 0))
}

// basicBlock adds torchvision's BasicBlock: two 3x3 convolutions with
// BatchNorm, the stride on the first, and a residual add before the last
// ReLU. torchvision reuses one ReLU module; here its two uses are relu1
// and relu2.
func basicBlock(b *model.Builder, prefix, x string, inplanes, planes, stride int) string {
	y := convBN(b, prefix+".conv1", prefix+".bn1", x, model.Conv2D(planes, 3, stride, 1))
	y = relu(b, prefix+".relu1", y)
	y = convBN(b, prefix+".conv2", prefix+".bn2", y, model.Conv2D(planes, 3, 1, 1))
	id := shortcut(b, prefix, x, inplanes, planes, stride)
	return relu(b, prefix+".relu2", b.Binary(model.OpAdd, prefix+".add", y, id))
}

// bottleneck adds torchvision's Bottleneck (ResNet v1.5): 1x1 reduce, 3x3
// with the stride, 1x1 expand to 4*planes, each with BatchNorm, and a
// residual add before the last ReLU (uses relu1..relu3 of one module).
func bottleneck(b *model.Builder, prefix, x string, inplanes, planes, stride int) string {
	y := convBN(b, prefix+".conv1", prefix+".bn1", x, model.Conv2D(planes, 1, 1, 0))
	y = relu(b, prefix+".relu1", y)
	y = convBN(b, prefix+".conv2", prefix+".bn2", y, model.Conv2D(planes, 3, stride, 1))
	y = relu(b, prefix+".relu2", y)
	y = convBN(b, prefix+".conv3", prefix+".bn3", y, model.Conv2D(planes*4, 1, 1, 0))
	id := shortcut(b, prefix, x, inplanes, planes*4, stride)
	return relu(b, prefix+".relu3", b.Binary(model.OpAdd, prefix+".add", y, id))
}

// resnet18 builds torchvision's resnet18.
func resnet18() *model.Builder { return resnet("resnet18", basicBlock, 1, [4]int{2, 2, 2, 2}) }

// resnet34 builds torchvision's resnet34.
func resnet34() *model.Builder { return resnet("resnet34", basicBlock, 1, [4]int{3, 4, 6, 3}) }

// resnet50 builds torchvision's resnet50.
func resnet50() *model.Builder { return resnet("resnet50", bottleneck, 4, [4]int{3, 4, 6, 3}) }
