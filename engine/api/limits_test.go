package api

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/mapping"
	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/model/zoo"
)

// presetCopy returns a fresh copy of a preset chip.
func presetCopy(t testing.TB, name string) *hw.Chip {
	t.Helper()
	c, err := hw.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	cp := *c
	return &cp
}

func ptr[T any](v T) *T { return &v }

// Every bad request field comes out as an *InputError whose Field is the
// field's JSON path.
func TestBadFieldsAreInputErrorsNamingTheField(t *testing.T) {
	slowClock := presetCopy(t, "M")
	slowClock.ClockHz = math.NaN()
	twoBad := presetCopy(t, "M")
	twoBad.ClockHz = -1
	twoBad.DRAM.TCKNs = 0
	cases := []struct {
		name  string
		req   CompileRequest
		field string
	}{
		{"batch", CompileRequest{Model: "resnet18", Chip: "M", Batch: 0}, "batch"},
		{"batch too large", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1 << 20}, "batch"},
		{"model", CompileRequest{Model: "nope", Chip: "M", Batch: 1}, "model"},
		{"chip", CompileRequest{Model: "resnet18", Chip: "Z", Batch: 1}, "chip"},
		{"method", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{"magic"}}, "methods"},
		{"objective", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Objective: "joy"}, "objective"},
		{"ga population", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, GA: &GASettings{Population: ptr(1)}}, "ga.population"},
		{"ga keep", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, GA: &GASettings{Keep: ptr(500)}}, "ga.keep"},
		{"ga move reach (retired)", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, GA: &GASettings{MoveReach: ptr(-2)}}, "ga.move_reach"},
		{"chip_spec", CompileRequest{Model: "resnet18", ChipSpec: slowClock, Batch: 1}, "chip_spec.clock_hz"},
		{"first of two", CompileRequest{Model: "resnet18", ChipSpec: twoBad, Batch: 1}, "chip_spec.clock_hz"},
		{"limit", CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Limits: &Limits{MaxUnits: -1}}, "limits.max_units"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(context.Background(), c.req)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("error %v (%T), want an *InputError for %q", err, err, c.field)
			}
			if _, err := Simulate(context.Background(), c.req, false, nil); !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("simulate: error %v, want an *InputError for %q", err, c.field)
			}
		})
	}
	// Both bad keys of a chip description are reported, each as its field.
	_, err := Compile(context.Background(), CompileRequest{Model: "resnet18", ChipSpec: twoBad, Batch: 1})
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ie *InputError
		if errors.As(e, &ie) {
			fields = append(fields, ie.Field)
		}
	}
	if strings.Join(fields, ",") != "chip_spec.clock_hz,chip_spec.dram.tck_ns" {
		t.Errorf("fields %v, want chip_spec.clock_hz and chip_spec.dram.tck_ns", fields)
	}
}

// Work over a limit is refused before it starts, with the figure, the
// limit and what lifts it; lifting the limit lets the same request run.
func TestLimitsRefuseWorkBeforeItStarts(t *testing.T) {
	// resnet18 on M: 84 units, 1270 valid spans, 70 nodes.
	cases := []struct {
		lim  Limits
		what string
		need int64
		lift string
	}{
		{Limits{MaxNodes: 69}, "nodes", 70, "--max-nodes"},
		{Limits{MaxUnits: 83}, "partition units", 84, "--max-units"},
		{Limits{MaxSpans: 1269}, "valid spans", 1270, "--max-spans"},
		{Limits{MaxGAPlanCuts: 100*84 - 1}, "GA plan cuts", 100 * 84, "--max-ga-plan-cuts"},
		{Limits{MaxGAWork: 100*31*84 - 1}, "GA work", 100 * 31 * 84, "--max-ga-work"},
	}
	for _, c := range cases {
		lim := c.lim
		req := CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{MethodCompass, MethodOptimal}, Limits: &lim}
		_, err := Compile(context.Background(), req)
		var le *LimitError
		if !errors.As(err, &le) || !strings.Contains(le.What, c.what) || le.Need != c.need || !strings.Contains(le.Lift, c.lift) {
			t.Errorf("%+v: error %v, want a LimitError on %s needing %d lifted by %s", c.lim, err, c.what, c.need, c.lift)
			continue
		}
		if !strings.Contains(err.Error(), c.lift) || !strings.Contains(err.Error(), "over the limit") {
			t.Errorf("message %q does not say the figure and how to lift it", err)
		}
	}
	// Exactly at the figures, nothing is refused.
	lim := Limits{MaxNodes: 70, MaxUnits: 84, MaxSpans: 1270, MaxGAPlanCuts: 100 * 84, MaxGAWork: 100 * 31 * 84}
	if _, err := Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 1,
		Methods: []string{MethodCompass, MethodOptimal}, Limits: &lim}); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	// Greedy and layerwise cost only their own spans: the span limit does
	// not apply to them.
	lim = Limits{MaxSpans: 1}
	if _, err := Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 1,
		Methods: []string{MethodGreedy, MethodLayerwise}, Limits: &lim}); err != nil {
		t.Fatalf("greedy and layerwise under a span limit: %v", err)
	}
}

