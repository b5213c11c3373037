package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compass-go/compass/engine/api"
)

// compileFlags are the flags compile (and later simulate) share.
type compileFlags struct {
	model, chip, methods, objective *string
	placement                       *string
	refine                          *int
	pipeline                        *string
	inputShape                      *string
	inputs                          *inputList
	batch                           *int
	seed                            *uint64
	asJSON                          jsonOutput
	ga                              map[string]*optionalInt // by GA setting key (population, generations, ...)
	limits                          limitFlags
}

func addCompileFlags(fs *flag.FlagSet) *compileFlags {
	return &compileFlags{
		model:      fs.String("model", "", "zoo network name (see compass models), a .onnx model or a .json graph file"),
		inputShape: fs.String("input-shape", "", "full shape of an ONNX model's first input, batch first (e.g. 1,3,224,224)"),
		inputs:     addInputFlag(fs),
		chip:       fs.String("chip", "M", "chip preset (see compass chips) or a chip .json file"),
		batch:      fs.Int("batch", 1, "inputs per batch: each partition runs the whole batch before its weights are replaced"),
		methods: fs.String("method", "compass", "comma-separated: "+strings.Join(api.Methods(), ", ")+", "+api.MethodOptimalSim+
			" (the estimator's best plans, simulated: see --refine), or all (every one but "+api.MethodOptimalSim+")"),
		objective: fs.String("objective", "latency", "what the search minimises: latency (maximises throughput), energy, or edp"),
		seed:      fs.Uint64("seed", 1, "seed of every random choice (the GA's)"),
		placement: fs.String("placement", api.PlacementPolicies()[0], "how replicas take a core's crossbars: "+strings.Join(api.PlacementPolicies(), " or ")+
			" (unit: every replica of a unit whole on one core; crossbar: cores filled crossbar by crossbar, a replica may continue on the next core)"),
		pipeline: fs.String("pipeline", "per-input", "per-input (a layer starts an input after the previous layer's whole output) or row (a layer starts once the input rows its window reads are ready)"),
		asJSON:   addJSONFlags(fs, "print the result as JSON"),
		ga:       addGAFlags(fs),
		refine: fs.Int("refine", 0, fmt.Sprintf("method %s: how many of the estimator's best plans to schedule and simulate, the best by the simulator kept (0: the engine's default, %d)",
			api.MethodOptimalSim, api.DefaultRefine)),
		limits: addLimitFlags(fs, "max-nodes", "max-units", "max-spans", "max-ga-plan-cuts", "max-ga-work",
			"max-sim-events", "max-sim-dram-bursts", "max-trace-bytes", "max-program-bytes", "max-refine"),
	}
}

// optionalInt is an integer flag that stays unset until given, so that
// the engine's default applies; its help shows that default, not a
// sentinel.
type optionalInt struct{ v *int }

func (o *optionalInt) String() string {
	if o == nil || o.v == nil {
		return ""
	}
	return strconv.Itoa(*o.v)
}

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("give a whole number")
	}
	o.v = &n
	return nil
}

// addGAFlags defines --ga-KEY for each GA setting a request may change,
// with the engine's summary and default (api.Meta).
func addGAFlags(fs *flag.FlagSet) map[string]*optionalInt {
	out := map[string]*optionalInt{}
	for _, s := range api.Meta().GASettings {
		v := &optionalInt{}
		fs.Var(v, "ga-"+s.Key, fmt.Sprintf("GA `N`: %s (method compass; default %d, %s)", s.Summary, s.Default, s.DefaultSource))
		out[s.Key] = v
	}
	return out
}

// gaSettings are the GA settings the flags give, and whether any is set.
func (f *compileFlags) gaSettings() (*api.GASettings, bool) {
	ga := &api.GASettings{}
	set := false
	for key, dst := range map[string]**int{"population": &ga.Population, "generations": &ga.Generations, "keep": &ga.Keep, "patience": &ga.Patience} {
		if o := f.ga[key]; o != nil && o.v != nil {
			*dst = o.v
			set = true
		}
	}
	return ga, set
}

// inputList collects the repeatable --input flag.
type inputList struct{ settings []api.InputSetting }

