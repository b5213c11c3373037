package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/model"
)

// gonnxDir is where scripts/test.sh puts the sample models of the Go module
// github.com/advancedclimatesystems/gonnx (v1.1.0): ONNX files exported by
// PyTorch and skl2onnx, which this project did not write. The module is
// fetched into the module cache only; it is not a dependency.
func gonnxDir(t *testing.T) string {
	dir := os.Getenv("COMPASS_GONNX_DIR")
	if dir == "" {
		msg := "COMPASS_GONNX_DIR is not set: run bash scripts/test.sh, which downloads github.com/advancedclimatesystems/gonnx@v1.1.0 into the module cache and sets it"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return filepath.Join(dir, "sample_models", "onnx_models")
}

func TestRealFiles(t *testing.T) {
	dir := gonnxDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .onnx files in %s (%v)", dir, err)
	}
	sort.Strings(files)
	chip, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	// What each file must give: its Gemm layers (mapped onto crossbars),
	// or the error it must give.
	// Files with a dynamic sequence length need it given (set); without
	// it they fail with a *DynamicShapeError naming that dimension.
	want := map[string]struct {
		gemms []string
		err   string
		set   []InputSetting
	}{
		"mlp.onnx":             {gemms: []string{"Gemm_0", "Gemm_2"}},
		"ndm.onnx":             {gemms: []string{"Gemm_15", "Gemm_17", "Gemm_19"}, set: []InputSetting{{Name: "sensor_input", Shape: []int{1, 10, 4}}}},
		"gru.onnx":             {set: []InputSetting{{Name: "data_input", Shape: []int{1, 10, 3}}}},
		"scaler.onnx":          {},
		"mnist-8-opset13.onnx": {err: "Git LFS pointer"}, // the module ships the pointer, not the model
	}
	seen := 0
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			w, known := want[base]
			if !known {
				t.Fatalf("a sample model this test does not know: %s", base)
			}
			seen++
			g, err := ReadFile(f, Options{})
			if len(w.set) > 0 {
				var dyn *DynamicShapeError
				if !errors.As(err, &dyn) || dyn.Input != w.set[0].Name || len(dyn.Dims) != 1 || dyn.Dims[0] != 1 {
					t.Fatalf("without --input: %v, want a dynamic dimension 1 of %s", err, w.set[0].Name)
				}
				g, err = ReadFile(f, Options{Inputs: w.set})
			}
			if w.err != "" {
				if err == nil || !strings.Contains(err.Error(), w.err) {
					t.Fatalf("error %v, want %q", err, w.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !g.Inferred() {
				t.Fatal("not inferred")
			}
			if len(g.CrossbarLayers()) == 0 {
				return // scaler: element-wise only
			}
			m, err := mapping.Map(g, chip)
			if err != nil {
				t.Fatal(err)
			}
			mapped := map[string]mapping.Layer{}
			for _, l := range m.Layers {
				mapped[l.Name] = l
			}
			for _, name := range w.gemms {
				l, ok := mapped[name]
				if !ok || l.Op != model.OpLinear || l.Crossbars == 0 {
					t.Errorf("Gemm %q is not a mapped Linear layer (layers: %v)", name, m.Layers)
				}
			}
			t.Logf("%s: %d nodes, %d crossbar layers, %d crossbars, totals %+v", base, len(g.Nodes), len(m.Layers), m.CrossbarsNeeded, g.Totals())
		})
	}
	if seen != len(want) {
		t.Errorf("saw %d of the %d known sample models", seen, len(want))
	}
}

// TestRealFilesMLP checks the MLP's figures: 3 inputs -> 5 -> 2, each
// Gemm with bias (from the file's initializers).
func TestRealFilesMLP(t *testing.T) {
	g, err := ReadFile(filepath.Join(gonnxDir(t), "mlp.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tot := g.Totals()
	if tot.Weights != 3*5+5*2 || tot.Biases != 5+2 || tot.MACs != 25 {
		t.Fatalf("totals %+v", tot)
	}
}
