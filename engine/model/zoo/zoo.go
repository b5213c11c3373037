// Package zoo holds the built-in networks: well-known ImageNet classifiers
// expressed in the graph IR of package model at 224x224 input shapes.
//
// Every network follows torchvision's architecture in inference form:
// Dropout is omitted, BatchNorm is a separate node after each convolution
// (it is not folded), and adaptive average pools that are identities at
// 224x224 input (VGG's 7x7 and AlexNet's 6x6) are left out. Node names
// mirror torchvision's module names ("features.0", "layer1.0.conv1",
// "classifier.1", ...) so that a node can be cross-referenced with the
// PyTorch model; operations that torchvision performs functionally or by
// reusing one module (a residual add, a concatenation, a flatten, the
// second use of a block's ReLU) get a descriptive name under the enclosing
// module ("layer1.0.add", "inception3a.cat", "layer1.0.relu2").
//
// The graphs have the parameter counts torchvision documents for its
// pretrained weights, so their weight sizes match the networks evaluated
// in the COMPASS paper (VGG16, ResNet18, SqueezeNet 1.1).
package zoo

import (
	"fmt"
	"strings"

	"github.com/compass-go/compass/engine/model"
)

// Entry describes one built-in network.
type Entry struct {
	Name        string // the name Build accepts, e.g. "resnet18"
	Description string // one line: what the network is and where it comes from
	Family      string // "cnn" or "transformer"
}

// Network families reported in Entry.Family.
const (
	FamilyCNN         = "cnn"
	FamilyTransformer = "transformer"
)

// network is a registry row: its entry and the function that builds it.
type network struct {
	entry Entry
	build func() *model.Builder
}

// registry lists the networks in the order Names reports them: the three
// networks of the COMPASS paper first, then the others.
var registry = []network{
	{Entry{"vgg16", "VGG-16 without BatchNorm (torchvision vgg16): 13 conv + 3 linear layers, 138.4 M parameters; a COMPASS paper network", FamilyCNN}, vgg16},
	{Entry{"resnet18", "ResNet-18 (torchvision resnet18): BasicBlock [2,2,2,2], 11.7 M parameters; a COMPASS paper network", FamilyCNN}, resnet18},
	{Entry{"squeezenet1_1", "SqueezeNet 1.1 (torchvision squeezenet1_1): 8 Fire modules, 1.2 M parameters; a COMPASS paper network", FamilyCNN}, squeezenet11},
	{Entry{"resnet34", "ResNet-34 (torchvision resnet34): BasicBlock [3,4,6,3], 21.8 M parameters", FamilyCNN}, resnet34},
	{Entry{"resnet50", "ResNet-50 v1.5 (torchvision resnet50): Bottleneck [3,4,6,3], stride on the 3x3 conv, 25.6 M parameters", FamilyCNN}, resnet50},
	{Entry{"squeezenet1_0", "SqueezeNet 1.0 (torchvision squeezenet1_0): 8 Fire modules, 1.2 M parameters", FamilyCNN}, squeezenet10},
	{Entry{"alexnet", "AlexNet (torchvision alexnet, 64/192/384/256/256 channels): 5 conv + 3 linear layers, 61.1 M parameters", FamilyCNN}, alexnet},
	{Entry{"googlenet", "GoogLeNet / Inception v1 (torchvision googlenet, no auxiliary heads): 9 Inception modules, 6.6 M parameters", FamilyCNN}, googlenet},
	{Entry{"mobilenet_v2", "MobileNetV2 (torchvision mobilenet_v2, width 1.0): 17 inverted residual blocks, 3.5 M parameters", FamilyCNN}, mobilenetV2},
	{Entry{"vit_b_16", "Vision Transformer ViT-B/16 (torchvision vit_b_16): 12 encoder blocks, 768 wide, 86.6 M parameters", FamilyTransformer}, vitB16},
}

// Names returns the built-in network names in a stable order: the COMPASS
// paper's three networks (vgg16, resnet18, squeezenet1_1) first, then the
// others. The slice is a fresh copy.
func Names() []string {
	out := make([]string, len(registry))
	for i, n := range registry {
		out[i] = n.entry.Name
	}
	return out
}

// List returns the entries of all built-in networks in the order of Names.
// The slice is a fresh copy.
func List() []Entry {
	out := make([]Entry, len(registry))
	for i, n := range registry {
		out[i] = n.entry
	}
	return out
}

// Build returns a fresh, inferred graph of the named network. The name is
// matched case-insensitively, and '-' or '.' may stand for '_' (so
// "SqueezeNet1.1" and "vit-b-16" are accepted). An unknown name gives an
// error that lists the available names.
func Build(name string) (*model.Graph, error) {
	key := canonical(name)
	for _, n := range registry {
		if n.entry.Name == key {
			g, err := n.build().Build()
			if err != nil {
				// A built-in network that does not infer is a bug in this
				// package or in the IR, never a user error.
				return nil, fmt.Errorf("zoo: building %s: %w", key, err)
			}
			return g, nil
		}
	}
	return nil, fmt.Errorf("zoo: unknown network %q: available networks are %s", name, strings.Join(Names(), ", "))
}

// canonical lower-cases a network name and maps '-' and '.' to '_'.
func canonical(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' {
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(name)))
}

// The helpers below add the small patterns shared by several networks.

// inputName is the name of every network's input node.
const inputName = "input"

// imageInput starts a graph with a [3,224,224] ImageNet input.
func imageInput(name string) (*model.Builder, string) {
	b := model.NewBuilder(name)
	return b, b.Input(inputName, 3, 224, 224)
}

// relu adds a ReLU.
func relu(b *model.Builder, name, x string) string {
	return b.Unary(model.OpReLU, name, x)
}

// relu6 adds a ReLU6, which is a Clip to [0, 6].
func relu6(b *model.Builder, name, x string) string {
	return b.Clip(name, x, 0, 6)
}

// convBN adds a convolution and the BatchNorm that follows it and returns
// the BatchNorm's output.
func convBN(b *model.Builder, conv, bn, x string, spec model.ConvSpec) string {
	return b.Unary(model.OpBatchNorm, bn, b.Conv(conv, x, spec))
}

// classifierHead adds the global average pool, the flatten and the final
// Linear layer to 1000 classes (with bias) that end most CNNs here.
func classifierHead(b *model.Builder, pool, flatten, fc, x string) string {
	x = b.Unary(model.OpGlobalAvgPool, pool, x)
	x = b.Flatten(flatten, x, 0)
	return b.Linear(fc, x, 1000, true)
}
