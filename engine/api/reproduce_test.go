package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
)

func TestReproduceRefusesBadRequests(t *testing.T) {
	m, _ := hw.Preset("M")
	bad := *m
	bad.Cores = 0
	for _, c := range []struct {
		req   ReproduceRequest
		field string
	}{
		{ReproduceRequest{Family: "paper"}, "family"},
		{ReproduceRequest{ChipSpecs: []*hw.Chip{m, m}}, "chip_specs"},
		{ReproduceRequest{ChipSpecs: []*hw.Chip{m, nil, m}}, "chip_specs[1]"},
		{ReproduceRequest{ChipSpecs: []*hw.Chip{m, m, &bad}}, "chip_specs[2]"},
	} {
		_, err := Reproduce(context.Background(), c.req)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("%+v: %v, want an input error on %s", c.req.Family, err, c.field)
		}
	}
}

// A reproduction is bounded like a sweep: its configurations against
// MaxSweepRows before any work, and each configuration's GA work and
// units as Compile checks them.
func TestReproduceWithinLimits(t *testing.T) {
	for _, c := range []struct {
		lim  Limits
		lift string
	}{
		{Limits{MaxSweepRows: 49}, liftSweepRows}, // a reproduction is 50 configurations, a fit 810
		{Limits{MaxGAWork: 1000}, liftGAWork},
		{Limits{MaxUnits: 50}, liftUnits},
	} {
		lim := c.lim
		_, err := Reproduce(context.Background(), ReproduceRequest{Seed: 1, Limits: &lim})
		var le *LimitError
		if !errors.As(err, &le) || le.Lift != c.lift {
			t.Errorf("%+v: %v, want a limit error lifted by %s", c.lim, err, c.lift)
		}
		_, err = Calibrate(context.Background(), CalibrateRequest{Seed: 1, Limits: &lim})
		if !errors.As(err, &le) || le.Lift != c.lift {
			t.Errorf("calibrate %+v: %v, want a limit error", c.lim, err)
		}
	}
}

func TestReproduceAndCalibrateHonourContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Reproduce(ctx, ReproduceRequest{Seed: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("reproduce: %v", err)
	}
	if _, err := Calibrate(ctx, CalibrateRequest{Seed: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("calibrate: %v", err)
	}
}

// The fitted family runs on S-fit, M-fit, L-fit, reports every figure of
// PaperFiguresJSON with the paper's value beside ours, and its JSON keys
// are the documented ones; the same request gives the same bytes.
func TestReproduceFitFamily(t *testing.T) {
	var done, total int
	res, err := Reproduce(context.Background(), ReproduceRequest{Family: FamilyFit, Seed: 1,
		Progress: func(d, n int) { done, total = d, n }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Chips, ",") != "S-fit,M-fit,L-fit" || res.Family != FamilyFit || done != total || total != 10 {
		t.Errorf("chips %v, family %s, progress %d/%d", res.Chips, res.Family, done, total)
	}
	var list struct {
		Figures []struct {
			ID   string  `json:"id"`
			Role string  `json:"role"`
			Low  float64 `json:"low"`
		} `json:"figures"`
	}
	if err := json.Unmarshal(PaperFiguresJSON(), &list); err != nil {
		t.Fatal(err)
	}
	if len(res.Figures) != len(list.Figures) {
		t.Fatalf("%d figures, the list has %d", len(res.Figures), len(list.Figures))
	}
	held, nHeld := 0.0, 0
	for i, f := range res.Figures {
		if f.ID != list.Figures[i].ID || f.Low != list.Figures[i].Low || f.Role != list.Figures[i].Role || f.Paper == "" {
			t.Errorf("figure %d: %+v, the list has %+v", i, f, list.Figures[i])
		}
		if f.Role == "held-out" {
			held += math.Abs(f.Distance)
			nHeld++
		}
	}
	if nHeld != 15 || math.Abs(res.HeldOutDistance-held/15) > 1e-12 {
		t.Errorf("held-out distance %v over %d figures, the figures give %v over 15", res.HeldOutDistance, nHeld, held/15)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"family"`, `"figures"`, `"held_out_distance"`, `"throughput"`, `"bars"`, `"resnet18_m_16"`,
		`"first_partition_share"`, `"replacement_curve"`, `"with_mvm"`, `"edp_resnet18_s"`, `"serialised_io"`, `"chip_power"`, `"peak_mw"`} {
		if !bytes.Contains(buf.Bytes(), []byte(key)) {
			t.Errorf("the JSON lacks %s", key)
		}
	}
	again, err := Reproduce(context.Background(), ReproduceRequest{Family: FamilyFit, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	if err := WriteJSON(&buf2, again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Error("the same request gave different bytes")
	}
}

// The reproduction takes the pipeline mode like a compile request: a bad
// one is refused on the field, and the row pipeline's result names its
// mode and differs from the per-input one's (greedy's partitions of many
// layers gain most row by row, so compass's margin over greedy shrinks).
func TestReproducePipelineMode(t *testing.T) {
	_, err := Reproduce(context.Background(), ReproduceRequest{Pipeline: "rows"})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "pipeline" {
		t.Fatalf("pipeline rows: %v, want an input error on pipeline", err)
	}
	per, err := Reproduce(context.Background(), ReproduceRequest{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	row, err := Reproduce(context.Background(), ReproduceRequest{Seed: 1, Pipeline: "row"})
	if err != nil {
		t.Fatal(err)
	}
	if per.Pipeline != "" || row.Pipeline != "row" {
		t.Fatalf("pipelines named %q and %q, want none for the default and row", per.Pipeline, row.Pipeline)
	}
	for i := range per.Throughput {
		p, r := per.Throughput[i], row.Throughput[i]
		if !(r.VsGreedy < p.VsGreedy) {
			t.Errorf("%s: compass vs greedy %.3f row by row, %.3f per input: greedy should gain most from the row pipeline", p.Model, r.VsGreedy, p.VsGreedy)
		}
	}
}
