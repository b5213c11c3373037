package api

import (
	"reflect"
	"strings"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/internal/partition"
)

// PageMeta is what a front end shows about the engine beside its results:
// the methods with one line each, the objectives with the figure each
// minimises, the GA settings a request may change with their defaults, the
// batch bounds and the batch sizes of a comparison across batches. The
// playground reads it from the engine (compass.meta in the WebAssembly
// module) instead of keeping copies that could drift from it.
type PageMeta struct {
	Methods    []MethodMeta    `json:"methods"`    // in the order results are reported
	Objectives []ObjectiveMeta `json:"objectives"` // the first is the default
	Pipelines  []PipelineMeta  `json:"pipelines"`  // CompileRequest.Pipeline's modes; the first is the default
	// GASettings are the keys of a request's "ga" object, with the
	// defaults of the methods they apply to.
	GASettings []GASettingMeta `json:"ga_settings"`
	MinBatch   int             `json:"min_batch"`
	MaxBatch   int             `json:"max_batch"`
	// ComparisonBatches are the batch sizes of the paper's grid, which a
	// front end compiles again to compare the methods across batches.
	ComparisonBatches []int `json:"comparison_batches"`
	// PaperFamilies are the chip families Reproduce redraws the paper's
	// figures on (ReproduceRequest.Family); the first is the default.
	PaperFamilies []FamilyMeta `json:"paper_families"`
}

// FamilyMeta is one chip family of Reproduce.
type FamilyMeta struct {
	Name    string   `json:"name"`
	Chips   []string `json:"chips"` // in the roles of the paper's S, M and L
	Summary string   `json:"summary"`
}

// familySummaries describe the chip families.
var familySummaries = map[string]string{
	FamilySourced: "every chip parameter from a cited source (docs/hardware.md)",
	FamilyFit:     "the sourced chips with the MVM timing and energy the paper does not publish fitted to its fit targets",
}

// MethodMeta is one partitioning method.
type MethodMeta struct {
	Name    string `json:"name"`
	Summary string `json:"summary"` // one line, lower case, for a label
	// GA is the method's genetic-algorithm settings when no "ga" is given
	// (nil when the method is not a GA): its generations bound the history
	// a progress bar counts.
	GA *GADefaults `json:"ga,omitempty"`
	// GASettable says whether a request's "ga" changes this method.
	GASettable bool `json:"ga_settable"`
	// Simulates says whether the method schedules and simulates plans to
	// choose one, so that it costs the simulator's time as well (a front
	// end may leave it out of its defaults).
	Simulates bool `json:"simulates"`
}

// PipelineMeta is one pipeline mode (CompileRequest.Pipeline).
type PipelineMeta struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// pipelineSummaries are the pipeline modes' one-line descriptions.
var pipelineSummaries = map[string]string{
	"per-input": "per input: a layer starts an input after the previous layer's whole output",
	"row":       "row by row: a layer starts once the input rows its window reads are ready",
}

// GADefaults are a GA method's settings in a request's "ga" keys.
type GADefaults struct {
	Population  int `json:"population"`
	Generations int `json:"generations"`
	Keep        int `json:"keep"`
	Patience    int `json:"patience"`
}

// ObjectiveMeta is one objective a search minimises.
type ObjectiveMeta struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// Minimises is the MethodResult JSON field the objective makes as
	// small as possible ("latency_s", "energy_per_inference_j", "edp_j_s").
	Minimises string `json:"minimises"`
	// GAScore says how a GA generation's best_score and mean_score (the
	// engine's units) relate to the figures.
	GAScore GAScoreMeta `json:"ga_score"`
}

// GAScoreMeta relates a GA score to a result's figures:
// score x ToSI = Minimises x batch^BatchPower, in Unit.
type GAScoreMeta struct {
	Title      string  `json:"title"` // what the score measures, e.g. "batch time"
	Unit       string  `json:"unit"`  // the SI unit of score x ToSI
	ToSI       float64 `json:"to_si"`
	BatchPower int     `json:"batch_power"`
}

// GASettingMeta is one key of a request's "ga" object.
type GASettingMeta struct {
	Key     string `json:"key"`
	Summary string `json:"summary"`
	Default int    `json:"default"` // the value for the methods it applies to
	// DefaultSource says where the default comes from: the paper, or this
	// project where the paper is silent.
	DefaultSource string `json:"default_source"`
}

// methodSummaries are the methods' one-line descriptions. Every name
// Methods returns has one (a test checks it).
var methodSummaries = map[string]string{
	MethodGreedy:    "packs as many whole layers as fit into each partition (the paper's baseline)",
	MethodLayerwise: "one layer per partition, replicated to fill the chip (the paper's baseline)",
	MethodCompass:   "the paper's genetic algorithm, as published",
	MethodOptimal:   "the exact optimum: a shortest path over the cuts, by dynamic programming",
	"optimal-sim":   "the estimator's best plans, each scheduled and simulated; the best by the simulator",
}

