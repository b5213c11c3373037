package api

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// A request names its pipeline mode: an unknown one is an InputError on
// the field "pipeline" that names the modes, from Compile, Simulate and
// Sweep alike, before any work.
func TestPipelineBadValueIsAnInputError(t *testing.T) {
	req := CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 1, Methods: []string{"greedy"}, Pipeline: "diagonal"}
	check := func(what string, err error) {
		t.Helper()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "pipeline" {
			t.Fatalf("%s with pipeline %q: %v, want an InputError on pipeline", what, req.Pipeline, err)
		}
		for _, want := range []string{`"diagonal"`, "per-input", "row"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %s", what, err, want)
			}
		}
	}
	_, err := Compile(context.Background(), req)
	check("compile", err)
	_, err = Simulate(context.Background(), req, false, nil)
	check("simulate", err)
	_, err = Sweep(context.Background(), SweepRequest{Models: []string{"squeezenet1_1"}, Chips: []string{"S"}, Batches: []int{1},
		Methods: []string{"greedy"}, Pipeline: "diagonal"})
	check("sweep", err)
}

// The row pipeline is available to every method; its results say so, the
// default's JSON does not mention a pipeline (it is byte-identical to a
// request that names per-input), and at batch 1 the row pipeline's greedy
// plan is estimated and simulated faster than the per-input one (greedy
// puts many layers in a partition, which is where rows help).
func TestPipelineRowForEveryMethod(t *testing.T) {
	ctx := context.Background()
	base := CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: Methods(), Seed: 1}
	named := base
	named.Pipeline = "per-input"
	var a, b bytes.Buffer
	for _, x := range []struct {
		req CompileRequest
		buf *bytes.Buffer
	}{{base, &a}, {named, &b}} {
		res, err := Compile(ctx, x.req)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(x.buf, res); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || bytes.Contains(a.Bytes(), []byte(`"pipeline"`)) {
		t.Error("the default pipeline's JSON differs from per-input's, or names a pipeline")
	}
	row := base
	row.Pipeline = "row"
	res, err := Compile(ctx, row)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pipeline != "row" || len(res.Results) != len(Methods()) {
		t.Fatalf("row pipeline: result names pipeline %q and has %d methods, want row and %d", res.Pipeline, len(res.Results), len(Methods()))
	}
	sim := base
	sim.Methods = []string{MethodGreedy}
	perInput, err := Simulate(ctx, sim, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sim.Pipeline = "row"
	rows, err := Simulate(ctx, sim, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, r := perInput.Results[0], rows.Results[0]
	if rows.Pipeline != "row" || r.LatencyS >= p.LatencyS || r.Estimated.LatencyS >= p.Estimated.LatencyS {
		t.Errorf("greedy at batch 1: per input %.1f us simulated (%.1f estimated), row by row %.1f us (%.1f); want row faster in both",
			p.LatencyS*1e6, p.Estimated.LatencyS*1e6, r.LatencyS*1e6, r.Estimated.LatencyS*1e6)
	}
}

// The page's description of the engine lists the pipeline modes, the
// default first, each with a line.
func TestMetaPipelines(t *testing.T) {
	m := Meta()
	if len(m.Pipelines) != 2 || m.Pipelines[0].Name != "per-input" || m.Pipelines[1].Name != "row" {
		t.Fatalf("meta pipelines %+v, want per-input then row", m.Pipelines)
	}
	for _, p := range m.Pipelines {
		if p.Summary == "" {
			t.Errorf("pipeline %s has no summary", p.Name)
		}
	}
}
