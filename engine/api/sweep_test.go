package api

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
)

// A sweep over an edited chip gives, row for row, the figures of a
// compile request carrying the same chip_spec, and the preset itself
// given as a spec gives the preset's figures.
func TestSweepTakesChipSpecs(t *testing.T) {
	m, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	same := *m
	same.Name = "M as a spec"
	edited := *m
	edited.Name = "M with 8 cores"
	edited.Cores = 8
	batches := []int{1, 4}
	methods := []string{MethodGreedy, MethodLayerwise, MethodOptimal}
	res, err := Sweep(context.Background(), SweepRequest{Models: []string{"squeezenet1_1"}, Chips: []string{"M"},
		ChipSpecs: []*hw.Chip{&same, &edited}, Batches: batches, Methods: methods, Objective: "latency", Seed: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var chips []string
	for _, r := range res.Rows {
		if !slices.Contains(chips, r.Chip) {
			chips = append(chips, r.Chip)
		}
	}
	if want := []string{"M", same.Name, edited.Name}; !slices.Equal(chips, want) {
		t.Fatalf("rows name chips %v, want %v (named chips first, then the specs)", chips, want)
	}
	rowsOf := func(chip string) []SweepRow {
		var out []SweepRow
		for _, r := range res.Rows {
			if r.Chip == chip {
				out = append(out, r)
			}
		}
		return out
	}
	preset, asSpec := rowsOf("M"), rowsOf(same.Name)
	for i := range preset {
		if !slices.Equal(preset[i].Figures, asSpec[i].Figures) {
			t.Errorf("batch %d: the preset as a spec gives %+v, the preset %+v", preset[i].Batch, asSpec[i].Figures, preset[i].Figures)
		}
	}
	for i, row := range rowsOf(edited.Name) {
		if row.Batch != batches[i] {
			t.Fatalf("row %d has batch %d, want %d", i, row.Batch, batches[i])
		}
		cr, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "ignored", ChipSpec: &edited,
			Batch: row.Batch, Methods: methods, Objective: "latency", Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range row.Figures {
			r := cr.Result(f.Method)
			if f.ThroughputPerS != r.ThroughputPerS || f.EnergyPerInferenceJ != r.EnergyPerInferenceJ || f.Partitions != len(r.Partitions) {
				t.Errorf("batch %d %s: sweep %+v, compile %v/s %v J %d partitions", row.Batch, f.Method, f, r.ThroughputPerS, r.EnergyPerInferenceJ, len(r.Partitions))
			}
		}
		if p := rowsOf("M")[i].Figure(MethodOptimal); p.ThroughputPerS == row.Figure(MethodOptimal).ThroughputPerS {
			t.Errorf("batch %d: halving the cores left the optimum's throughput at %v: the spec was not used", row.Batch, p.ThroughputPerS)
		}
	}
}

// Only chip_specs (no preset) is a whole grid; a bad spec is refused
// before any compilation, naming chip_specs[i] and its key.
func TestSweepChipSpecErrorsNameTheirField(t *testing.T) {
	m, err := hw.Preset("S")
	if err != nil {
		t.Fatal(err)
	}
	ok := *m
	if _, err := Sweep(context.Background(), SweepRequest{Models: []string{"squeezenet1_1"}, ChipSpecs: []*hw.Chip{&ok},
		Batches: []int{1}, Methods: []string{MethodGreedy}}); err != nil {
		t.Errorf("a sweep with chip_specs and no chips: %v", err)
	}
	bad := *m
	bad.Cores = 0
	bad.ClockHz = -1
	for _, c := range []struct {
		specs  []*hw.Chip
		fields []string
	}{
		{[]*hw.Chip{&ok, &bad}, []string{"chip_specs[1].cores", "chip_specs[1].clock_hz"}},
		{[]*hw.Chip{nil}, []string{"chip_specs[0]"}},
	} {
		_, err := Sweep(context.Background(), SweepRequest{Models: []string{"squeezenet1_1"}, ChipSpecs: c.specs,
			Batches: []int{1}, Methods: []string{MethodGreedy}})
		if err == nil {
			t.Errorf("%v: no error", c.fields)
			continue
		}
		var got []string
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			var in *InputError
			if errors.As(e, &in) {
				got = append(got, in.Field)
			}
		}
		for _, f := range c.fields {
			if !slices.Contains(got, f) {
				t.Errorf("error %q names fields %v, want %s among them", err, got, f)
			}
		}
	}
	if _, err := Sweep(context.Background(), SweepRequest{Models: []string{"squeezenet1_1"}, Batches: []int{1}}); err == nil {
		t.Error("a sweep with no chip at all: no error")
	}
}

// The paper's ratios the sweep prints are the paper's (Park et al.,
// throughput results: 1.80/1.56, 1.71/1.31, 2.24/1.98, mean 1.78), read
// from the reproduction's figure list, not a second copy.
func TestPaperRatiosAreThePapers(t *testing.T) {
	want := []PaperRatio{{"vgg16", 1.80, 1.56}, {"resnet18", 1.71, 1.31}, {"squeezenet1_1", 2.24, 1.98}}
	if !slices.Equal(PaperReportedRatios, want) {
		t.Errorf("PaperReportedRatios %v, want %v", PaperReportedRatios, want)
	}
	if PaperMeanRatio != 1.78 {
		t.Errorf("PaperMeanRatio %v, want 1.78", PaperMeanRatio)
	}
}

// A summary equal to the paper's ratios is at distance 0 on the six
// per-network figures (and off on the mean only by the paper's rounding); one twice the paper's on every ratio is ln 2 away on the six
// and ln(2 x 1.7667 / 1.78) on the mean; a summary without the paper's
// networks or without compass measures nothing.
func TestPaperThroughputDistance(t *testing.T) {
	summary := func(k float64) []NetworkSummary {
		var out []NetworkSummary
		for _, p := range PaperReportedRatios {
			out = append(out, NetworkSummary{Model: p.Model,
				VsGreedy:    map[string]float64{MethodCompass: k * p.VsGreedy, MethodOptimal: 9},
				VsLayerwise: map[string]float64{MethodCompass: k * p.VsLayerwise}})
		}
		return out
	}
	six := (1.80 + 1.56 + 1.71 + 1.31 + 2.24 + 1.98) / 6
	// Only the mean is off: the paper's six ratios average 1.7667.
	if d, n := PaperThroughputDistance(summary(1)); n != 7 || math.Abs(d-math.Abs(math.Log(six/1.78))/7) > 1e-12 {
		t.Errorf("the paper's own ratios: distance %v over %d figures, want |ln(1.7667/1.78)|/7 over 7", d, n)
	}
	want := (6*math.Ln2 + math.Log(2*six/1.78)) / 7
	if d, n := PaperThroughputDistance(summary(2)); n != 7 || math.Abs(d-want) > 1e-12 {
		t.Errorf("twice the paper's ratios: distance %v over %d figures, want %v over 7", d, n, want)
	}
	if d, n := PaperThroughputDistance(summary(2)[:1]); n != 2 || math.Abs(d-math.Ln2) > 1e-12 {
		t.Errorf("VGG16 alone: distance %v over %d figures, want ln 2 over 2 (no mean without all three networks)", d, n)
	}
	other := []NetworkSummary{{Model: "alexnet", VsGreedy: map[string]float64{MethodCompass: 2}, VsLayerwise: map[string]float64{MethodCompass: 2}},
		{Model: "vgg16", VsGreedy: map[string]float64{MethodOptimal: 2}, VsLayerwise: map[string]float64{MethodOptimal: 2}}}
	if d, n := PaperThroughputDistance(other); n != 0 || d != 0 {
		t.Errorf("no paper network with compass: distance %v over %d figures, want none", d, n)
	}
}

// The sweep of the paper's grid on a family measures the same distance to
// the paper's throughput figures as the reproduction of that family: the
// same plans (the paper's GA, seed 1), read through the sweep's summary.
func TestPaperThroughputDistanceIsTheReproductions(t *testing.T) {
	grid := PaperGrid()
	grid.Chips = []string{"S-fit", "M-fit", "L-fit"}
	grid.Methods = []string{MethodGreedy, MethodLayerwise, MethodCompass}
	sw, err := Sweep(context.Background(), grid)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Reproduce(context.Background(), ReproduceRequest{Family: FamilyFit, Seed: grid.Seed})
	if err != nil {
		t.Fatal(err)
	}
	want, n := 0.0, 0
	for _, f := range rep.Figures {
		if f.Role == "held-out" && strings.HasPrefix(f.ID, "throughput-") {
			want += f.Distance
			n++
		}
	}
	if d, m := PaperThroughputDistance(sw.Summarise()); m != n || n != 7 || math.Abs(d-want/float64(n)) > 1e-9 {
		t.Errorf("the sweep's distance %v over %d figures, the reproduction's %v over %d", d, m, want/float64(n), n)
	}
}
