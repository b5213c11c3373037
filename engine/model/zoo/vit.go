package zoo

import (
	"fmt"

	"github.com/compass-go/compass/engine/model"
)

// ViT-B/16 dimensions at 224x224 input.
const (
	vitPatch  = 16
	vitHidden = 768
	vitMLP    = 3072
	vitHeads  = 12
	vitLayers = 12
	vitTokens = (224/vitPatch)*(224/vitPatch) + 1 // 196 patches + the class token
)

// vitAttention adds the multi-head self-attention of one encoder block
// named prefix (".self_attention") on x, which is [197,768], and returns
// its [197,768] output.
//
// The input projection is three Linear 768 -> 768 layers with bias
// (q_proj, k_proj, v_proj, the names PyTorch's MultiheadAttention uses for
// unpacked projections); torchvision packs them as one in_proj of
// 768 -> 2304, with identical weights, parameters and MACs. The 1/sqrt(64)
// scale of the scores is taken as folded into q_proj's weights and bias, as
// an inference compiler would, so it has no node. The two attention
// products (q k^T and scores v) are MatMuls of two activations: vector
// work, not crossbar layers.
func vitAttention(b *model.Builder, prefix, x string) string {
	headDim := vitHidden / vitHeads
	heads := func(proj string) string {
		y := b.Linear(prefix+"."+proj+"_proj", x, vitHidden, true)
		y = b.Reshape(prefix+"."+proj+"_heads", y, vitTokens, vitHeads, headDim) // [197,12,64]
		return b.Transpose(prefix+"."+proj+"_t", y, 1, 0, 2)                     // [12,197,64]
	}
	q, k, v := heads("q"), heads("k"), heads("v")
	scores := b.MatMul(prefix+".scores", q, k, true) // [12,197,197]
	probs := b.Softmax(prefix+".softmax", scores, -1)
	ctx := b.MatMul(prefix+".context", probs, v, false) // [12,197,64]
	ctx = b.Transpose(prefix+".context_t", ctx, 1, 0, 2)
	ctx = b.Reshape(prefix+".merge_heads", ctx, vitTokens, vitHidden)
	return b.Linear(prefix+".out_proj", ctx, vitHidden, true)
}

// vitEncoderBlock adds torchvision's EncoderBlock named prefix (pre-norm):
// ln_1, self-attention, residual add, ln_2, MLP (Linear 768 -> 3072, GELU,
// Linear 3072 -> 768; Dropouts omitted) and a second residual add.
func vitEncoderBlock(b *model.Builder, prefix, x string) string {
	y := b.Unary(model.OpLayerNorm, prefix+".ln_1", x)
	y = vitAttention(b, prefix+".self_attention", y)
	x = b.Binary(model.OpAdd, prefix+".add_1", x, y)
	y = b.Unary(model.OpLayerNorm, prefix+".ln_2", x)
	y = b.Linear(prefix+".mlp.0", y, vitMLP, true)
	y = b.Unary(model.OpGELU, prefix+".mlp.1", y)
	y = b.Linear(prefix+".mlp.3", y, vitHidden, true)
	return b.Binary(model.OpAdd, prefix+".add_2", x, y)
}

// vitB16 builds torchvision's vit_b_16. The patch embedding conv_proj
// (16x16, stride 16, 768 channels, bias) gives [768,14,14], reshaped to
// [768,196] and transposed to 196 tokens of 768. The class token, a
// [1,768] Parameter, is prepended (Concat on axis 0) and the [197,768]
// position embedding Parameter added. After 12 encoder blocks and the
// final LayerNorm, the class token (token 0) is taken with a Slice and
// flattened to [768], so that heads.head, a Linear 768 -> 1000 with bias,
// acts on it alone, as torchvision's x[:, 0] does.
func vitB16() *model.Builder {
	b, x := imageInput("vit_b_16")
	x = b.Conv("conv_proj", x, model.Conv2D(vitHidden, vitPatch, vitPatch, 0).WithBias())
	x = b.Reshape("patches", x, vitHidden, vitTokens-1) // [768,196]
	x = b.Transpose("tokens", x, 1, 0)                  // [196,768]
	cls := b.Parameter("class_token", 1, vitHidden)
	x = b.Concat("cat_class_token", 0, cls, x) // [197,768]
	pos := b.Parameter("encoder.pos_embedding", vitTokens, vitHidden)
	x = b.Binary(model.OpAdd, "encoder.add_pos_embedding", x, pos)
	for i := 0; i < vitLayers; i++ {
		x = vitEncoderBlock(b, fmt.Sprintf("encoder.layers.encoder_layer_%d", i), x)
	}
	x = b.Unary(model.OpLayerNorm, "encoder.ln", x)
	x = b.Slice("class_token_out", x, 0, 0, 1) // [1,768]
	x = b.Flatten("flatten", x, 0)             // [768]
	b.Linear("heads.head", x, 1000, true)
	return b
}