func TestDefaultLimitsFillZeroFields(t *testing.T) {
	d := DefaultLimits()
	var nilLim *Limits
	got, err := nilLim.WithDefaults()
	if err != nil || got != d {
		t.Fatalf("nil limits: %+v, %v", got, err)
	}
	got, err = (&Limits{MaxUnits: 7}).WithDefaults()
	if err != nil || got.MaxUnits != 7 || got.MaxSpans != d.MaxSpans || got.MaxSimEvents != d.MaxSimEvents {
		t.Fatalf("partial limits: %+v, %v", got, err)
	}
	if d.MaxNodes <= 0 || d.MaxUnits <= 0 || d.MaxSpans <= 0 || d.MaxGAPlanCuts <= 0 || d.MaxGAWork <= 0 ||
		d.MaxSimEvents <= 0 || d.MaxTraceBytes <= 0 || d.MaxProgramBytes <= 0 {
		t.Fatalf("a default is not positive: %+v", d)
	}
	// The paper grid runs within the defaults (the largest zoo figures).
	for _, m := range []string{"vgg16", "resnet18", "squeezenet1_1"} {
		for _, c := range []string{"S", "M", "L", "ReRAM"} {
			if _, err := Compile(context.Background(), CompileRequest{Model: m, Chip: c, Batch: 1,
				Methods: []string{MethodGreedy, MethodOptimal}}); err != nil {
				t.Errorf("%s on %s under the default limits: %v", m, c, err)
			}
		}
	}
}

