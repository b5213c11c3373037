package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
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

// tinyONNX builds, with protowire, a model with input x [N,3,H,W] (N, H,
// W dynamic): Conv(3->4, 3x3, pad 1) -> Relu -> GlobalAveragePool ->
// Flatten -> Gemm(4->10, transB, bias).
func tinyONNX() []byte {
	msg := func(b []byte, num protowire.Number, f func([]byte) []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), f(nil))
	}
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	vi := func(b []byte, num protowire.Number, name string, dims ...any) []byte {
		return msg(b, num, func(v []byte) []byte {
			v = str(v, 1, name)
			return msg(v, 2, func(t []byte) []byte {
				return msg(t, 1, func(tt []byte) []byte {
					tt = protowire.AppendVarint(protowire.AppendTag(tt, 1, protowire.VarintType), 1)
					return msg(tt, 2, func(s []byte) []byte {
						for _, d := range dims {
							s = msg(s, 1, func(dm []byte) []byte {
								if n, ok := d.(int); ok {
									return protowire.AppendVarint(protowire.AppendTag(dm, 1, protowire.VarintType), uint64(n))
								}
								return str(dm, 2, d.(string))
							})
						}
						return s
					})
				})
			})
		})
	}
	init := func(b []byte, name string, dims ...uint64) []byte {
		return msg(b, 5, func(t []byte) []byte {
			n := uint64(1)
			for _, d := range dims {
				t = protowire.AppendVarint(protowire.AppendTag(t, 1, protowire.VarintType), d)
				n *= d
			}
			t = protowire.AppendVarint(protowire.AppendTag(t, 2, protowire.VarintType), 1)
			t = str(t, 8, name)
			return protowire.AppendBytes(protowire.AppendTag(t, 9, protowire.BytesType), make([]byte, 4*n))
		})
	}
	node := func(b []byte, name, op string, in []string, attrs ...[]byte) []byte {
		return msg(b, 1, func(n []byte) []byte {
			for _, s := range in {
				n = str(n, 1, s)
			}
			n = str(n, 2, name)
			n = str(n, 3, name)
			n = str(n, 4, op)
			for _, a := range attrs {
				n = protowire.AppendBytes(protowire.AppendTag(n, 5, protowire.BytesType), a)
			}
			return n
		})
	}
	ints := func(name string, v ...uint64) []byte {
		a := str(nil, 1, name)
		var p []byte
		for _, x := range v {
			p = protowire.AppendVarint(p, x)
		}
		a = protowire.AppendBytes(protowire.AppendTag(a, 8, protowire.BytesType), p)
		return protowire.AppendVarint(protowire.AppendTag(a, 20, protowire.VarintType), 7)
	}
	one := func(name string, v uint64) []byte {
		a := str(nil, 1, name)
		a = protowire.AppendVarint(protowire.AppendTag(a, 3, protowire.VarintType), v)
		return protowire.AppendVarint(protowire.AppendTag(a, 20, protowire.VarintType), 2)
	}
	var m []byte
	m = protowire.AppendVarint(protowire.AppendTag(m, 1, protowire.VarintType), 8)
	m = msg(m, 8, func(o []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(o, 2, protowire.VarintType), 13)
	})
	return msg(m, 7, func(g []byte) []byte {
		g = node(g, "conv", "Conv", []string{"x", "conv.w"}, ints("pads", 1, 1, 1, 1))
		g = node(g, "relu", "Relu", []string{"conv"})
		g = node(g, "gap", "GlobalAveragePool", []string{"relu"})
		g = node(g, "flat", "Flatten", []string{"gap"}, one("axis", 1))
		g = node(g, "fc", "Gemm", []string{"flat", "fc.w", "fc.b"}, one("transB", 1))
		g = str(g, 2, "tiny")
		g = init(g, "conv.w", 4, 3, 3, 3)
		g = init(g, "fc.w", 10, 4)
		g = init(g, "fc.b", 10)
		g = vi(g, 11, "x", "N", 3, "H", "W")
		return vi(g, 12, "fc", "N", 10)
	})
}

// TestInputFlag: --input sets a dynamic input by name on inspect, compile
// and simulate, with the same figures as --input-shape; without it the
// error names the dynamic dimensions and the flag.
func TestInputFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := os.WriteFile(path, tinyONNX(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("inputs", "--model", path)
	if code != 0 || !strings.Contains(out, "[N,3,H,W]") || !strings.Contains(out, "the size of dim 2 and dim 3: --input x=...") {
		t.Fatalf("inputs: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runCLI("inputs", "--model", path, "--json")
	if code != 0 || out != `[{"name":"x","shape":[-1,3,-1,-1],"dim_names":["N","","H","W"],"dtype":"float","batch_axis":0,"dynamic":true}]`+"\n" {
		t.Fatalf("inputs --json: exit %d: %q", code, out)
	}
	code, _, errOut = runCLI("inspect", "--model", path, "--chip", "M")
	if code != exitError || !strings.Contains(errOut, "--input x=1,3,H,W") || !strings.Contains(errOut, "dimension 2 (H)") {
		t.Fatalf("no shape: exit %d: %s", code, errOut)
	}
	code, byName, errOut := runCLI("inspect", "--model", path, "--chip", "M", "--input", "x=1,3,32,32", "--json")
	if code != 0 {
		t.Fatalf("--input: exit %d: %s", code, errOut)
	}
	_, byShape, _ := runCLI("inspect", "--model", path, "--chip", "M", "--input-shape", "1,3,32,32", "--json")
	if byName != byShape || !strings.Contains(byName, `"macs":110632`) {
		t.Fatalf("--input and --input-shape differ or wrong MACs:\n%s\n%s", byName, byShape)
	}
	for _, cmd := range []string{"compile", "simulate"} {
		if code, out, errOut := runCLI(cmd, "--model", path, "--chip", "S", "--input", "x=1,3,16,16", "--method", "greedy"); code != 0 || !strings.Contains(out, "greedy") {
			t.Fatalf("%s --input: exit %d: %s%s", cmd, code, out, errOut)
		}
	}
	for _, bad := range [][]string{{"--input", "x"}, {"--input", "x=1,a"}, {"--input", "x=1,3,8,8", "--input", "x=1,3,4,4"}} {
		if code, _, errOut := runCLI(append([]string{"inspect", "--model", path}, bad...)...); code != exitUsage || !strings.Contains(errOut, "--input") {
			t.Errorf("%v: exit %d: %s", bad, code, errOut)
		}
	}
	if code, _, errOut := runCLI("inspect", "--model", path, "--input", "y=1,3,8,8"); code != exitError || !strings.Contains(errOut, `"y" is not a graph input`) {
		t.Errorf("unknown input: exit %d: %s", code, errOut)
	}
}
