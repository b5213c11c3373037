package zoo

import (
	"fmt"

	"github.com/compass-go/compass/engine/model"
)

// vgg16Config is torchvision's configuration "D": output channels of each
// 3x3 convolution, with 0 standing for a 2x2 max pool of stride 2.
var vgg16Config = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}

// vgg16 builds torchvision's vgg16 (no BatchNorm). The features are
// numbered as torchvision's nn.Sequential numbers them (a conv and its ReLU
// take two indices, a pool one). The AdaptiveAvgPool2d((7,7)) is an
// identity on the 7x7 map at 224x224 input and is omitted.
func vgg16() *model.Builder {
	b, x := imageInput("vgg16")
	i := 0
	for _, c := range vgg16Config {
		if c == 0 {
			x = b.Pool(model.OpMaxPool, fmt.Sprintf("features.%d", i), x, model.Pool2D(2, 2, 0))
			i++
			continue
		}
		x = b.Conv(fmt.Sprintf("features.%d", i), x, model.Conv2D(c, 3, 1, 1).WithBias())
		x = relu(b, fmt.Sprintf("features.%d", i+1), x)
		i += 2
	}
	x = b.Flatten("flatten", x, 0) // [512,7,7] -> [25088]
	// classifier.2 and classifier.5 are Dropout.
	x = relu(b, "classifier.1", b.Linear("classifier.0", x, 4096, true))
	x = relu(b, "classifier.4", b.Linear("classifier.3", x, 4096, true))
	b.Linear("classifier.6", x, 1000, true)
	return b
}

// alexnet builds torchvision's alexnet (the single-tower 64/192/384/256/256
// variant). The AdaptiveAvgPool2d((6,6)) is an identity on the 6x6 map at
// 224x224 input and is omitted; classifier.0 and classifier.3 are Dropout.
func alexnet() *model.Builder {
	b, x := imageInput("alexnet")
	x = relu(b, "features.1", b.Conv("features.0", x, model.Conv2D(64, 11, 4, 2).WithBias()))
	x = b.Pool(model.OpMaxPool, "features.2", x, model.Pool2D(3, 2, 0))
	x = relu(b, "features.4", b.Conv("features.3", x, model.Conv2D(192, 5, 1, 2).WithBias()))
	x = b.Pool(model.OpMaxPool, "features.5", x, model.Pool2D(3, 2, 0))
	x = relu(b, "features.7", b.Conv("features.6", x, model.Conv2D(384, 3, 1, 1).WithBias()))
	x = relu(b, "features.9", b.Conv("features.8", x, model.Conv2D(256, 3, 1, 1).WithBias()))
	x = relu(b, "features.11", b.Conv("features.10", x, model.Conv2D(256, 3, 1, 1).WithBias()))
	x = b.Pool(model.OpMaxPool, "features.12", x, model.Pool2D(3, 2, 0))
	x = b.Flatten("flatten", x, 0) // [256,6,6] -> [9216]
	x = relu(b, "classifier.2", b.Linear("classifier.1", x, 4096, true))
	x = relu(b, "classifier.5", b.Linear("classifier.4", x, 4096, true))
	b.Linear("classifier.6", x, 1000, true)
	return b
}