func (l *inputList) String() string { return "" }

func (l *inputList) Set(s string) error {
	in, err := api.ParseInputSetting(s)
	if err != nil {
		return err
	}
	l.settings = append(l.settings, in)
	return nil
}

func addInputFlag(fs *flag.FlagSet) *inputList {
	l := &inputList{}
	fs.Var(l, "input", "set an ONNX model's graph input by name, repeatable: NAME=1,3,48,192 (full shape as declared, batch included) or NAME:value=16000 (the values of a small integer input, e.g. a sample rate); compass inputs lists them")
	return l
}

// modelOptions turns --input-shape and --input into model options.
func modelOptions(inputShape string, inputs *inputList) (api.ModelOptions, error) {
	shape, err := api.ParseInputShape(inputShape)
	if err != nil {
		return api.ModelOptions{}, usageError{err.Error()}
	}
	settings, err := api.MergeInputSettings(inputs.settings)
	if err != nil {
		return api.ModelOptions{}, usageError{err.Error()}
	}
	return api.ModelOptions{InputShape: shape, Inputs: settings}, nil
}

func (f *compileFlags) request(fs *flag.FlagSet) (api.CompileRequest, error) {
	if *f.model == "" {
		return api.CompileRequest{}, usagef("--model is required: name a network from `compass models`, a .onnx model or a .json graph file")
	}
	if err := checkModelName("model", *f.model); err != nil {
		return api.CompileRequest{}, err
	}
	if err := checkChipName("chip", *f.chip); err != nil {
		return api.CompileRequest{}, err
	}
	opt, err := modelOptions(*f.inputShape, f.inputs)
	if err != nil {
		return api.CompileRequest{}, err
	}
	methods, err := api.ParseMethods(*f.methods)
	if err != nil {
		return api.CompileRequest{}, usagef("--method: %v", err)
	}
	req := api.CompileRequest{Model: *f.model, Chip: *f.chip, Batch: *f.batch, Methods: methods,
		Objective: *f.objective, Seed: *f.seed, Placement: *f.placement, Refine: *f.refine, Pipeline: *f.pipeline}
	if len(opt.InputShape) > 0 || len(opt.Inputs) > 0 {
		if req.Graph, err = api.LoadModelWith(*f.model, opt); err != nil {
			return api.CompileRequest{}, err
		}
	}
	if ga, set := f.gaSettings(); set {
		req.GA = ga
	}
	if req.Limits, err = f.limits.limits(); err != nil {
		return api.CompileRequest{}, err
	}
	return req, nil
}

func cmdCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compile", `Usage: compass compile --model NAME|file.onnx|file.json --chip S|M|L|file.json [--batch B]
       [--input NAME=1,3,224,224]... [--input NAME:value=16000]... [--input-shape 1,3,224,224]
       [--method compass|greedy|layerwise|optimal|optimal-sim|all] [--refine K] [--objective latency|energy|edp]
       [--seed N] [--placement unit|crossbar] [--pipeline per-input|row] [--ga-population N] [--ga-generations N] [--ga-keep N]
       [--ga-patience N] [--json]

