package api_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/api"
)

// Every file of the ONNX corpus that imports is simulated with every
// method at batch 1 and 2 on chip M, per input and row by row: the run
// finishes (no deadlock, no
// internal error) and every figure is finite and positive. A program over
// the simulator's event limit is refused with a *LimitError before it
// runs; the test says which and how many events the plan needs. `go test
// -run TestONNXCorpusSimulates -v` prints, per file and batch, the
// estimate/simulated latency of each method.
func TestONNXCorpusSimulates(t *testing.T) {
	entries := readCorpusManifest(t)
	dir := corpusDir(t)
	var table []string
	for _, e := range entries {
		if e.ExpectError != nil {
			continue
		}
		t.Run(e.ID, func(t *testing.T) {
			path, _ := readCorpusFile(t, dir, e)
			opt := api.ModelOptions{}
			for _, in := range e.Inputs {
				opt.Inputs = append(opt.Inputs, api.InputSetting{Name: in.Name, Shape: in.Shape, Value: in.Value})
			}
			g, err := api.LoadModelWith(path, opt)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			for _, run := range []struct {
				pipeline string
				batch    int
			}{{"", 1}, {"", 2}, {"row", 1}, {"row", 2}} {
				batch := run.batch
				res, err := api.Simulate(context.Background(), api.CompileRequest{Graph: g, Chip: "M", Batch: batch, Methods: api.Methods(), Seed: 1, Pipeline: run.pipeline}, false, nil)
				var le *api.LimitError
				if errors.As(err, &le) {
					table = append(table, fmt.Sprintf("%-22s batch %d: over a limit: %v", e.ID, batch, err))
					t.Logf("batch %d: %v", batch, err)
					continue
				}
				if err != nil {
					t.Fatalf("simulate at batch %d: %v", batch, err)
				}
				if len(res.Results) != len(api.Methods()) {
					t.Fatalf("batch %d: %d results for %d methods", batch, len(res.Results), len(api.Methods()))
				}
				var ratios []string
				for _, r := range res.Results {
					for name, v := range map[string]float64{"latency": r.LatencyS, "throughput": r.ThroughputPerS,
						"energy": r.EnergyPerInferenceJ, "EDP": r.EDPJS, "estimated latency": r.Estimated.LatencyS} {
						if !(v > 0) || math.IsInf(v, 0) {
							t.Errorf("batch %d %s: %s = %v", batch, r.Method, name, v)
						}
					}
					if r.MVMs <= 0 || r.Events <= 0 {
						t.Errorf("batch %d %s: %d MVMs in %d events", batch, r.Method, r.MVMs, r.Events)
					}
					ratios = append(ratios, fmt.Sprintf("%s %.2f", r.Method, r.Estimated.LatencyS/r.LatencyS))
				}
				table = append(table, fmt.Sprintf("%-22s batch %d %-9s: estimate/simulated latency %s", e.ID, batch, run.pipeline, strings.Join(ratios, ", ")))
			}
		})
	}
	t.Log("\n" + strings.Join(table, "\n"))
}