// simulatingMethods are the methods that simulate plans to choose one.
var simulatingMethods = map[string]bool{MethodOptimalSim: true}

// gaMethods are the methods that run the genetic algorithm (a test checks
// that exactly these report a GA history).
var gaMethods = map[string]bool{MethodCompass: true}

// objectiveMeta holds, per objective, the figure it minimises and its GA
// score's relation to that figure (partition.Totals.Score: batch time in
// ns, batch energy in pJ, or their product).
var objectiveMeta = map[partition.Objective]ObjectiveMeta{
	partition.Latency: {Summary: "latency (throughput)", Minimises: "latency_s",
		GAScore: GAScoreMeta{Title: "batch time", Unit: "s", ToSI: nsToS, BatchPower: 0}},
	partition.Energy: {Summary: "energy per inference", Minimises: "energy_per_inference_j",
		GAScore: GAScoreMeta{Title: "batch energy", Unit: "J", ToSI: pJToJ, BatchPower: 1}},
	partition.EDP: {Summary: "energy-delay product", Minimises: "edp_j_s",
		GAScore: GAScoreMeta{Title: "batch energy × batch time", Unit: "J·s", ToSI: pJToJ * nsToS, BatchPower: 2}},
}

// gaSettingSummaries describe the keys of GASettings.
var gaSettingSummaries = map[string]string{
	"population":  "individuals per generation",
	"generations": "generations after the initial one",
	"keep":        "best individuals kept each generation",
	"patience":    "stop after this many generations without a better best (0: never stop early)",
}

// gaDefaultSources say where each default of the paper's GA comes from
// (docs/search.md): the paper gives the population, the generations and
// the individuals kept, and says the GA stops early without giving the
// rule.
var gaDefaultSources = map[string]string{
	"population":  "the paper's",
	"generations": "the paper's",
	"keep":        "the paper's",
	"patience":    "this project's choice: the paper stops early by a rule it does not give",
}

// Meta returns the engine's PageMeta.
func Meta() PageMeta {
	m := PageMeta{GASettings: []GASettingMeta{}}
	var settable *GADefaults
	for _, name := range knownMethods() {
		mm := MethodMeta{Name: name, Summary: methodSummaries[name], Simulates: simulatingMethods[name]}
		if gaMethods[name] {
			mm.GA = gaDefaults(&CompileRequest{}, name)
			// A request's "ga" applies to the method if changing it
			// changes the method's options.
			probe := mm.GA.Population + 1
			changed := gaDefaults(&CompileRequest{GA: &GASettings{Population: &probe}}, name)
			mm.GASettable = changed.Population == probe
			if mm.GASettable {
				settable = mm.GA
			}
		}
		m.Methods = append(m.Methods, mm)
	}
	for _, o := range partition.Objectives() {
		om := objectiveMeta[o]
		om.Name = string(o)
		m.Objectives = append(m.Objectives, om)
	}
	if settable != nil {
		m.GASettings = gaSettings(*settable)
	}
	for _, p := range estimate.Pipelines {
		m.Pipelines = append(m.Pipelines, PipelineMeta{Name: p, Summary: pipelineSummaries[p]})
	}
	m.MinBatch, m.MaxBatch = 1, estimate.MaxBatch
	m.ComparisonBatches = PaperGrid().Batches
	for _, f := range []string{FamilySourced, FamilyFit} {
		fm := FamilyMeta{Name: f, Summary: familySummaries[f]}
		if _, chips, err := familyChips(f, nil); err == nil {
			for _, c := range chips {
				fm.Chips = append(fm.Chips, c.Name)
			}
		}
		m.PaperFamilies = append(m.PaperFamilies, fm)
	}
	return m
}

// gaDefaults are the GA options a request gives method, in its "ga" keys.
func gaDefaults(req *CompileRequest, method string) *GADefaults {
	o, err := req.gaOptions(method)
	if err != nil {
		return nil
	}
	return &GADefaults{Population: o.Population, Generations: o.Generations, Keep: o.Keep, Patience: o.Patience}
}

// gaSettings lists the integer keys of GASettings (the request's "ga"
// object) with their defaults d; the keys come from GASettings' own JSON
// tags, so a setting added or removed there follows.
func gaSettings(d GADefaults) []GASettingMeta {
	defaults := map[string]int{}
	dv := reflect.ValueOf(d)
	for i := 0; i < dv.NumField(); i++ {
		defaults[jsonKey(dv.Type().Field(i))] = int(dv.Field(i).Int())
	}
	var out []GASettingMeta
	st := reflect.TypeOf(GASettings{})
	for i := 0; i < st.NumField(); i++ {
		key := jsonKey(st.Field(i))
		v, ok := defaults[key]
		if !ok {
			continue
		}
		out = append(out, GASettingMeta{Key: key, Summary: gaSettingSummaries[key], Default: v, DefaultSource: gaDefaultSources[key]})
	}
	return out
}

// jsonKey is a struct field's JSON name.
func jsonKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}