// A sweep checks its own size and hands its limits to every compilation.
func TestSweepLimitsAndFields(t *testing.T) {
	ctx := context.Background()
	var ie *InputError
	if _, err := Sweep(ctx, SweepRequest{Models: []string{"resnet18"}, Chips: []string{"M"}}); !errors.As(err, &ie) || ie.Field != "batches" {
		t.Errorf("empty batches: %v, want an InputError for batches", err)
	}
	if _, err := Sweep(ctx, SweepRequest{Models: []string{"nope"}, Chips: []string{"M"}, Batches: []int{1}}); !errors.As(err, &ie) || ie.Field != "models" {
		t.Errorf("unknown model: %v, want an InputError for models", err)
	}
	var le *LimitError
	big := SweepRequest{Models: []string{"resnet18", "vgg16"}, Chips: []string{"S", "M", "L"}, Batches: []int{1, 2, 4}, Methods: []string{MethodGreedy},
		Limits: &Limits{MaxSweepRows: 17}}
	if _, err := Sweep(ctx, big); !errors.As(err, &le) || le.Need != 18 || le.Limit != 17 || !strings.Contains(le.Lift, "--max-sweep-rows") {
		t.Errorf("18 configurations over a limit of 17: %v", err)
	}
	small := SweepRequest{Models: []string{"resnet18"}, Chips: []string{"M"}, Batches: []int{1}, Methods: []string{MethodGreedy},
		Limits: &Limits{MaxUnits: 83}}
	if _, err := Sweep(ctx, small); !errors.As(err, &le) || le.Need != 84 || !strings.Contains(le.Lift, "--max-units") {
		t.Errorf("a sweep's compilation over the unit limit: %v", err)
	}
	small.Limits.MaxUnits = 84
	if _, err := Sweep(ctx, small); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

// The unit bound checked before mapping never exceeds the mapping's real
// unit count (so it refuses nothing the exact check would let through),
// and refuses the chips of many tiny crossbars before mapping them.
func TestUnitsCountedBeforeMapping(t *testing.T) {
	for _, name := range zoo.Names() {
		g, err := zoo.Build(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range hw.PresetNames() {
			chip := presetCopy(t, c)
			for _, dims := range [][3]int{{chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore}, {64, 32, 4}} {
				chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore = dims[0], dims[1], dims[2]
				m, err := mapping.Map(g, chip)
				if err != nil {
					continue
				}
				if n, err := mapping.CountUnits(g, chip); err != nil || n != len(m.Units) {
					t.Errorf("%s on %s %v: counted %d (%v), mapped %d", name, c, dims, n, err, len(m.Units))
				}
			}
		}
	}
	chip := presetCopy(t, "M")
	chip.CrossbarRows, chip.CrossbarCols, chip.CrossbarsPerCore = 1, 4, 4
	// By hand: a crossbar of 1x4 one-bit cells holds one 4-bit weight, so
	// a layer of R x C weights is C stripes R crossbars tall, each cut
	// into ceil(R/4) units of a 4-crossbar core.
	g, err := zoo.Build("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, i := range g.CrossbarLayers() {
		n := g.Nodes[i]
		cols := int64(0)
		if n.Conv != nil {
			cols = int64(n.Conv.OutChannels)
		} else {
			cols = int64(n.Linear.OutFeatures)
		}
		rows := g.NodeStats(i).Weights / cols
		want += cols * ((rows + 3) / 4)
	}
	_, err = Compile(context.Background(), CompileRequest{Model: "resnet18", ChipSpec: chip, Batch: 1, Methods: []string{MethodGreedy}})
	var le *LimitError
	if !errors.As(err, &le) || le.Need != want || !strings.Contains(le.Lift, "--max-units") {
		t.Errorf("resnet18 on 1x4 crossbars, 4 a core: %v, want a LimitError naming its %d units and --max-units", err, want)
	}
}

func TestInspectRefusesTooManyUnitsBeforeMapping(t *testing.T) {
	chip := presetCopy(t, "M")
	chip.CrossbarRows, chip.CrossbarCols = 1, 4
	_, err := InspectModel(InspectRequest{Model: "resnet18", ChipSpec: chip})
	var le *LimitError
	if !errors.As(err, &le) || le.Need < 700_000 || !strings.Contains(le.Lift, "--max-units") {
		t.Errorf("inspect of resnet18 on 1x4 crossbars: %v, want a LimitError on units", err)
	}
	if _, err := InspectModel(InspectRequest{Model: "resnet18", Chip: "M", Limits: &Limits{MaxNodes: 10}}); !errors.As(err, &le) || le.Need != 70 {
		t.Errorf("inspect over the node limit: %v", err)
	}
	res, err := InspectModel(InspectRequest{Model: "resnet18", Chip: "M"})
	if err != nil || res.Units != 84 {
		t.Fatalf("inspect within the limits: %v", err)
	}
}

// A panic inside Compile comes back as an *InternalError (here raised by
// the caller's progress callback, the one way a test can make the engine
// panic without a bug).
func TestCompileTurnsAPanicIntoAnInternalError(t *testing.T) {
	_, err := Compile(context.Background(), CompileRequest{Model: "resnet18", Chip: "M", Batch: 1, Methods: []string{MethodCompass},
		Progress: func(string, partition.Generation) { panic("boom") }})
	var ie *InternalError
	if !errors.As(err, &ie) || ie.Stage != "compile" || !strings.Contains(err.Error(), "panic: boom") {
		t.Fatalf("error %v, want an InternalError carrying the panic", err)
	}
}
