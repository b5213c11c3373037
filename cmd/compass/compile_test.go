package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/isa"
)

func TestCompileJSONFieldsAndDeterminism(t *testing.T) {
	args := []string{"compile", "--model", "resnet18", "--chip", "M", "--batch", "16", "--method", "all", "--seed", "7", "--json"}
	code, out, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, again, _ := runCLI(args...)
	if out != again {
		t.Fatal("the same request and seed gave different JSON")
	}
	var res struct {
		Results []map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(api.Methods()) {
		t.Fatalf("%d results for --method all, want %d", len(res.Results), len(api.Methods()))
	}
	for _, r := range res.Results {
		for _, k := range []string{"method", "throughput_per_s", "energy_per_inference_j", "edp_j_s", "latency_s", "partitions", "energy_breakdown_j", "dram_bytes_read"} {
			if _, ok := r[k]; !ok {
				t.Errorf("result lacks %q", k)
			}
		}
		var parts []map[string]any
		if err := json.Unmarshal(r["partitions"], &parts); err != nil || len(parts) == 0 {
			t.Fatalf("partitions: %v (%d)", err, len(parts))
		}
		for _, p := range parts {
			for _, k := range []string{"first_layer", "last_layer", "units", "crossbars_used", "crossbars_available", "weight_load_s", "write_s", "compute_s", "io_s"} {
				if _, ok := p[k]; !ok {
					t.Errorf("partition lacks %q", k)
				}
			}
			if p["crossbars_used"].(float64) > p["crossbars_available"].(float64) {
				t.Errorf("partition uses %v of %v crossbars", p["crossbars_used"], p["crossbars_available"])
			}
		}
	}
}

func TestCompileTextComparison(t *testing.T) {
	code, out, errOut := runCLI("compile", "--model", "squeezenet1_1", "--chip", "S", "--batch", "4", "--method", "greedy,optimal,compass")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"comparison", "vs greedy", "gap to optimum", "greedy:", "compass:", "optimal:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Methods are reported in the canonical order whatever the order asked.
	if strings.Index(out, "greedy:") > strings.Index(out, "compass:") || strings.Index(out, "compass:") > strings.Index(out, "optimal:") {
		t.Error("methods out of order")
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compile"}, exitUsage, "--model is required"},
		{[]string{"compile", "--model", "resnet18", "--method", "annealing"}, exitUsage, `"annealing"`},
		{[]string{"compile", "--model", "resnet18", "--batch", "0"}, exitUsage, "--batch: batch = 0"},
		{[]string{"compile", "--model", "resnet18", "--objective", "speed"}, exitUsage, `--objective: objective "speed"`},
		{[]string{"compile", "--model", "resnet18", "--pipeline", "diagonal"}, exitUsage, `--pipeline: pipeline "diagonal" is not a mode`},
		{[]string{"sweep", "--models", "resnet18", "--pipeline", "rows"}, exitUsage, `--pipeline: pipeline "rows" is not a mode`},
		{[]string{"compile", "--model", "resnet18", "--ga-keep", "500"}, exitUsage, "--ga-keep: ga keep = 500"},
		{[]string{"sweep", "--batches", "1,x"}, exitUsage, `"x"`},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestSweepSmallGrid(t *testing.T) {
	code, out, errOut := runCLI("sweep", "--models", "squeezenet1_1", "--chips", "S,M", "--batches", "1,4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Rows    []api.SweepRow       `json:"rows"`
		Summary []api.NetworkSummary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 || len(res.Summary) != 1 || res.Summary[0].Configurations != 4 {
		t.Fatalf("rows %d summary %+v", len(res.Rows), res.Summary)
	}
	for _, row := range res.Rows {
		op := row.Figure(api.MethodOptimal)
		for _, f := range row.Figures {
			if f.LatencyS < op.LatencyS*(1-1e-12) {
				t.Errorf("%s/%s/%d: %s beats the optimum", row.Model, row.Chip, row.Batch, f.Method)
			}
		}
	}
}

func TestCompileWritesProgramAndListing(t *testing.T) {
	dir := t.TempDir()
	prog, list := filepath.Join(dir, "p.msgpack"), filepath.Join(dir, "p.txt")
	code, _, errOut := runCLI("compile", "--model", "squeezenet1_1", "--chip", "S", "--batch", "2", "--program", prog, "--listing", list)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	f, err := os.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := isa.ReadMsgpack(f)
	if err != nil || len(p.Partitions) == 0 {
		t.Fatalf("program: %v", err)
	}
	text, _ := os.ReadFile(list)
	if !strings.Contains(string(text), "MVMUL") || !strings.Contains(string(text), "squeezenet1_1 on chip S") {
		t.Error("listing content")
	}
	code, _, errOut = runCLI("compile", "--model", "squeezenet1_1", "--method", "all", "--program", prog)
	if code != exitUsage || !strings.Contains(errOut, "exactly one --method") {
		t.Errorf("program with all methods: exit %d %q", code, errOut)
	}
}

func TestSimulateJSONAndFiles(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.json")
	code, out, errOut := runCLI("simulate", "--model", "resnet18", "--chip", "M", "--batch", "4", "--method", "greedy,compass", "--trace", trace, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Results []map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 2 {
		t.Fatalf("%d results", len(res.Results))
	}
	for _, r := range res.Results {
		for _, k := range []string{"energy_breakdown_j", "dram_bytes_read", "dram_bytes_written", "partitions", "throughput_per_s", "estimated", "dram_row_hit_rate", "instructions"} {
			if _, ok := r[k]; !ok {
				t.Errorf("simulated result lacks %q", k)
			}
		}
		var parts []map[string]float64
		if err := json.Unmarshal(r["partitions"], &parts); err != nil || len(parts) == 0 {
			t.Fatalf("partitions: %v", err)
		}
		for _, k := range []string{"weight_load_s", "write_s", "compute_s", "io_s"} {
			if _, ok := parts[0][k]; !ok {
				t.Errorf("simulated partition lacks %q", k)
			}
		}
	}
	data, err := os.ReadFile(trace)
	if err != nil || !strings.Contains(string(data), `"start_ns"`) {
		t.Errorf("trace file: %v", err)
	}
	code, text, errOut := runCLI("simulate", "--model", "squeezenet1_1", "--chip", "S", "--batch", "2")
	if code != 0 || !strings.Contains(text, "simulated") || !strings.Contains(text, "energy per inference") {
		t.Errorf("text output: exit %d %s %s", code, text, errOut)
	}
}

func TestSweepSimulate(t *testing.T) {
	code, out, errOut := runCLI("sweep", "--models", "squeezenet1_1", "--chips", "S", "--batches", "1,4", "--method", "greedy,compass", "--simulate")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"simulated throughput", "estimated / simulated latency over 4 plans: ", "estimated / simulated energy per inference over 4 plans: "} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep --simulate output lacks %q", want)
		}
	}
	if got, want := spread([]float64{1, 3, 2, 4.5}), "1.000 to 4.500, mean 2.625, median 2.500"; got != want {
		t.Errorf("spread = %q, want %q", got, want)
	}
	if got, want := spread([]float64{0.9, 1.1, 1}), "0.900 to 1.100, mean 1.000, median 1.000"; got != want {
		t.Errorf("spread = %q, want %q", got, want)
	}
}

func TestCompileSimulate(t *testing.T) {
	code, out, errOut := runCLI("compile", "--model", "squeezenet1_1", "--chip", "S", "--batch", "2", "--method", "greedy,compass", "--simulate")
	if code != 0 || !strings.Contains(out, "simulated (the same plans") || !strings.Contains(out, "estimated/simulated latency") {
		t.Errorf("compile --simulate: exit %d\n%s\n%s", code, out, errOut)
	}
}
