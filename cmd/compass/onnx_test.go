package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gonnxModel returns a sample ONNX model of the gonnx module, which
// scripts/test.sh fetches into the module cache (COMPASS_GONNX_DIR).
func gonnxModel(t *testing.T, name string) string {
	dir := os.Getenv("COMPASS_GONNX_DIR")
	if dir == "" {
		msg := "COMPASS_GONNX_DIR is not set: run bash scripts/test.sh"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return filepath.Join(dir, "sample_models", "onnx_models", name)
}

func TestONNXModelOnInspectAndCompile(t *testing.T) {
	path := gonnxModel(t, "mlp.onnx")
	code, out, errOut := runCLI("inspect", "--model", path, "--chip", "M", "--json")
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errOut)
	}
	var res struct {
		Layers []struct {
			Name string `json:"name"`
			Op   string `json:"op"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Layers) != 2 || res.Layers[0].Name != "Gemm_0" || res.Layers[1].Op != "Linear" {
		t.Fatalf("layers %+v", res.Layers)
	}
	code, out, errOut = runCLI("compile", "--model", path, "--chip", "M", "--input-shape", "1,3", "--method", "greedy,optimal")
	if code != 0 || !strings.Contains(out, "optimal") {
		t.Fatalf("compile: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut = runCLI("inspect", "--model", path, "--input-shape", "1,a"); code != exitUsage || !strings.Contains(errOut, "input shape") {
		t.Errorf("bad --input-shape: exit %d: %s", code, errOut)
	}
	if code, _, errOut = runCLI("inspect", "--model", path, "--input-shape", "1,3,4"); code != exitError || !strings.Contains(errOut, "rank") {
		t.Errorf("--input-shape of the wrong rank: exit %d: %s", code, errOut)
	}
}

func TestInputShapeNeedsONNX(t *testing.T) {
	code, _, errOut := runCLI("inspect", "--model", "resnet18", "--input-shape", "1,3,224,224")
	if code != exitError || !strings.Contains(errOut, "ONNX models only") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