Cuts the model into partitions that each fit the chip, runs them one after another
with weight replacement from DRAM between them, and reports each partition (layers,
units, replication, crossbars used, time split into weight load, crossbar write,
compute and activation I/O) and the totals: throughput, energy per inference, EDP.
With --method all it adds a comparison with ratios to the baselines and the GA's
gap to the exact optimum.`, stdout, stderr)
	f := addCompileFlags(fs)
	programFile := fs.String("program", "", "also write the scheduled per-core instruction program as msgpack to this file (one --method)")
	simulate := fs.Bool("simulate", false, "also simulate every plan and print the simulated figures beside the estimate (text output; compass simulate --json has them all)")
	listingFile := fs.String("listing", "", "also write the program as a readable listing to this file (one --method)")
	if err := parse(fs, args); err != nil {
		return err
	}
	req, err := f.request(fs)
	if err != nil {
		return err
	}
	if (*programFile != "" || *listingFile != "") && len(req.Methods) != 1 {
		return usagef("--program and --listing export one plan: give exactly one --method")
	}
	res, err := api.Compile(context.Background(), req)
	if err != nil {
		return err
	}
	if *programFile != "" || *listingFile != "" {
		if err := writeProgram(req, *programFile, *listingFile); err != nil {
			return err
		}
	}
	if *f.asJSON.on {
		return f.asJSON.write(stdout, res)
	}
	if err := printCompile(stdout, res); err != nil {
		return err
	}
	if *simulate {
		sr, err := api.Simulate(context.Background(), req, false, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "\nsimulated (the same plans, scheduled into instructions)")
		t := table{header: []string{"method", "inferences/s", "estimated", "energy/inference", "estimated", "estimated/simulated latency"}}
		for _, r := range sr.Results {
			t.add(r.Method, perSecond(r.ThroughputPerS), perSecond(r.Estimated.ThroughputPerS),
				joules(r.EnergyPerInferenceJ), joules(r.Estimated.EnergyPerInferenceJ), fmt.Sprintf("%.3f", r.Estimated.LatencyS/r.LatencyS))
		}
		return t.write(stdout)
	}
	return nil
}

// writeProgram schedules the request's plan and writes it as msgpack
// and/or as a listing.
func writeProgram(req api.CompileRequest, programFile, listingFile string) error {
	p, err := api.Program(context.Background(), req)
	if err != nil {
		return err
	}
	if err := writeFile(programFile, p.WriteMsgpack); err != nil {
		return err
	}
	return writeFile(listingFile, p.WriteListing)
}

func printCompile(w io.Writer, res *api.CompileResult) error {
	fit := "does not fit: partitioned, weights replaced from DRAM"
	if res.Fits {
		fit = "fits without partitioning"
	}
	fmt.Fprintf(w, "%s on chip %s, batch %d, objective %s, seed %d%s\n%d partition units, %d crossbars needed of %d (%s)\n",
		res.Model, res.Chip, res.Batch, res.Objective, res.Seed, pipelineNote(res.Pipeline), res.Units, res.CrossbarsNeeded, res.CrossbarsAvailable, fit)
	for _, r := range res.Results {
		fmt.Fprintf(w, "\n%s: %d partitions, %s inferences/s, %s per inference, EDP %.4g J·s, batch latency %s\n",
			r.Method, len(r.Partitions), perSecond(r.ThroughputPerS), joules(r.EnergyPerInferenceJ), r.EDPJS, seconds(r.LatencyS))
		t := table{header: []string{"#", "layers", "units", "crossbars", "max replicas", "weight load", "write", "compute", "act. I/O", "total"}, left: []int{1}}
		for _, p := range r.Partitions {
			layers := p.FirstLayer
			if p.LastLayer != p.FirstLayer {
				layers += " .. " + p.LastLayer
			}
			maxRep := 0
			for _, rp := range p.Replication {
				maxRep = max(maxRep, rp.Replicas)
			}
			t.add(p.Index, layers, p.Units, fmt.Sprintf("%d/%d", p.CrossbarsUsed, p.CrossbarsAvailable), maxRep,
				seconds(p.WeightLoadS), seconds(p.WriteS), seconds(p.ComputeS), seconds(p.IOS), seconds(p.TimeS))
		}
		if err := t.write(w); err != nil {
			return err
		}
		if rr := r.Refine; rr != nil {
			fmt.Fprintf(w, "simulated the estimator's %d best plans and kept its rank %d (rank 0 is optimal's plan): %s inferences/s, %s per inference on the simulator; optimal's plan there: %s inferences/s, %s\n",
				len(rr.Plans), rr.Rank, perSecond(rr.Simulated.ThroughputPerS), joules(rr.Simulated.EnergyPerInferenceJ),
				perSecond(rr.OptimumSimulated.ThroughputPerS), joules(rr.OptimumSimulated.EnergyPerInferenceJ))
		}
	}
	if len(res.Results) > 1 {
		fmt.Fprintln(w, "\ncomparison")
		t := table{header: []string{"method", "partitions", "inferences/s", "energy/inference", "EDP (J·s)", "vs greedy", "vs layerwise", "EDP gain vs greedy", "gap to optimum"}}
		times := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return fmt.Sprintf("%.2fx", *v)
		}
		for i, c := range res.Compare() {
			r := &res.Results[i]
			gap := "-"
			if c.GapToOptimal != nil {
				gap = fmt.Sprintf("%.2f%%", 100**c.GapToOptimal)
			}
			t.add(r.Method, len(r.Partitions), perSecond(r.ThroughputPerS), joules(r.EnergyPerInferenceJ),
				fmt.Sprintf("%.4g", r.EDPJS), times(c.VsGreedy), times(c.VsLayerwise), times(c.EDPGainVsGreedy), gap)
		}
		return t.write(w)
	}
	return nil
}

func cmdSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", `Usage: compass sweep [--models a,b] [--chips S,M,L] [--batches 1,2,4,8,16] [--method all]
       [--objective latency] [--seed N] [--pipeline per-input|row] [--json]

