package onnx

import (
	"testing"
)

// FuzzRead feeds arbitrary bytes to the reader: it must return a graph or
// an error, never panic, hang or allocate without bound. The seeds are the
// small round-trip graphs, the new operators' graphs (ConvTranspose, LRN,
// element-wise math, quantized layers, If, embeddings) and a few
// malformed files.
func FuzzRead(f *testing.F) {
	for _, build := range []func() (*onnxModel, any){
		func() (*onnxModel, any) { m, b := convChain(encRaw); return m, b },
		func() (*onnxModel, any) { m, b := convChain(encUnpacked); return m, b },
		func() (*onnxModel, any) { m, b := residual(); return m, b },
		func() (*onnxModel, any) { m, b := depthwise(); return m, b },
		func() (*onnxModel, any) { m, b := gemmHead(); return m, b },
		func() (*onnxModel, any) { m, b := constantWeights(); return m, b },
		func() (*onnxModel, any) { m, b := splitGraph(); return m, b },
		func() (*onnxModel, any) { m, b := padConv(); return m, b },
		func() (*onnxModel, any) { m, b := shapeFold(); return m, b },
	} {
		m, _ := build()
		f.Add(m.bytes())
	}
	for _, m := range []*onnxModel{quantModel(), vectorModel(), embeddingModel(), ifModel()} {
		f.Add(m.bytes())
	}
	f.Add(nested(3))
	f.Add([]byte("version https://git-lfs.github.com/spec/v1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadBytes(data, Options{MaxBytes: 1 << 20})
		if err != nil {
			if g != nil {
				t.Fatal("a graph and an error")
			}
			return
		}
		if !g.Inferred() {
			t.Fatal("graph not inferred")
		}
		g.Totals()
	})
}
