package calibrate

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/reproduce"
)

// The committed preset (engine/hw/fitted.json) is the fitter's output.
// The full fit runs the latency grid 18 times (about 10 s of CPU); with
// -short the test checks instead that at the committed conversion time
// the fitter picks the committed energy scale and loss (one grid run).
func TestFitReproducesCommittedPreset(t *testing.T) {
	committed, err := hw.Fitted()
	if err != nil {
		t.Fatal(err)
	}
	figs := reproduce.PaperFigures()
	if testing.Short() {
		f := &fitter{ctx: context.Background(), targets: reproduce.WithRole(figs, reproduce.RoleFit), opt: reproduce.Options{Seed: 1, LatencyOnly: true},
			sp: searchSpace, memo: map[float64]evaluation{}}
		if f.base, err = sourcedFamily(); err != nil {
			t.Fatal(err)
		}
		ev, err := f.at(committed.ADCLatencyNs)
		if err != nil {
			t.Fatal(err)
		}
		got := hw.FitParams{GeneratedBy: hw.FittedCommand, ADCLatencyNs: ev.time, MVMEnergyScale: ev.scale, FitLoss: ev.loss}
		if !bytes.Equal(got.JSON(), hw.FittedJSON()) {
			t.Errorf("at the committed conversion time the fitter gives\n%s\nengine/hw/fitted.json holds\n%s(rerun %s)", got.JSON(), hw.FittedJSON(), hw.FittedCommand)
		}
		return
	}
	res, err := Fit(context.Background(), figs, reproduce.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Params.JSON(), hw.FittedJSON()) {
		t.Errorf("the fit gives\n%s\nengine/hw/fitted.json holds\n%s(rerun %s)", res.Params.JSON(), hw.FittedJSON(), hw.FittedCommand)
	}
	// The best conversion time lies inside the searched range, not on
	// its edge (else the range would be cut too short).
	m, err := hw.Preset("M")
	if err != nil {
		t.Fatal(err)
	}
	if x := math.Log2(res.Params.ADCLatencyNs / m.ADCLatencyNs); x <= searchSpace.timeLow || x >= searchSpace.timeHigh {
		t.Errorf("fitted conversion time %v ns is at the edge of the search (log2 %v of the sourced)", res.Params.ADCLatencyNs, x)
	}
}

// perturbed is the embedded figure list with every paper value of the
// given role multiplied by k, read back through ParseFigures.
func perturbed(t *testing.T, role string, k float64) []reproduce.PaperFigure {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(reproduce.PaperFiguresJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range doc["figures"].([]any) {
		fig := f.(map[string]any)
		if fig["role"] != role {
			continue
		}
		n++
		for _, key := range []string{"low", "high"} {
			if v, ok := fig[key].(float64); ok {
				fig[key] = v * k
			}
		}
	}
	if n == 0 {
		t.Fatalf("no figure of role %s", role)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := reproduce.ParseFigures(data)
	if err != nil {
		t.Fatal(err)
	}
	return figs
}

// Held-out figures are not inputs of the fit: with every held-out paper
// value changed the fit is byte-identical, while changing the fit targets
// changes it. A reduced search (two conversion times, no refinement)
// keeps the test fast; the code path is the fit's.
func TestHeldOutFiguresAreNotInputs(t *testing.T) {
	small := searchSpace
	small.timeLow, small.timeHigh, small.timeStep, small.timeRefine = 1, 2, 1, -1
	run := func(figs []reproduce.PaperFigure) []byte {
		res, err := fit(context.Background(), figs, reproduce.Options{Seed: 1}, small)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base := run(reproduce.PaperFigures())
	if got := run(perturbed(t, reproduce.RoleHeldOut, 3)); !bytes.Equal(got, base) {
		t.Error("changing the held-out figures changed the fit")
	}
	if got := run(perturbed(t, reproduce.RoleFit, 1.5)); bytes.Equal(got, base) {
		t.Error("changing the fit targets did not change the fit: the test could not tell an input")
	}
}

func TestFitNeedsTargets(t *testing.T) {
	if _, err := Fit(context.Background(), reproduce.WithRole(reproduce.PaperFigures(), reproduce.RoleHeldOut), reproduce.Options{Seed: 1}); err == nil {
		t.Error("a fit with no target ran")
	}
}

// golden finds the minimum of a parabola whose minimum is known: 0.3.
func TestGoldenSection(t *testing.T) {
	x, err := golden(-1, 1, 40, func(x float64) (float64, error) { return (x - 0.3) * (x - 0.3), nil })
	if err != nil || math.Abs(x-0.3) > 1e-6 {
		t.Errorf("golden: %v, %v; want 0.3", x, err)
	}
}

// An energy scale applied without re-planning gives each chip the peak
// power of the chip the scale would make (Table I's chip power is a
// held-out figure: the fit must state it for the chips it fits).
func TestScaledChipPowerIsTheFittedChips(t *testing.T) {
	base, err := sourcedFamily()
	if err != nil {
		t.Fatal(err)
	}
	var power []reproduce.PaperFigure
	for _, f := range reproduce.PaperFigures() {
		if len(f.ID) > 11 && f.ID[:11] == "chip-power-" {
			power = append(power, f)
		}
	}
	if len(power) != 3 {
		t.Fatalf("%d chip-power figures, want 3 (S, M, L)", len(power))
	}
	t1 := 2 * base[0].ADCLatencyNs
	chips := make([]*hw.Chip, 3)
	for i, c := range base {
		chips[i] = hw.FitParams{ADCLatencyNs: t1, MVMEnergyScale: 1}.Apply(c)
	}
	r, err := reproduce.Run(context.Background(), "fit", chips, power, reproduce.Options{Seed: 1, LatencyOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	figs, err := scaled(r, power, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range figs {
		want := hw.FitParams{ADCLatencyNs: t1, MVMEnergyScale: 0.25}.Apply(base[i]).PeakPowerMW()
		if math.Abs(f.Ours-want) > 1e-9*want {
			t.Errorf("%s at scale 0.25: %v mW, the scaled chip's peak power is %v mW", f.ID, f.Ours, want)
		}
	}
}
