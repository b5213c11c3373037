package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
)

// simulate's text output has the per-partition phases its help promises:
// one table per method with a row per simulated partition, the simulated
// and estimated figures as the JSON gives them.
func TestSimulateTextShowsEachPartitionsPhases(t *testing.T) {
	args := []string{"simulate", "--model", "resnet18", "--chip", "M", "--batch", "2", "--method", "greedy,layerwise"}
	code, text, errOut := runCLI(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, js, _ := runCLI(append(args, "--json")...)
	var res api.SimulateResult
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	_, help, _ := runCLI("simulate", "--help")
	if !strings.Contains(help, "partition's phases") {
		t.Fatal("simulate --help no longer speaks of each partition's phases: update this test with it")
	}
	for _, r := range res.Results {
		head := r.Method + " partitions:"
		i := strings.Index(text, head)
		if i < 0 {
			t.Fatalf("no %q table in:\n%s", head, text)
		}
		lines := strings.Split(text[i:], "\n")
		if !strings.Contains(lines[1], "weight load") || !strings.Contains(lines[1], "compute") || !strings.Contains(lines[1], "act. I/O") {
			t.Errorf("%s: header %q lacks the phases", r.Method, lines[1])
		}
		for k, p := range r.Partitions {
			row := strings.Fields(lines[2+k])
			want := []string{fmt.Sprint(p.Index), seconds(p.WeightLoadS), seconds(p.EstWeightLoadS), seconds(p.ComputeS), seconds(p.EstComputeS)}
			got := strings.Join(row, " ")
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("%s partition %d: row %q lacks %q", r.Method, k, lines[2+k], w)
				}
			}
		}
		if next := lines[2+len(r.Partitions)]; next != "" {
			t.Errorf("%s: %d partitions but the table goes on with %q", r.Method, len(r.Partitions), next)
		}
	}
}
