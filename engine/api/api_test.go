package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/partition"
)

func TestSweepDoesNotDependOnWorkers(t *testing.T) {
	req := SweepRequest{Models: []string{"squeezenet1_1", "resnet18"}, Chips: []string{"S", "L"}, Batches: []int{1, 8},
		Methods: Methods(), Objective: "latency", Seed: 3}
	req.Workers = 1
	one, err := Sweep(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Workers = 4
	four, err := Sweep(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(one)
	b, _ := json.Marshal(four)
	if string(a) != string(b) {
		t.Error("the sweep's result depends on the number of workers")
	}
}

func TestCompileValidatesRequest(t *testing.T) {
	cases := []struct {
		req  CompileRequest
		want string
	}{
		{CompileRequest{Model: "resnet18", Chip: "M", Batch: -3}, "batch = -3"},
		{CompileRequest{Model: "nope", Chip: "M", Batch: 1}, "nope"},
		{CompileRequest{Model: "resnet18", Chip: "Z", Batch: 1}, "Z"},
		{CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{"magic"}}, "magic"},
		{CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Objective: "joy"}, "joy"},
	}
	for _, c := range cases {
		if _, err := Compile(context.Background(), c.req); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %q", c.req, err, c.want)
		}
	}
}

func TestCompileCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Compile(ctx, CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: []string{MethodCompass},
		Progress: func(string, partition.Generation) {
			calls++
			if calls == 3 {
				cancel()
			}
		}})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled compile returned %v", err)
	}
}
