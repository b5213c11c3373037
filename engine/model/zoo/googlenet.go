package zoo

import "github.com/compass-go/compass/engine/model"

// basicConv2d adds torchvision's GoogLeNet BasicConv2d named prefix: a
// convolution without bias, BatchNorm and ReLU (prefix.conv, prefix.bn,
// prefix.relu; torchvision applies the ReLU functionally).
func basicConv2d(b *model.Builder, prefix, x string, spec model.ConvSpec) string {
	return relu(b, prefix+".relu", convBN(b, prefix+".conv", prefix+".bn", x, spec))
}

// inceptionSpec holds the widths of one Inception module, in torchvision's
// argument order.
type inceptionSpec struct {
	ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj int
}

// inception adds torchvision's Inception module named prefix: four
// branches concatenated on the channel axis. branch3 uses a 3x3
// convolution, as torchvision does (its known deviation from the paper's
// 5x5); branch4's max pool is 3x3, stride 1, padding 1, ceil mode.
func inception(b *model.Builder, prefix, x string, s inceptionSpec) string {
	b1 := basicConv2d(b, prefix+".branch1", x, model.Conv2D(s.ch1x1, 1, 1, 0))
	b2 := basicConv2d(b, prefix+".branch2.0", x, model.Conv2D(s.ch3x3red, 1, 1, 0))
	b2 = basicConv2d(b, prefix+".branch2.1", b2, model.Conv2D(s.ch3x3, 3, 1, 1))
	b3 := basicConv2d(b, prefix+".branch3.0", x, model.Conv2D(s.ch5x5red, 1, 1, 0))
	b3 = basicConv2d(b, prefix+".branch3.1", b3, model.Conv2D(s.ch5x5, 3, 1, 1))
	b4 := b.Pool(model.OpMaxPool, prefix+".branch4.0", x, model.Pool2D(3, 1, 1).Ceil())
	b4 = basicConv2d(b, prefix+".branch4.1", b4, model.Conv2D(s.poolProj, 1, 1, 0))
	return b.Concat(prefix+".cat", 0, b1, b2, b3, b4)
}

// googlenet builds torchvision's googlenet in inference form: without the
// auxiliary classifiers aux1 and aux2 (torchvision drops them from the
// pretrained model unless asked for) and without the input transform.
func googlenet() *model.Builder {
	b, x := imageInput("googlenet")
	x = basicConv2d(b, "conv1", x, model.Conv2D(64, 7, 2, 3))
	x = b.Pool(model.OpMaxPool, "maxpool1", x, model.Pool2D(3, 2, 0).Ceil())
	x = basicConv2d(b, "conv2", x, model.Conv2D(64, 1, 1, 0))
	x = basicConv2d(b, "conv3", x, model.Conv2D(192, 3, 1, 1))
	x = b.Pool(model.OpMaxPool, "maxpool2", x, model.Pool2D(3, 2, 0).Ceil())
	x = inception(b, "inception3a", x, inceptionSpec{64, 96, 128, 16, 32, 32})
	x = inception(b, "inception3b", x, inceptionSpec{128, 128, 192, 32, 96, 64})
	x = b.Pool(model.OpMaxPool, "maxpool3", x, model.Pool2D(3, 2, 0).Ceil())
	x = inception(b, "inception4a", x, inceptionSpec{192, 96, 208, 16, 48, 64})
	x = inception(b, "inception4b", x, inceptionSpec{160, 112, 224, 24, 64, 64})
	x = inception(b, "inception4c", x, inceptionSpec{128, 128, 256, 24, 64, 64})
	x = inception(b, "inception4d", x, inceptionSpec{112, 144, 288, 32, 64, 64})
	x = inception(b, "inception4e", x, inceptionSpec{256, 160, 320, 32, 128, 128})
	x = b.Pool(model.OpMaxPool, "maxpool4", x, model.Pool2D(2, 2, 0).Ceil())
	x = inception(b, "inception5a", x, inceptionSpec{256, 160, 320, 32, 128, 128})
	x = inception(b, "inception5b", x, inceptionSpec{384, 192, 384, 48, 128, 128})
	classifierHead(b, "avgpool", "flatten", "fc", x) // dropout omitted
	return b
}
