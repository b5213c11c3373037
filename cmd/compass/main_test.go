package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/model/zoo"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/compass -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (if the change is intended, rerun with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestInspectResNet18OnMGolden(t *testing.T) {
	code, out, errOut := runCLI("inspect", "--model", "resnet18", "--chip", "M")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "inspect_resnet18_M.txt", out)
}

func TestInspectJSON(t *testing.T) {
	code, out, errOut := runCLI("inspect", "--model", "resnet18", "--chip", "M", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Model  string `json:"model"`
		Chip   string `json:"chip"`
		Layers []struct {
			Name      string `json:"name"`
			Rows      int    `json:"rows"`
			Cols      int    `json:"cols"`
			Crossbars int    `json:"crossbars"`
			Units     int    `json:"units"`
		} `json:"layers"`
		CrossbarsNeeded    int   `json:"crossbars_needed"`
		CrossbarsAvailable int   `json:"crossbars_available"`
		Fits               *bool `json:"fits"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	g, _ := zoo.Build("resnet18")
	if res.Model != "resnet18" || res.Chip != "M" || len(res.Layers) != len(g.CrossbarLayers()) || res.Fits == nil || *res.Fits {
		t.Errorf("unexpected result header: %+v", res)
	}
	sum := 0
	for _, l := range res.Layers {
		if l.Name == "" || l.Rows <= 0 || l.Cols <= 0 || l.Crossbars <= 0 || l.Units <= 0 {
			t.Errorf("incomplete layer %+v", l)
		}
		sum += l.Crossbars
	}
	chip, _ := hw.Preset("M")
	if sum != res.CrossbarsNeeded || res.CrossbarsAvailable != chip.Cores*chip.CrossbarsPerCore {
		t.Errorf("crossbars: sum %d, needed %d, available %d", sum, res.CrossbarsNeeded, res.CrossbarsAvailable)
	}
}

func TestModelsJSON(t *testing.T) {
	code, out, errOut := runCLI("models", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var ms []map[string]any
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(zoo.Names()) {
		t.Fatalf("%d models, zoo has %d", len(ms), len(zoo.Names()))
	}
	for _, m := range ms {
		for _, k := range []string{"name", "params", "weights", "macs"} {
			if _, ok := m[k]; !ok {
				t.Errorf("model %v lacks %q", m["name"], k)
			}
		}
	}
	if ms[1]["name"] != "resnet18" || ms[1]["params"].(float64) != 11689512 {
		t.Errorf("second model %v", ms[1])
	}
}

func TestExitCodesAndMessages(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStderr []string
		inStdout []string
	}{
		{nil, exitUsage, []string{"Usage"}, nil},
		{[]string{"frobnicate"}, exitUsage, []string{`unknown command "frobnicate"`}, nil},
		{[]string{"inspect", "--bogus"}, exitUsage, []string{"bogus"}, nil},
		{[]string{"inspect"}, exitUsage, []string{"--model is required"}, nil},
		{[]string{"inspect", "--model", "resnet18", "extra"}, exitUsage, []string{`unexpected argument "extra"`}, nil},
		{[]string{"inspect", "--model", "lenet9000"}, exitUsage, append([]string{"lenet9000"}, zoo.Names()...), nil},
		{[]string{"inspect", "--model", "resnet18", "--chip", "XXL"}, exitUsage, []string{"XXL", "S", "M", "L"}, nil},
		{[]string{"inspect", "--model", "/nonexistent/net.json"}, exitError, []string{"nonexistent"}, nil},
		{[]string{"inspect", "--help"}, exitOK, nil, []string{"--model", "--chip", "--json"}},
		{[]string{"help", "inspect"}, exitOK, nil, []string{"--model"}},
		{[]string{"help"}, exitOK, nil, []string{"models", "inspect"}},
		{[]string{"chip"}, exitUsage, []string{"--chip is required"}, nil},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, errOut)
		}
		for _, s := range c.inStderr {
			if !strings.Contains(errOut, s) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errOut, s)
			}
		}
		for _, s := range c.inStdout {
			if !strings.Contains(out, s) {
				t.Errorf("%v: stdout lacks %q", c.args, s)
			}
		}
	}
}

func TestChipRoundTripThroughFile(t *testing.T) {
	code, out, errOut := runCLI("chip", "--chip", "S")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "mychip.json")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	code, fromFile, errOut := runCLI("inspect", "--model", "squeezenet1_1", "--chip", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, fromPreset, _ := runCLI("inspect", "--model", "squeezenet1_1", "--chip", "S", "--json")
	if fromFile != fromPreset {
		t.Error("a chip written by `compass chip` and read back maps differently from the preset")
	}
	// A broken chip file names the field.
	bad := strings.Replace(out, `"cores": 16`, `"cores": 0`, 1)
	if bad == out {
		t.Fatal("test could not find the cores field to break")
	}
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI("inspect", "--model", "squeezenet1_1", "--chip", path)
	if code != exitError || !strings.Contains(errOut, "cores") {
		t.Errorf("bad chip file: exit %d, stderr %q", code, errOut)
	}
}

func TestModelFromGraphJSON(t *testing.T) {
	graph := `{"name":"tiny","nodes":[
	 {"name":"x","op":"Input","shape":[3,32,32]},
	 {"name":"c1","op":"Conv","inputs":["x"],"conv":{"out_channels":16,"kernel_h":3,"kernel_w":3,"stride_h":1,"stride_w":1,"pad_top":1,"pad_left":1,"pad_bottom":1,"pad_right":1,"dilation_h":1,"dilation_w":1,"groups":1}},
	 {"name":"r1","op":"ReLU","inputs":["c1"]},
	 {"name":"gap","op":"GlobalAvgPool","inputs":["r1"]},
	 {"name":"flat","op":"Flatten","inputs":["gap"]},
	 {"name":"fc","op":"Linear","inputs":["flat"],"linear":{"out_features":10,"bias":true}}]}`
	path := filepath.Join(t.TempDir(), "tiny.json")
	if err := os.WriteFile(path, []byte(graph), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("inspect", "--model", path, "--chip", "S", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		CrossbarsNeeded int  `json:"crossbars_needed"`
		Fits            bool `json:"fits"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.CrossbarsNeeded != 2 || !res.Fits {
		t.Errorf("tiny graph (%v): %s", err, out)
	}
	typo := strings.Replace(graph, `"out_features"`, `"out_feature"`, 1)
	if err := os.WriteFile(path, []byte(typo), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI("inspect", "--model", path)
	if code != exitError || !strings.Contains(errOut, "out_feature") {
		t.Errorf("typo in graph file: exit %d, stderr %q", code, errOut)
	}
}

// --json prints compact JSON, the bytes the WebAssembly engine returns;
// --indent prints the same JSON laid out for reading.
func TestJSONIndent(t *testing.T) {
	code, compact, errOut := runCLI("inspect", "--model", "resnet18", "--chip", "M", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, indented, errOut := runCLI("inspect", "--model", "resnet18", "--chip", "M", "--json", "--indent")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(compact, "\n") != 1 || !strings.Contains(indented, "\n  \"model\": ") {
		t.Fatalf("compact output has %d lines; indented starts %.40q", strings.Count(compact, "\n"), indented)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(indented)); err != nil {
		t.Fatal(err)
	}
	if buf.String()+"\n" != compact {
		t.Error("--indent changes more than the layout")
	}
}