Compiles every configuration of a grid (by default the paper's: VGG16, ResNet18 and
SqueezeNet 1.1 on chips S, M, L at batch 1, 2, 4, 8, 16) with every method, and prints
throughput ratios per network beside the ratios the paper reports.`, stdout, stderr)
	grid := api.PaperGrid()
	models := fs.String("models", strings.Join(grid.Models, ","), "comma-separated networks")
	chips := fs.String("chips", strings.Join(grid.Chips, ","), "comma-separated chips")
	batches := fs.String("batches", "1,2,4,8,16", "comma-separated batch sizes")
	methods := fs.String("method", "all", "comma-separated methods, or all")
	objective := fs.String("objective", grid.Objective, "latency, energy or edp")
	seed := fs.Uint64("seed", grid.Seed, "seed of every random choice")
	pipeline := fs.String("pipeline", "per-input", "per-input or row (see compass compile)")
	simulate := fs.Bool("simulate", false, "also schedule and simulate every plan, and print the simulated throughput and the spread of estimated / simulated latency and energy")
	asJSON := addJSONFlags(fs, "print JSON")
	lf := addLimitFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	lim, err := lf.limits()
	if err != nil {
		return err
	}
	if err := checkNames("models", splitList(*models), checkModelName); err != nil {
		return err
	}
	if err := checkNames("chips", splitList(*chips), checkChipName); err != nil {
		return err
	}
	req := api.SweepRequest{Models: splitList(*models), Chips: splitList(*chips), Objective: *objective, Seed: *seed, Pipeline: *pipeline, Simulate: *simulate, Limits: lim}
	for _, b := range splitList(*batches) {
		v, err := strconv.Atoi(b)
		if err != nil || v < 1 {
			return usagef("--batches: %q is not a positive integer", b)
		}
		req.Batches = append(req.Batches, v)
	}
	ms, err := api.ParseMethods(*methods)
	if err != nil {
		return usagef("--method: %v", err)
	}
	req.Methods = ms
	start := time.Now()
	res, err := api.Sweep(context.Background(), req)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if *asJSON.on {
		return asJSON.write(stdout, struct {
			*api.SweepResult
			Summary []api.NetworkSummary `json:"summary"`
		}{res, res.Summarise()})
	}
	header := []string{"model", "chip", "batch"}
	for _, m := range ms {
		header = append(header, m)
	}
	t := table{header: header}
	for _, row := range res.Rows {
		cells := []any{row.Model, row.Chip, row.Batch}
		for _, m := range ms {
			f := row.Figure(m)
			cells = append(cells, perSecond(f.ThroughputPerS))
		}
		t.add(cells...)
	}
	fmt.Fprintf(stdout, "throughput (inferences/s), objective %s, seed %d%s\n", res.Objective, res.Seed, pipelineNote(res.Pipeline))
	if err := t.write(stdout); err != nil {
		return err
	}
	if *simulate {
		if err := printSimulated(stdout, res, ms); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "\nmean throughput ratios per network, estimated (paper's reported ratio in brackets)")
	s := table{header: []string{"model", "method", "vs greedy", "vs layerwise", "EDP gain vs greedy", "mean gap to optimum", "max gap"}}
	var all []float64
	for _, ns := range res.Summarise() {
		var paper *api.PaperRatio
		for i := range api.PaperReportedRatios {
			if api.PaperReportedRatios[i].Model == ns.Model {
				paper = &api.PaperReportedRatios[i]
			}
		}
		for _, m := range ms {
			if m == api.MethodGreedy || m == api.MethodLayerwise {
				continue
			}
			vg, vl := fmt.Sprintf("%.2fx", ns.VsGreedy[m]), fmt.Sprintf("%.2fx", ns.VsLayerwise[m])
			if paper != nil && m == api.MethodCompass {
				vg += fmt.Sprintf(" (%.2fx)", paper.VsGreedy)
				vl += fmt.Sprintf(" (%.2fx)", paper.VsLayerwise)
			}
			if m == api.MethodCompass {
				all = append(all, ns.VsGreedy[m], ns.VsLayerwise[m])
			}
			s.add(ns.Model, m, vg, vl, fmt.Sprintf("%.2fx", ns.EDPVsGreedy[m]),
				fmt.Sprintf("%.2f%%", 100*ns.MeanGapToOptimal[m]), fmt.Sprintf("%.2f%%", 100*ns.MaxGapToOptimal[m]))
		}
	}
	if err := s.write(stdout); err != nil {
		return err
	}
	if len(all) > 0 {
		mean := 0.0
		for _, v := range all {
			mean += v
		}
		fmt.Fprintf(stdout, "\ncompass over both baselines, mean of the per-network ratios: %.2fx (paper: %.2fx)\n", mean/float64(len(all)), api.PaperMeanRatio)
		if d, n := api.PaperThroughputDistance(res.Summarise()); n > 0 {
			fmt.Fprintf(stdout, "distance to the paper's %d throughput figures (mean |ln(ours / paper)|, as in compass reproduce): %.3f\n", n, d)
		}
	}
	fmt.Fprintf(stdout, "%d configurations in %s\n", len(res.Rows), elapsed.Round(time.Millisecond))
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// seconds formats a duration in s with a readable unit.
func seconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3f ms", s*1e3)
	default:
		return fmt.Sprintf("%.1f us", s*1e6)
	}
}

// joules formats an energy with a readable unit.
func joules(j float64) string {
	switch {
	case j >= 1:
		return fmt.Sprintf("%.3f J", j)
	case j >= 1e-3:
		return fmt.Sprintf("%.3f mJ", j*1e3)
	default:
		return fmt.Sprintf("%.1f uJ", j*1e6)
	}
}

// printSimulated prints the simulated throughput of every plan and the
// spread of estimator / simulator latency and energy.
func printSimulated(w io.Writer, res *api.SweepResult, methods []string) error {
	header := []string{"model", "chip", "batch"}
	for _, m := range methods {
		header = append(header, m)
	}
	t := table{header: header}
	var latency, energy []float64
	for _, row := range res.Rows {
		cells := []any{row.Model, row.Chip, row.Batch}
		for _, m := range methods {
			f := row.Figure(m)
			cells = append(cells, perSecond(f.SimThroughputPerS))
			latency = append(latency, f.LatencyS/f.SimLatencyS)
			energy = append(energy, f.EnergyPerInferenceJ/f.SimEnergyPerInferenceJ)
		}
		t.add(cells...)
	}
	fmt.Fprintln(w, "\nsimulated throughput (inferences/s)")
	if err := t.write(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "estimated / simulated latency over %d plans: %s\n", len(latency), spread(latency))
	fmt.Fprintf(w, "estimated / simulated energy per inference over %d plans: %s\n", len(energy), spread(energy))
	return nil
}

// spread says the range, mean and median of ratios.
func spread(v []float64) string {
	if len(v) == 0 {
		return "none"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	mean := 0.0
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("%.3f to %.3f, mean %.3f, median %.3f", s[0], s[len(s)-1], mean, median)
}

// perSecond formats a rate: one decimal from 1 up (the tables' usual
// form), three significant digits below, so that a slow chip's 0.0004
// inferences/s does not print as 0.0.
func perSecond(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// pipelineNote names a pipeline mode other than the default in a
// result's heading.
func pipelineNote(pipeline string) string {
	if pipeline == "" {
		return ""
	}
	return ", pipeline " + pipeline
}
