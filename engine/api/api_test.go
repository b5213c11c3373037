package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
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

// Every partition's core mapping places each replica of each unit once,
// inside its core, without two replicas sharing a crossbar, keeps no more
// in a core's local memory than it holds, and spills what the partition
// reports.
func TestPlacementIsACoreMapping(t *testing.T) {
	for _, c := range []struct {
		model, chip string
		batch       int
	}{{"resnet18", "M", 16}, {"vgg16", "S", 1}, {"mobilenet_v2", "ReRAM", 4}} {
		res, err := Compile(context.Background(), CompileRequest{Model: c.model, Chip: c.chip, Batch: c.batch, Methods: Methods()})
		if err != nil {
			t.Fatal(err)
		}
		chip, _ := LoadChip(c.chip)
		for _, r := range res.Results {
			for _, p := range r.Partitions {
				want := 0
				for _, rep := range p.Replication {
					want += rep.Units * rep.Replicas
				}
				used := map[[2]int]bool{}
				seen := map[[2]int]bool{}
				xbars, replicas := 0, 0
				var spill int64
				kept := map[int]int64{} // core -> bytes its replicas keep in local memory
				for _, s := range p.Placement {
					spill += int64(s.Count) * s.SpillBytes
					kept[s.Core] += int64(s.Count) * min(s.BufferBytes, s.ShareBytes)
					if (s.BufferBytes > s.ShareBytes) != (s.SpillBytes > 0) {
						t.Errorf("slot %+v: spills iff its buffers exceed its share", s)
					}
					if s.Count < 1 || s.Core < 0 || s.Core >= chip.Cores || s.FirstCrossbar < 0 || s.FirstCrossbar+s.Count*s.Crossbars > chip.CrossbarsPerCore {
						t.Fatalf("slot %+v outside the chip", s)
					}
					for k := 0; k < s.Count; k++ {
						if s.Unit < p.FirstUnit || s.Unit >= p.EndUnit || seen[[2]int{s.Unit, s.Replica + k}] {
							t.Fatalf("slot %+v: unit outside the partition or placed twice", s)
						}
						seen[[2]int{s.Unit, s.Replica + k}] = true
					}
					for x := s.FirstCrossbar; x < s.FirstCrossbar+s.Count*s.Crossbars; x++ {
						if used[[2]int{s.Core, x}] {
							t.Fatalf("crossbar %d of core %d holds two slots", x, s.Core)
						}
						used[[2]int{s.Core, x}] = true
					}
					xbars += s.Count * s.Crossbars
					replicas += s.Count
				}
				if replicas != want {
					t.Fatalf("%s %s partition %d: %d replicas placed, want %d", c.model, r.Method, p.Index, replicas, want)
				}
				if xbars != p.CrossbarsUsed {
					t.Errorf("placement holds %d crossbars, partition reports %d", xbars, p.CrossbarsUsed)
				}
				if spill != p.SpillBytes {
					t.Errorf("%s %s partition %d: the slots spill %d bytes per inference, the partition %d", c.model, r.Method, p.Index, spill, p.SpillBytes)
				}
				for core, b := range kept {
					if b > int64(chip.LocalMemoryBytes) {
						t.Errorf("%s %s partition %d core %d: %d bytes kept in %d of local memory", c.model, r.Method, p.Index, core, b, chip.LocalMemoryBytes)
					}
				}
			}
		}
	}
}

// BenchmarkCompileResNet18M16 is the playground's main request, natively
// (wasm/ has the same benchmark in WebAssembly), JSON encoding included.
func BenchmarkCompileResNet18M16(b *testing.B) {
	for b.Loop() {
		res, err := Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: Methods(), Objective: "latency", Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteJSON(io.Discard, res); err != nil {
			b.Fatal(err)
		}
	}
}

func TestProgramExport(t *testing.T) {
	req := CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 2, Methods: []string{MethodCompass}, Seed: 1}
	p, err := Program(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Partitions) != len(res.Results[0].Partitions) {
		t.Errorf("program has %d partitions, the compile %d", len(p.Partitions), len(res.Results[0].Partitions))
	}
	var buf bytes.Buffer
	if err := p.WriteMsgpack(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := isa.ReadMsgpack(&buf)
	if err != nil || len(back.Partitions) != len(p.Partitions) {
		t.Fatalf("msgpack round trip: %v", err)
	}
	req.Methods = []string{MethodGreedy, MethodCompass}
	if _, err := Program(context.Background(), req); err == nil || !strings.Contains(err.Error(), "one method") {
		t.Errorf("two methods: %v", err)
	}
}
