package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
)

// reproduction is what `compass reproduce` computes: the paper's figures
// for the sourced and the fitted family, and the sourced family with four
// ADCs per crossbar (the one-figure sensitivity).
type reproduction struct {
	Families []*api.ReproduceResult `json:"families"`
	FourADCs *api.ReproduceResult   `json:"four_adcs_per_crossbar"`
	// RowPipeline is both families again with every plan costed in the
	// row pipeline (issue 16's comparison of the two modes).
	RowPipeline []*api.ReproduceResult `json:"row_pipeline"`
}

// reproduceLimitFlags are the limits reproduce and calibrate check: each
// configuration as compile checks it, and their count as a sweep's.
var reproduceLimitFlags = []string{"max-nodes", "max-units", "max-spans", "max-ga-plan-cuts", "max-ga-work", "max-sweep-rows"}

// reproduceCommand is the command that regenerates docs/reproduction.md.
const reproduceCommand = "go run ./cmd/compass reproduce --out docs/reproduction.md"

func cmdReproduce(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce", `Usage: compass reproduce [--out FILE] [--summary] [--seed N] [--json]

Computes every figure the COMPASS paper publishes (per-network throughput ratios
and their mean, ResNet18 on chip M at batch 16, the EDP gains and energy ordering
on chip S, the weight-replacement / MVM energy curve, the throughput figure's axis
ranges, Table I's chip power) for the sourced chips S, M, L and the paper-fitted
S-fit, M-fit, L-fit, beside the paper's values, with each family's distance to the
held-out figures. Writes the report (docs/reproduction.md is this output:
`+reproduceCommand+`); --summary prints only the distances, one line a family.`, stdout, stderr)
	out := fs.String("out", "", "write the report to this file instead of standard output")
	seed := fs.Uint64("seed", 1, "seed of the paper's GA")
	summary := fs.Bool("summary", false, "print only each family's held-out and fit distances (with --out, the file still gets the report)")
	asJSON := addJSONFlags(fs, "print the results as JSON instead of the report")
	lf := addLimitFlags(fs, reproduceLimitFlags...)
	if err := parse(fs, args); err != nil {
		return err
	}
	lim, err := lf.limits()
	if err != nil {
		return err
	}
	if *summary && *asJSON.on {
		return usagef("--summary and --json: give one (--json holds the distances too)")
	}
	rep, err := reproduceAll(context.Background(), *seed, lim)
	if err != nil {
		return err
	}
	emit := func(w io.Writer) error {
		if *asJSON.on {
			return asJSON.write(w, rep)
		}
		return writeReproduction(w, rep, *seed)
	}
	if *out != "" {
		if err := writeFile(*out, emit); err != nil {
			return err
		}
		if !*summary {
			return nil
		}
	}
	if *summary {
		return writeDistances(stdout, rep)
	}
	return emit(stdout)
}

// writeDistances prints each family's held-out and fit distances, one
// line a family: the short form of the report's figures.
func writeDistances(w io.Writer, rep *reproduction) error {
	t := table{header: []string{"family", "held-out distance", "figures", "fit distance", "targets"}}
	for _, r := range append(append([]*api.ReproduceResult(nil), rep.Families...), rep.FourADCs) {
		t.add(r.Family, fmt.Sprintf("%.3f", r.HeldOutDistance), countRole(r, "held-out"), fmt.Sprintf("%.3f", r.FitDistance), countRole(r, "fit"))
	}
	return t.write(w)
}

// reproduceAll runs both families and the sensitivity.
func reproduceAll(ctx context.Context, seed uint64, lim *api.Limits) (*reproduction, error) {
	rep := &reproduction{}
	for _, fam := range []string{api.FamilySourced, api.FamilyFit} {
		r, err := api.Reproduce(ctx, api.ReproduceRequest{Family: fam, Seed: seed, Limits: lim})
		if err != nil {
			return nil, fmt.Errorf("%s family: %w", fam, err)
		}
		rep.Families = append(rep.Families, r)
	}
	var four []*hw.Chip
	for _, n := range []string{"S", "M", "L"} {
		c, err := hw.Preset(n)
		if err != nil {
			return nil, err
		}
		c.ADCsPerCrossbar = 4
		four = append(four, c)
	}
	r, err := api.Reproduce(ctx, api.ReproduceRequest{Family: "sourced, 4 ADCs per crossbar", ChipSpecs: four, Seed: seed, Limits: lim})
	if err != nil {
		return nil, fmt.Errorf("sensitivity (4 ADCs per crossbar): %w", err)
	}
	rep.FourADCs = r
	for _, fam := range []string{api.FamilySourced, api.FamilyFit} {
		r, err := api.Reproduce(ctx, api.ReproduceRequest{Family: fam, Seed: seed, Limits: lim, Pipeline: "row"})
		if err != nil {
			return nil, fmt.Errorf("%s family, row pipeline: %w", fam, err)
		}
		rep.RowPipeline = append(rep.RowPipeline, r)
	}
	return rep, nil
}

func cmdCalibrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate", `Usage: compass calibrate [--out engine/hw/fitted.json] [--seed N] [--json]

Fits the figures the COMPASS paper does not publish (the ADC conversion time and
the MVM energy of chips S, M, L) to its fit targets (the figures of role "fit" in
engine/internal/reproduce/paper-figures.json: the replacement / MVM energy curve,
the throughput figure's axis ranges, greedy's first-partition share on ResNet18-M-16;
the held-out figures are never read). Prints the search and the targets at the fit;
--out writes the fit as the S-fit, M-fit, L-fit presets read (engine/hw/fitted.json).
Deterministic; takes seconds.`, stdout, stderr)
	out := fs.String("out", "", "write the fit to this file (engine/hw/fitted.json is the committed one)")
	seed := fs.Uint64("seed", 1, "seed of the paper's GA (the committed fit uses 1)")
	asJSON := addJSONFlags(fs, "print the fit as JSON")
	lf := addLimitFlags(fs, reproduceLimitFlags...)
	if err := parse(fs, args); err != nil {
		return err
	}
	lim, err := lf.limits()
	if err != nil {
		return err
	}
	res, err := api.Calibrate(context.Background(), api.CalibrateRequest{Seed: *seed, Limits: lim})
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, res.Params.JSON(), 0o644); err != nil {
			return err
		}
	}
	if *asJSON.on {
		return asJSON.write(stdout, res)
	}
	fmt.Fprintln(stdout, "search (conversion time, the best MVM energy scale there, loss = sum of squared distances)")
	t := table{header: []string{"adc_latency_ns", "mvm_energy_scale", "loss"}}
	for _, s := range res.Steps {
		t.add(fmt.Sprintf("%.4f", s.ADCLatencyNs), fmt.Sprintf("%.5f", s.MVMEnergyScale), fmt.Sprintf("%.4f", s.Loss))
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nfit: adc_latency_ns %.4f, mvm_energy_scale %.5f, loss %.4f\n\n", res.Params.ADCLatencyNs, res.Params.MVMEnergyScale, res.Params.FitLoss)
	t = table{header: []string{"fit target", "paper", "ours", "distance"}}
	for _, f := range res.Targets {
		t.add(f.ID, f.Paper, figureValue(f.Ours, f.Unit), fmt.Sprintf("%.3f", f.Distance))
	}
	if err := t.write(stdout); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stdout, "\nwrote %s\n", *out)
	}
	return nil
}

// unitFormats are the formats of a figure's value by its unit: ours and
// the paper's (a fraction is shown in percent).
var unitFormats = map[string]struct{ ours, paper string }{
	"x":            {"%.2fx", "%gx"},
	"fraction":     {"%.1f%%", "%g%%"},
	"inferences/s": {"%.0f/s", "~%g/s"},
	"mW":           {"%.0f mW", "%g mW"},
}

// formatUnit formats v by its unit, ours or the paper's.
func formatUnit(v float64, unit string, paper bool) string {
	f, ok := unitFormats[unit]
	if !ok {
		return fmt.Sprintf("%.3g", v)
	}
	if unit == "fraction" {
		v *= 100
	}
	if paper {
		return fmt.Sprintf(f.paper, v)
	}
	return fmt.Sprintf(f.ours, v)
}

// figureValue formats one figure by its unit.
func figureValue(v float64, unit string) string { return formatUnit(v, unit, false) }

// paperValue formats the paper's figure by its unit.
func paperValue(f *api.ReproducedFigure) string {
	one := func(v float64) string { return formatUnit(v, f.Unit, true) }
	switch {
	case f.High == nil:
		return "above " + one(f.Low)
	case *f.High == f.Low:
		return one(f.Low)
	case f.Unit == "fraction" && *f.High == 1:
		return "over " + one(f.Low)
	case f.Unit == "inferences/s":
		return fmt.Sprintf("%g-%g/s", f.Low, *f.High)
	}
	return one(f.Low) + "-" + one(*f.High)
}

// figureOf finds a figure by id.
func figureOf(r *api.ReproduceResult, id string) *api.ReproducedFigure {
	for i := range r.Figures {
		if r.Figures[i].ID == id {
			return &r.Figures[i]
		}
	}
	return nil
}

// writeReproduction writes the report (docs/reproduction.md).
func writeReproduction(w io.Writer, rep *reproduction, seed uint64) error {
	src, fit := rep.Families[0], rep.Families[1]
	p, err := hw.Fitted()
	if err != nil {
		return err
	}
	sM, err := hw.Preset("M")
	if err != nil {
		return err
	}
	var b strings.Builder
	pf := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	tw := func(t table) { b.WriteString(markdownTable(t, "")) }

	pf("# Reproducing the COMPASS paper's figures\n\n")
	pf("This page is generated: `%s` (seed %d) writes it, and a test in `cmd/compass` fails when\n", reproduceCommand, seed)
	pf("it differs from the command's output. Edit the command (`cmd/compass/reproduce.go`) or the list of\n")
	pf("the paper's figures (`engine/internal/reproduce/paper-figures.json`), not this file.\n\n")
	pf("The paper (Park et al., arXiv 2501.06780) compares COMPASS with a greedy and a layerwise partitioner\n")
	pf("on VGG16, ResNet18 and SqueezeNet 1.1, on its chips S, M, L, at batch 1, 2, 4, 8, 16. Every figure it\n")
	pf("publishes is computed here with this project's estimator (`docs/estimator.md`), for two chip families:\n\n")
	pf("- **sourced**: chips `S`, `M`, `L`, every figure from a published source (`docs/hardware.md`), nothing\n")
	pf("  tuned toward the paper. These are the defaults everywhere.\n")
	pf("- **fit**: chips `S-fit`, `M-fit`, `L-fit`, the same chips with two figures the paper does not publish,\n")
	pf("  the MVM timing and the MVM energy, fitted to a declared\n")
	pf("  subset of the paper's figures (role `fit` below) by `go run ./cmd/compass calibrate` (`engine/internal/calibrate`,\n")
	pf("  `docs/hardware.md`, \"The paper-fitted family\"). The fit: ADC conversion time %.3f ns (sourced %.3f ns,\n", p.ADCLatencyNs, sM.ADCLatencyNs)
	pf("  so an MVM takes %.2fx as long) and MVM energy (arrays and ADCs) %.4fx the sourced figure.\n\n", p.ADCLatencyNs/sM.ADCLatencyNs, p.MVMEnergyScale)
	pf("The figures of role `held-out` are never read by the fit; their distance to the paper measures it.\n")
	ga := api.GADefaults{}
	for _, m := range api.Meta().Methods {
		if m.Name == api.MethodCompass && m.GA != nil {
			ga = *m.GA
		}
	}
	pf("`compass` is the paper's GA with its published settings (population %d, %d generations, %d kept, seed %d);\n", ga.Population, ga.Generations, ga.Keep, seed)
	pf("greedy and layerwise are the paper's baselines. A figure's distance is |ln(ours / paper)|, 0 inside\n")
	pf("a range the paper gives.\n\n")

	pf("## Every published figure\n\n")
	t := table{header: []string{"figure", "role", "paper", "sourced", "fit"}}
	for i := range src.Figures {
		f := &src.Figures[i]
		g := figureOf(fit, f.ID)
		t.add(f.Title, f.Role, paperValue(f), figureValue(f.Ours, f.Unit), figureValue(g.Ours, g.Unit))
	}
	tw(t)
	pf("**Held-out distance** (mean |ln(ours / paper)| over the %d held-out figures): sourced **%.3f**, fit **%.3f**.\n",
		countRole(src, "held-out"), src.HeldOutDistance, fit.HeldOutDistance)
	pf("Fit distance (the same over the %d fit targets): sourced %.3f, fit %.3f.\n", countRole(src, "fit"), src.FitDistance, fit.FitDistance)
	pf("Held-out distance by what the figures measure (sourced / fit):")
	for i, g := range heldOutGroups {
		ds, n := heldOutDistance(src, g.prefixes...)
		df, _ := heldOutDistance(fit, g.prefixes...)
		sep := ";"
		if i == len(heldOutGroups)-1 {
			sep = "."
		}
		pf(" %s (%d) %.3f / %.3f%s", g.name, n, ds, df, sep)
	}
	pf("\n\n")
	inside, total := 0, 0
	for _, f := range fit.Figures {
		if f.Role == "fit" {
			total++
			if f.Distance == 0 {
				inside++
			}
		}
	}
	pf("The fit puts %d of its %d targets inside the paper's value or range. ", inside, total)
	if fit.HeldOutDistance < src.HeldOutDistance {
		pf("It brings the held-out figures closer.\n")
	} else {
		pf("It does not bring the held-out figures closer.\n")
	}
	gains, loses := true, true
	for i := range src.Throughput {
		gains = gains && fit.Throughput[i].VsGreedy > src.Throughput[i].VsGreedy
		loses = loses && fit.Throughput[i].VsLayerwise < src.Throughput[i].VsLayerwise
	}
	if p.ADCLatencyNs > sM.ADCLatencyNs && gains && loses {
		pf("The fit asks for slower MVMs (the fitted conversion time is %.2fx the sourced one), and slower MVMs make\n", p.ADCLatencyNs/sM.ADCLatencyNs)
		pf("compute weigh more against replacement, which favours the plans that replicate most (layerwise) and\n")
		pf("punishes the one that can replicate least (greedy): on every network compass gains on greedy and loses\n")
		pf("on layerwise.")
		thrS, _ := heldOutDistance(src, "throughput-")
		thrF, _ := heldOutDistance(fit, "throughput-")
		thr4, _ := heldOutDistance(rep.FourADCs, "throughput-")
		if thrF > thrS && thr4 < thrS {
			pf(" Over the throughput ratios the fitted chips are further from the paper (%.3f against the sourced\n", thrF)
			pf("%.3f), while the faster MVMs of the four-ADC sensitivity (below) bring them closer (%.3f): the fit\n", thrS, thr4)
			pf("targets and the held-out ratios pull the MVM timing in opposite directions.")
		}
		pf("\n")
	}
	pf("\n")

	pf("## Throughput ratios (objective: latency)\n\n")
	pf("Mean over chips S, M, L and batches 1-16 of compass throughput / baseline throughput.\n\n")
	t = table{header: []string{"network", "vs greedy: paper", "sourced", "fit", "vs layerwise: paper", "sourced", "fit", "tallest bar: paper axis", "sourced", "fit"}}
	for i, n := range src.Throughput {
		m := fit.Throughput[i]
		t.add(n.Model, paperValue(figureOf(src, "throughput-"+n.Model+"-vs-greedy")), fmt.Sprintf("%.2fx", n.VsGreedy), fmt.Sprintf("%.2fx", m.VsGreedy),
			paperValue(figureOf(src, "throughput-"+n.Model+"-vs-layerwise")), fmt.Sprintf("%.2fx", n.VsLayerwise), fmt.Sprintf("%.2fx", m.VsLayerwise),
			paperValue(figureOf(src, "axis-"+n.Model)), fmt.Sprintf("%.0f/s", n.Tallest), fmt.Sprintf("%.0f/s", m.Tallest))
	}
	tw(t)

	pf("## ResNet18 on chip M at batch 16\n\n")
	t = table{header: []string{"family", "method", "partitions", "inferences/s", "first partition's share", "weight load summed over the plan"}}
	for _, r := range rep.Families {
		for _, mb := range r.Breakdown {
			wl := planWeightLoadS(mb)
			t.add(r.Family, mb.Method, len(mb.Partitions), fmt.Sprintf("%.1f", mb.ThroughputPerS), fmt.Sprintf("%.1f%%", 100*mb.FirstShare), fmt.Sprintf("%.1f us", wl*1e6))
		}
	}
	tw(t)
	pf("The paper: compass %s faster than greedy and %s faster than layerwise; greedy's first partition takes %s\n",
		paperValue(figureOf(src, "resnet18-M-16-vs-greedy")), paperValue(figureOf(src, "resnet18-M-16-vs-layerwise")), paperValue(figureOf(src, "greedy-first-share-resnet18-M-16")))
	pf("of its time. Here (sourced / fit) compass is %.2fx / %.2fx faster than greedy and %.2fx / %.2fx than layerwise, and\n",
		figureOf(src, "resnet18-M-16-vs-greedy").Ours, figureOf(fit, "resnet18-M-16-vs-greedy").Ours,
		figureOf(src, "resnet18-M-16-vs-layerwise").Ours, figureOf(fit, "resnet18-M-16-vs-layerwise").Ours)
	sShare, fShare := figureOf(src, "greedy-first-share-resnet18-M-16").Ours, figureOf(fit, "greedy-first-share-resnet18-M-16").Ours
	pf("greedy's first partition takes %.1f%% / %.1f%%.", 100*sShare, 100*fShare)
	if g := src.Breakdown[0]; len(g.Partitions) > 1 && math.Abs(fShare-sShare) < 0.05 {
		compute, total := 0.0, 0.0
		for _, pt := range g.Partitions[1:] {
			compute, total = compute+pt.ComputeS, total+pt.TimeS
		}
		pf(" That share hardly moves with the MVM time (%.2fx as long on the fitted\n", p.ADCLatencyNs/sM.ADCLatencyNs)
		pf("chips): greedy's later partitions (from %s on) spend %.0f%% of their time computing (sourced), so they\n", g.Partitions[1].FirstLayer, 100*compute/total)
		pf("scale with the MVM time as the first one does.")
	}
	pf("\n\n")
	wlLo, wlHi := math.Inf(1), 0.0
	for _, r := range rep.Families {
		for _, mb := range r.Breakdown {
			wlLo, wlHi = min(wlLo, planWeightLoadS(mb)), max(wlHi, planWeightLoadS(mb))
		}
	}
	pf("**Weight loads do not depend on the plan.** Each partition streams its own units' weights, and the units\n")
	pf("partition the network, so the weight-load time summed over any plan is the whole network's weights over\n")
	pf("the bandwidth (plus one bus latency a partition): the last column differs between methods and families\n")
	pf("by at most %.2f us, of %.1f us. An extra partition therefore costs only one more crossbar write (%.2f us for\n", (wlHi-wlLo)*1e6, wlHi*1e6, sM.CrossbarWriteNs(sM.CrossbarRows)*1e-3)
	pf("a whole crossbar here) and its activation I/O through DRAM, not more weight traffic.\n\n")
	for _, r := range rep.Families[:1] {
		for _, mb := range r.Breakdown[:1] {
			pf("Greedy's plan (%s family), seconds per batch of 16:\n\n", r.Family)
			t = table{header: []string{"partition", "layers", "crossbars", "weight load", "crossbar write", "compute", "I/O", "total"}}
			for i, pt := range mb.Partitions {
				t.add(i, pt.FirstLayer+" .. "+pt.LastLayer, pt.Crossbars, fmt.Sprintf("%.1f us", pt.WeightLoadS*1e6), fmt.Sprintf("%.1f us", pt.WriteS*1e6),
					fmt.Sprintf("%.1f us", pt.ComputeS*1e6), fmt.Sprintf("%.1f us", pt.IOS*1e6), fmt.Sprintf("%.1f us", pt.TimeS*1e6))
			}
			tw(t)
		}
	}

	pf("## Energy and EDP (ResNet18 on chip S, objective EDP)\n\n")
	t = table{header: []string{"family", "batch", "greedy energy/inference", "layerwise", "compass", "EDP gain vs greedy", "vs layerwise"}}
	for _, r := range rep.Families {
		for _, e := range r.EDP {
			t.add(r.Family, e.Batch, fmt.Sprintf("%.3f mJ", e.Greedy.EnergyPerInferenceJ*1e3), fmt.Sprintf("%.3f mJ", e.Layerwise.EnergyPerInferenceJ*1e3),
				fmt.Sprintf("%.3f mJ", e.Compass.EnergyPerInferenceJ*1e3), fmt.Sprintf("%.2fx", e.Greedy.EDPJS/e.Compass.EDPJS), fmt.Sprintf("%.2fx", e.Layerwise.EDPJS/e.Compass.EDPJS))
		}
	}
	tw(t)
	pf("The paper: EDP %s better than greedy and %s better than layerwise, and compass spending somewhat *more*\n",
		paperValue(figureOf(src, "edp-resnet18-S-vs-greedy")), paperValue(figureOf(src, "edp-resnet18-S-vs-layerwise")))
	pf("energy per inference than greedy. Here compass spends %.2fx (sourced) and %.2fx (fit) greedy's energy.\n",
		figureOf(src, "energy-resnet18-S-compass-over-greedy").Ours, figureOf(fit, "energy-resnet18-S-compass-over-greedy").Ours)
	sS, err := hw.Preset("S")
	if err != nil {
		return err
	}
	st := staticShares(rep.Families, sS.StaticPowerMW())
	pf("The chips' static power (the paper's per-core VFU, memory and control figures, %.1f mW a core) is charged\n", sS.StaticPowerMW()/float64(sS.Cores))
	pf("over the whole run and makes up %.0f-%.0f%% of each plan's energy in the table", 100*st.lo, 100*st.hi)
	if st.slowestSpendsMost {
		pf(", and in every row the slowest\nplan spends the most")
	}
	pf("; the paper's order suggests an energy that is more activity-based.\n\n")

	pf("## Weight-replacement energy against MVM energy (ResNet18, the compass plan)\n\n")
	pf("Replacement (the plan's weights read from DRAM in bursts with their row activations, carried over the\n")
	pf("bus and written into the crossbars) is paid once per batch, MVMs once per input. The paper's figure can\n")
	pf("be read two ways, and both are given, as means over chips S, M, L (per chip in `--json`):\n\n")
	pf("- the plain ratio replacement / MVM energy, which can only fall as c/B;\n")
	pf("- (replacement + MVM) / MVM = 1 + c/B, the paper's own shape (\"roughly 1 + c/B\").\n\n")
	t = table{header: []string{"batch", "paper", "sourced: replacement / MVM", "(replacement + MVM) / MVM", "fit: replacement / MVM", "(replacement + MVM) / MVM"}}
	for _, bt := range []int{1, 2, 4, 8, 16} {
		f := figureOf(src, fmt.Sprintf("replacement-mvm-b%d", bt))
		t.add(bt, paperValue(f), fmt.Sprintf("%.3f", curveRatio(src, bt)), fmt.Sprintf("%.3f", f.Ours),
			fmt.Sprintf("%.3f", curveRatio(fit, bt)), fmt.Sprintf("%.3f", figureOf(fit, f.ID).Ours))
	}
	tw(t)
	b1, b16 := figureOf(src, "replacement-mvm-b1"), figureOf(src, "replacement-mvm-b16")
	mid1 := (b1.Low + *b1.High) / 2
	pf("Read plainly, the paper's %s at batch 1 would need the MVM about %.0fx cheaper than the sourced\n", b1.Paper, mid1/curveRatio(src, 1))
	pf("derivation")
	if at16 := mid1 / 16; at16 < b16.Low || at16 > *b16.High {
		pf(" and would give %.2f at batch 16, not the paper's %s", at16, b16.Paper)
	}
	pf("; read as 1 + c/B the sourced chips give c = %.2f against\n", curveRatio(src, 1))
	pf("the paper's %.1f-%.1f. The fit reads it that way; %d of its 5 curve points are inside the paper's ranges, with\n", b1.Low-1, *b1.High-1, curveInside(fit))
	pf("an MVM energy %.4fx the sourced one (sourced MVM %.0f pJ, of which %.0f pJ are the %d ADC conversions per\n", p.MVMEnergyScale, sM.MVMEnergyPJ(), sM.MVMADCEnergyPJ(), sM.CrossbarCols)
	pf("slice x %d slices). The sourced MVM energy comes from the paper's chip power over ISAAC's ADC timing\n", sM.InputSlices())
	mFit, err := hw.Preset("M-fit")
	if err != nil {
		return err
	}
	pf("(`docs/hardware.md`, D1); the fitted one no longer matches Table I's chip power (a held-out figure):\n")
	pf("chip M-fit's peak power (`PeakPowerMW`, every crossbar running MVMs back to back) is %.0f mW against\n", mFit.PeakPowerMW())
	pf("Table I's %s for chip M (sourced M: %.0f mW).\n\n", paperValue(figureOf(src, "chip-power-M")), sM.PeakPowerMW())

	pf("## Why the figures differ from the paper's\n\n")
	pf("The paper does not publish its clock, MVM and ADC timing, per-operation energies, DRAM or bus\n")
	pf("bandwidth, or write figures, and its code is not released, so the sourced hardware is assembled from\n")
	pf("the sources in `docs/hardware.md`.\n\n")
	cb := src.Breakdown[2] // compass on ResNet18-M-16, sourced
	var cCompute, cReplace float64
	for _, pt := range cb.Partitions {
		cCompute, cReplace = cCompute+pt.ComputeS, cReplace+pt.WeightLoadS+pt.WriteS
	}
	if cCompute > cReplace {
		pf("1. **Compute dominates replacement.** ")
	} else {
		pf("1. **Compute against replacement.** ")
	}
	adcs := fmt.Sprintf("%d %d-bit ADCs", sM.ADCsPerCrossbar, sM.ADCBits)
	if sM.ADCsPerCrossbar == 1 {
		adcs = fmt.Sprintf("one %d-bit ADC", sM.ADCBits)
	}
	pf("With %s per %d-column crossbar at %.2f GS/s\n", adcs, sM.CrossbarCols, 1/sM.ADCLatencyNs)
	pf("   (`docs/hardware.md`) an MVM of a %d-bit input takes %.0f ns, while the whole of ResNet18's weights stream\n", sM.ActivationBits, sM.MVMIntervalNs())
	pf("   from LPDDR3 in %.2f ms and an SRAM crossbar is rewritten in %.2f us. On ResNet18-M-16 the compass plan\n", planWeightLoadS(src.Breakdown[0])*1e3, sM.CrossbarWriteNs(sM.CrossbarRows)*1e-3)
	pf("   spends %.2f ms computing against %.2f ms loading and writing weights (sourced), and replication\n", cCompute*1e3, cReplace*1e3)
	pf("   (which layerwise partitions enjoy to the full) weighs on the throughput accordingly. Compass /\n")
	pf("   layerwise (sourced) is %s.\n", perNetwork(src, func(i int) float64 { return src.Throughput[i].VsLayerwise }))
	pf("2. **Greedy at small batches.** Stages are pipelined per input: at batch 1 a partition of many layers\n")
	pf("   costs the sum of their stage times, and greedy packs many layers with little room to replicate. The\n")
	pf("   row pipeline (`--pipeline row`, see \"Pipeline modes\" below) makes greedy's small batches better.\n")
	pf("3. **Serialising activation I/O.** Entries and exits stream through DRAM while the pipeline computes.\n")
	pf("   Re-costing the same plans with every activation transfer serialised after compute (sourced):\n\n")
	t = table{header: []string{"network", "compass / layerwise as estimated", "with activation I/O serialised", "paper"}}
	var closer, further []string
	bestGain, bestNet := 0.0, ""
	for _, sr := range src.SerialisedIO {
		f := figureOf(src, "throughput-"+sr.Model+"-vs-layerwise")
		t.add(sr.Model, fmt.Sprintf("%.2fx", sr.Estimated), fmt.Sprintf("%.2fx", sr.Serialised), paperValue(f))
		if gain := f.Distance - distanceTo(f, sr.Serialised); gain > 0 {
			closer = append(closer, sr.Model)
			if gain > bestGain {
				bestGain, bestNet = gain, sr.Model
			}
		} else {
			further = append(further, sr.Model)
		}
	}
	b.WriteString(markdownTable(t, "   "))
	pf("   Serialising moves compass / layerwise\n  ")
	if len(closer) > 0 {
		pf(" toward the paper on %s", strings.Join(closer, ", "))
		if len(further) > 0 {
			pf(" and")
		}
	}
	if len(further) > 0 {
		pf(" away from it on %s", strings.Join(further, ", "))
	}
	pf(".")
	if bestNet != "" {
		pf("\n   The largest step toward the paper (%s) takes %.3f off its distance", bestNet, bestGain)
		if bestGain < 0.1 {
			pf(", so the overlap of\n   I/O with compute is not what separates these ratios from the paper's")
		}
		pf(".")
	} else {
		pf(" The overlap of I/O with compute is not what separates these\n   ratios from the paper's.")
	}
	pf("\n")
	most := src.Throughput[0]
	for _, n := range src.Throughput[1:] {
		if n.VsLayerwise > most.VsLayerwise {
			most = n
		}
	}
	pf("4. **Local memory limits replication.** Each replica keeps its line buffer, output rows and partial\n")
	pf("   sums in its share of its core's %d kB (`docs/estimator.md`, \"Local memory\"); what does not fit goes to\n", sM.LocalMemoryBytes/1024)
	pf("   DRAM; layerwise, which replicates one layer over the whole chip, gives each replica the smallest share.\n")
	pf("   Compass / layerwise is largest on %s (%.2fx, sourced), against %s.\n", most.Model, most.VsLayerwise,
		perNetwork(src, func(i int) float64 {
			if src.Throughput[i].Model == most.Model {
				return math.NaN()
			}
			return src.Throughput[i].VsLayerwise
		}))
	if st.lo > 0.5 {
		pf("5. **Static power dominates energy** (above: %.0f-%.0f%% of each plan's energy)", 100*st.lo, 100*st.hi)
		if st.slowestSpendsMost {
			pf(": the energy ordering follows run time")
		}
		pf(".\n")
	} else {
		pf("5. **Static power** is %.0f-%.0f%% of each plan's energy (above).\n", 100*st.lo, 100*st.hi)
	}
	lo, hi := axisSpread(src)
	flo, fhi := axisSpread(fit)
	pf("6. **Absolute throughput** follows the MVM time: the sourced chips' tallest bars are %.2f-%.2fx the\n", lo, hi)
	pf("   top of the paper's axes, the fitted chips' %.2f-%.2fx.\n\n", flo, fhi)

	pf("## Sensitivity: four ADCs per crossbar\n\n")
	c4 := *sM
	c4.ADCsPerCrossbar = 4
	pf("The sourced chips with 4 ADCs per crossbar instead of 1 (an MVM %.2fx faster), nothing else changed:\n\n", sM.MVMIntervalNs()/c4.MVMIntervalNs())
	t = table{header: []string{"network", "compass vs greedy: paper", "1 ADC", "4 ADCs", "vs layerwise: paper", "1 ADC", "4 ADCs"}}
	for i, n := range src.Throughput {
		q := rep.FourADCs.Throughput[i]
		t.add(n.Model, paperValue(figureOf(src, "throughput-"+n.Model+"-vs-greedy")), fmt.Sprintf("%.2fx", n.VsGreedy), fmt.Sprintf("%.2fx", q.VsGreedy),
			paperValue(figureOf(src, "throughput-"+n.Model+"-vs-layerwise")), fmt.Sprintf("%.2fx", n.VsLayerwise), fmt.Sprintf("%.2fx", q.VsLayerwise))
	}
	tw(t)
	thr1, nThr := heldOutDistance(src, "throughput-")
	thr4, _ := heldOutDistance(rep.FourADCs, "throughput-")
	pw1, _ := heldOutDistance(src, "chip-power-")
	pw4, _ := heldOutDistance(rep.FourADCs, "chip-power-")
	pf("Held-out distance over the %d throughput ratios: %.3f with 4 ADCs, %.3f with 1. Over every held-out\n", nThr, thr4, thr1)
	pf("figure: %.3f with 4 ADCs, %.3f with 1", rep.FourADCs.HeldOutDistance, src.HeldOutDistance)
	if pw4 > pw1 {
		pf("; four ADCs with the same energy per conversion also move the chips'\n")
		pf("peak power away from Table I (chip power distance %.3f against %.3f)", pw4, pw1)
	}
	pf(".\n\n")

	pf("## Pipeline modes\n\n")
	pf("Every figure above uses the per-input pipeline (a stage starts on an input once the previous layer's\n")
	pf("whole output for it is ready), the default of `compass compile`. In the row pipeline (`--pipeline row`)\n")
	pf("a layer starts a band of its output rows once the input rows its windows read are ready\n")
	pf("(`docs/estimator.md`). The same grid in both modes, each method's plan searched in that mode:\n\n")
	t = table{header: []string{"network", "family", "compass vs greedy: paper", "per-input", "row", "vs layerwise: paper", "per-input", "row"}}
	for k, fam := range rep.Families {
		row := rep.RowPipeline[k]
		for i, n := range fam.Throughput {
			q := row.Throughput[i]
			t.add(n.Model, fam.Family, paperValue(figureOf(fam, "throughput-"+n.Model+"-vs-greedy")), fmt.Sprintf("%.2fx", n.VsGreedy), fmt.Sprintf("%.2fx", q.VsGreedy),
				paperValue(figureOf(fam, "throughput-"+n.Model+"-vs-layerwise")), fmt.Sprintf("%.2fx", n.VsLayerwise), fmt.Sprintf("%.2fx", q.VsLayerwise))
		}
	}
	tw(t)
	pf("ResNet18 on chip M (and M-fit) at batch 1, inferences/s (estimated):\n\n")
	t = table{header: []string{"family", "pipeline", "greedy", "layerwise", "compass"}}
	for k, fam := range rep.Families {
		for _, r := range []*api.ReproduceResult{fam, rep.RowPipeline[k]} {
			mode := "per-input"
			if r.Pipeline != "" {
				mode = r.Pipeline
			}
			for _, n := range r.Throughput {
				if n.Model != "resnet18" {
					continue
				}
				for _, b := range n.Bars {
					if b.Batch == 1 && (b.Chip == "M" || b.Chip == "M-fit") {
						t.add(r.Family, mode, fmt.Sprintf("%.1f", b.Greedy), fmt.Sprintf("%.1f", b.Layerwise), fmt.Sprintf("%.1f", b.Compass))
					}
				}
			}
		}
	}
	tw(t)
	rowCloser := 0
	for k, fam := range rep.Families {
		per, n := heldOutDistance(fam, "throughput-")
		row, _ := heldOutDistance(rep.RowPipeline[k], "throughput-")
		pf("- %s family: held-out distance over the %d throughput ratios %.3f per input, %.3f row by row", fam.Family, n, per, row)
		pf("; over every held-out figure %.3f and %.3f.\n", fam.HeldOutDistance, rep.RowPipeline[k].HeldOutDistance)
		if row < per {
			rowCloser++
		}
	}
	switch rowCloser {
	case len(rep.Families):
		pf("\nThe paper's throughput ratios look like the row pipeline: on both families its ratios are closer to\n")
		pf("the published ones than the per-input pipeline's. The per-input pipeline stays the default, since\n")
		pf("the paper does not say at what granularity its layers pipeline, and every other figure here is\n")
		pf("measured in it.\n")
	case 0:
		pf("\nThe paper's throughput ratios look like the per-input pipeline: on both families its ratios are\n")
		pf("closer to the published ones than the row pipeline's.\n")
	default:
		pf("\nThe two families disagree on which mode's ratios are closer to the paper's, so the numbers do not\n")
		pf("say which pipeline the paper's figures come from.\n")
	}
	pf("\n")

	pf("## The simulator beside the estimator\n\n")
	pf("`compass simulate` schedules a plan into per-core instructions and runs it on the discrete-event\n")
	pf("simulator (bank-level LPDDR3, shared bus, per-crossbar and per-VFU resources). `compass sweep --simulate`\n")
	pf("prints the simulated figures of every plan of the grid beside the estimator's, and\n")
	pf("`go test ./engine/internal/sim -run PaperGrid -v` the distributions the tests bound.\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// heldOutGroups are the held-out figures by what they measure, by id
// prefix; together they hold every held-out figure (a test checks).
var heldOutGroups = []struct {
	name     string
	prefixes []string
}{
	{"throughput ratios", []string{"throughput-"}},
	{"ResNet18-M-16", []string{"resnet18-M-16-"}},
	{"energy and EDP on chip S", []string{"edp-", "energy-"}},
	{"chip power", []string{"chip-power-"}},
}

// heldOutDistance is the mean distance of r's held-out figures whose id
// starts with one of prefixes, and their count.
func heldOutDistance(r *api.ReproduceResult, prefixes ...string) (float64, int) {
	s, n := 0.0, 0
	for _, f := range r.Figures {
		if f.Role != "held-out" {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(f.ID, p) {
				s += f.Distance
				n++
				break
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return s / float64(n), n
}

// distanceTo is the distance of a value to the paper's figure f.
func distanceTo(f *api.ReproducedFigure, v float64) float64 { return f.PaperFigure.Distance(v) }

// perNetwork lists one throughput figure per network, "1.00x (vgg16),
// 0.95x (resnet18)", skipping NaN.
func perNetwork(r *api.ReproduceResult, v func(i int) float64) string {
	var out []string
	for i, n := range r.Throughput {
		if x := v(i); !math.IsNaN(x) {
			out = append(out, fmt.Sprintf("%.2fx on %s", x, n.Model))
		}
	}
	return strings.Join(out, ", ")
}

// energyShares is the static power's share of the plans' energy in the
// EDP table, and whether the slowest plan spends the most in every row.
type energyShares struct {
	lo, hi            float64
	slowestSpendsMost bool
}

// staticShares computes energyShares over the families' EDP points: a
// plan's time per inference is its EDP over its energy per inference, its
// static energy the chip's static power over that time.
func staticShares(fams []*api.ReproduceResult, staticMW float64) energyShares {
	out := energyShares{lo: math.Inf(1), slowestSpendsMost: true}
	for _, r := range fams {
		for _, e := range r.EDP {
			slowest, costliest := -1, -1
			var tMax, eMax float64
			for k, m := range [3]struct{ energyJ, edpJS float64 }{{e.Greedy.EnergyPerInferenceJ, e.Greedy.EDPJS},
				{e.Layerwise.EnergyPerInferenceJ, e.Layerwise.EDPJS}, {e.Compass.EnergyPerInferenceJ, e.Compass.EDPJS}} {
				t := m.edpJS / m.energyJ
				share := staticMW * 1e-3 * t / m.energyJ
				out.lo, out.hi = min(out.lo, share), max(out.hi, share)
				if t > tMax {
					tMax, slowest = t, k
				}
				if m.energyJ > eMax {
					eMax, costliest = m.energyJ, k
				}
			}
			out.slowestSpendsMost = out.slowestSpendsMost && slowest == costliest
		}
	}
	return out
}

// curveRatio is the plain replacement / MVM ratio at one batch, mean over
// the family's chips.
func curveRatio(r *api.ReproduceResult, batch int) float64 {
	s, n := 0.0, 0
	for _, p := range r.Replacement {
		if p.Batch == batch {
			s += p.Ratio
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

func countRole(r *api.ReproduceResult, role string) int {
	n := 0
	for _, f := range r.Figures {
		if f.Role == role {
			n++
		}
	}
	return n
}

// markdownTable renders a table as Markdown, each line indented.
func markdownTable(t table, indent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s| %s |\n%s|%s\n", indent, strings.Join(t.header, " | "), indent, strings.Repeat("---|", len(t.header)))
	for _, r := range t.rows {
		fmt.Fprintf(&b, "%s| %s |\n", indent, strings.Join(r, " | "))
	}
	b.WriteString("\n")
	return b.String()
}

// planWeightLoadS is a plan's weight-load time summed over its partitions.
func planWeightLoadS(mb api.ReproducedBreakdown) float64 {
	s := 0.0
	for _, pt := range mb.Partitions {
		s += pt.WeightLoadS
	}
	return s
}

// axisSpread is the smallest and largest tallest bar over the paper's
// axis top, over the networks.
func axisSpread(r *api.ReproduceResult) (lo, hi float64) {
	lo = math.Inf(1)
	for _, n := range r.Throughput {
		f := figureOf(r, "axis-"+n.Model)
		if f == nil {
			continue
		}
		top := f.Low
		if f.High != nil {
			top = *f.High
		}
		lo, hi = min(lo, n.Tallest/top), max(hi, n.Tallest/top)
	}
	return lo, hi
}

// curveInside counts the replacement curve's figures inside the paper's
// ranges.
func curveInside(r *api.ReproduceResult) int {
	n := 0
	for _, f := range r.Figures {
		if strings.HasPrefix(f.ID, "replacement-mvm-") && f.Distance == 0 {
			n++
		}
	}
	return n
}
