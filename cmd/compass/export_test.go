package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/model/zoo"
)

// Every zoo network exported as JSON and read back is the same network:
// the same nodes in the same order with the same attributes and shapes,
// the same totals, and the same mapping on a chip.
func TestExportRoundTripsEveryZooModel(t *testing.T) {
	dir := t.TempDir()
	for _, name := range zoo.Names() {
		path := filepath.Join(dir, name+".json")
		if code, _, errOut := runCLI("export", "--model", name, "--out", path); code != exitOK {
			t.Fatalf("export %s: exit %d: %s", name, code, errOut)
		}
		orig, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		back, err := api.LoadModel(path)
		if err != nil {
			t.Fatalf("%s: the exported file does not load: %v", name, err)
		}
		if back.Name != orig.Name || len(back.Nodes) != len(orig.Nodes) {
			t.Fatalf("%s: read back as %q with %d nodes, want %q with %d", name, back.Name, len(back.Nodes), orig.Name, len(orig.Nodes))
		}
		for i := range orig.Nodes {
			a, b := orig.Nodes[i], back.Nodes[i]
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("%s: node %d differs after the round trip:\n%s\n%s", name, i, ja, jb)
			}
		}
		if !reflect.DeepEqual(orig.Totals(), back.Totals()) {
			t.Errorf("%s: totals %+v, read back %+v", name, orig.Totals(), back.Totals())
		}
		_, fromZoo, _ := runCLI("inspect", "--model", name, "--chip", "M", "--json")
		code, fromFile, errOut := runCLI("inspect", "--model", path, "--chip", "M", "--json")
		if code != exitOK || fromFile != fromZoo {
			t.Errorf("%s: inspect of the exported file (exit %d, %s) differs from the zoo network's", name, code, errOut)
		}
	}
}

// Without --out the JSON goes to stdout, one node a line, without the
// inferred shapes; a bad model or output name is refused before anything
// is written.
func TestExportToStdoutAndErrors(t *testing.T) {
	code, out, errOut := runCLI("export", "--model", "squeezenet1_1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	g, err := api.ReadGraphJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the printed JSON does not read back: %v", err)
	}
	if lines := strings.Count(out, "\n"); lines != len(g.Nodes)+2 {
		t.Errorf("%d lines for %d nodes: want one a node, plus the first and last", lines, len(g.Nodes))
	}
	if strings.Contains(out, `"out":`) {
		t.Error(`the export holds inferred shapes ("out"): the file should hold only what defines the network`)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, exitUsage, "--model is required"},
		{[]string{"export", "--model", "lenet9000", "--out", filepath.Join(dir, "a.json")}, exitUsage, "--model lenet9000"},
		{[]string{"export", "--model", "resnet18", "--out", filepath.Join(dir, "a.txt")}, exitUsage, "--out"},
	} {
		code, _, errOut := runCLI(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused export wrote %d files", len(entries))
	}
}

// The example model of docs/model-json.md loads and compiles with every
// method: a small CNN with a residual block, on chip S.
func TestDocsExampleModelCompiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example model under docs/examples (%v)", err)
	}
	for _, f := range files {
		code, out, errOut := runCLI("compile", "--model", f, "--chip", "S", "--method", "all", "--json")
		if code != exitOK {
			t.Errorf("%s: exit %d: %s", f, code, errOut)
			continue
		}
		var res api.CompileResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(res.Results) != len(api.Methods()) || res.Units == 0 {
			t.Errorf("%s: %d results, %d units", f, len(res.Results), res.Units)
		}
		for _, r := range res.Results {
			if len(r.Partitions) == 0 || r.ThroughputPerS <= 0 {
				t.Errorf("%s, %s: %d partitions, %v inferences/s", f, r.Method, len(r.Partitions), r.ThroughputPerS)
			}
		}
	}
}
