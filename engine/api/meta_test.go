package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// metaCompile compiles SqueezeNet 1.1 on chip S with every method a request
// may name (optimal-sim too) and returns the result and its JSON decoded
// as maps (so that a field can be read by the name the meta gives).
func metaCompile(t *testing.T, batch int, objective string, ga *GASettings) (*CompileResult, []map[string]any) {
	t.Helper()
	res, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: batch,
		Methods: knownMethods(), Objective: objective, Seed: 3, GA: ga})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return res, doc.Results
}

func TestMetaNamesEveryMethodWithALine(t *testing.T) {
	m := Meta()
	var names []string
	for _, mm := range m.Methods {
		names = append(names, mm.Name)
		if strings.TrimSpace(mm.Summary) == "" {
			t.Errorf("method %s has no one-line summary in meta.go's methodSummaries", mm.Name)
		}
	}
	for _, gs := range m.GASettings {
		if strings.TrimSpace(gs.Summary) == "" || strings.TrimSpace(gs.DefaultSource) == "" {
			t.Errorf("GA setting %s has no summary or no source for its default (meta.go)", gs.Key)
		}
	}
	if !slices.Equal(names, knownMethods()) {
		t.Errorf("meta methods %v, the engine's %v", names, knownMethods())
	}
	for _, mm := range m.Methods {
		if _, err := ParseMethods(mm.Name); err != nil {
			t.Errorf("meta method %s is not accepted by the engine: %v", mm.Name, err)
		}
	}
}

// The methods the meta calls GAs are those whose results carry a GA
// history, run with the generations the meta gives; a request's "ga"
// changes exactly the methods the meta calls settable.
func TestMetaGAMethodsAreTheEngines(t *testing.T) {
	m := Meta()
	res, _ := metaCompile(t, 2, "latency", nil)
	settable := 0
	for _, mm := range m.Methods {
		r := res.Result(mm.Name)
		if r == nil {
			t.Fatalf("no result for %s", mm.Name)
		}
		if (r.GA != nil) != (mm.GA != nil) {
			t.Errorf("%s: result has a GA history %v, the meta says GA %v", mm.Name, r.GA != nil, mm.GA != nil)
			continue
		}
		if mm.GA == nil {
			if mm.GASettable {
				t.Errorf("%s: not a GA but settable", mm.Name)
			}
			continue
		}
		o := r.GA.Options
		got := GADefaults{Population: o.Population, Generations: o.Generations, Keep: o.Keep, Patience: o.Patience}
		if got != *mm.GA {
			t.Errorf("%s ran with %+v, the meta says %+v", mm.Name, got, *mm.GA)
		}
		if n := len(r.GA.History); n > mm.GA.Generations+1 {
			t.Errorf("%s: %d generations in the history, over the meta's %d+1", mm.Name, n, mm.GA.Generations)
		}
		if mm.GASettable {
			settable++
		}
	}
	if settable == 0 {
		t.Fatal("no method takes the request's GA settings")
	}
	if len(m.GASettings) == 0 {
		t.Fatal("the meta lists no GA settings")
	}
	// Every setting, changed, changes the settable methods only.
	ga := GASettings{}
	want := map[string]int{}
	for _, s := range m.GASettings {
		if s.Summary == "" {
			t.Errorf("GA setting %s has no summary", s.Key)
		}
		v := s.Default + 1
		if s.Key == "keep" {
			v = max(1, s.Default-1) // keep must stay below the population
		}
		want[s.Key] = v
	}
	body, _ := json.Marshal(want)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ga); err != nil {
		t.Fatalf("the meta's GA keys %s are not GASettings' keys: %v", body, err)
	}
	changed, _ := metaCompile(t, 2, "latency", &ga)
	for _, mm := range m.Methods {
		if mm.GA == nil {
			continue
		}
		o := changed.Result(mm.Name).GA.Options
		if !mm.GASettable {
			if got := (GADefaults{o.Population, o.Generations, o.Keep, o.Patience}); got != *mm.GA {
				t.Errorf("%s: not settable by the meta, but the request's ga changed it from %+v to %+v", mm.Name, *mm.GA, got)
			}
			continue
		}
		got := map[string]int{"population": o.Population, "generations": o.Generations, "keep": o.Keep, "patience": o.Patience}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: ga.%s = %d in the request, %d in the run", mm.Name, k, v, got[k])
			}
		}
	}
}

// Each objective's Minimises field is the one the optimum makes smallest,
// and the GA's scores convert to that field as the meta says.
func TestMetaObjectivesNameTheFigureMinimised(t *testing.T) {
	m := Meta()
	if len(m.Objectives) != 3 {
		t.Fatalf("%d objectives, want latency, energy and edp", len(m.Objectives))
	}
	const batch = 4
	for _, om := range m.Objectives {
		res, docs := metaCompile(t, batch, om.Name, nil)
		if res.Objective != om.Name {
			t.Fatalf("objective %s: the result says %s", om.Name, res.Objective)
		}
		field := func(method string) float64 {
			for _, d := range docs {
				if d["method"] == method {
					v, ok := d[om.Minimises].(float64)
					if !ok {
						t.Fatalf("objective %s: result field %q is not a number in the JSON", om.Name, om.Minimises)
					}
					return v
				}
			}
			t.Fatalf("no %s result", method)
			return 0
		}
		opt := field(MethodOptimal)
		for _, mm := range m.Methods {
			if v := field(mm.Name); v < opt*(1-1e-12) {
				t.Errorf("objective %s: %s has %s = %g below the optimum's %g", om.Name, mm.Name, om.Minimises, v, opt)
			}
		}
		// Greedy and layerwise are not searched for this objective, so the
		// optimum must beat at least one of them on this network.
		if g, l := field(MethodGreedy), field(MethodLayerwise); opt >= min(g, l) {
			t.Errorf("objective %s: the optimum's %s %g is not below greedy's %g or layerwise's %g: the field proves nothing", om.Name, om.Minimises, opt, g, l)
		}
		for _, mm := range m.Methods {
			if mm.GA == nil {
				continue
			}
			r := res.Result(mm.Name)
			best := math.Inf(1)
			for _, g := range r.GA.History {
				best = min(best, g.BestScore)
			}
			got := best * om.GAScore.ToSI
			want := field(mm.Name) * math.Pow(batch, float64(om.GAScore.BatchPower))
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("objective %s, %s: best score x %g = %g %s, the figure %s x batch^%d = %g",
					om.Name, mm.Name, om.GAScore.ToSI, got, om.GAScore.Unit, om.Minimises, om.GAScore.BatchPower, want)
			}
		}
	}
	if _, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 1, Objective: m.Objectives[0].Name}); err != nil {
		t.Errorf("the first objective %s is not accepted: %v", m.Objectives[0].Name, err)
	}
	var omitted CompileResult
	if r, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 1, Methods: []string{MethodGreedy}}); err != nil {
		t.Fatal(err)
	} else {
		omitted = *r
	}
	if omitted.Objective != m.Objectives[0].Name {
		t.Errorf("an omitted objective is %s, the meta's first (the default) %s", omitted.Objective, m.Objectives[0].Name)
	}
}

// The batch bounds are the engine's: MaxBatch compiles, one more is a bad
// batch; the comparison's batches lie within them.
func TestMetaBatchBounds(t *testing.T) {
	m := Meta()
	for _, c := range []struct {
		batch int
		ok    bool
	}{{m.MinBatch, true}, {m.MaxBatch, true}, {m.MinBatch - 1, false}, {m.MaxBatch + 1, false}} {
		_, err := Compile(context.Background(), CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: c.batch, Methods: []string{MethodGreedy}})
		var in *InputError
		switch {
		case c.ok && err != nil:
			t.Errorf("batch %d (a meta bound) refused: %v", c.batch, err)
		case !c.ok && (!errors.As(err, &in) || in.Field != "batch"):
			t.Errorf("batch %d (outside the meta's bounds): error %v, want an input error on batch", c.batch, err)
		}
	}
	if len(m.ComparisonBatches) < 2 || !slices.IsSorted(m.ComparisonBatches) {
		t.Errorf("comparison batches %v: want at least two, ascending", m.ComparisonBatches)
	}
	for _, b := range m.ComparisonBatches {
		if b < m.MinBatch || b > m.MaxBatch {
			t.Errorf("comparison batch %d outside %d..%d", b, m.MinBatch, m.MaxBatch)
		}
	}
}

func TestMetaJSONIsStable(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteJSON(&a, Meta()); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&b, Meta()); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two calls of Meta encode differently")
	}
	for _, key := range []string{`"methods"`, `"objectives"`, `"ga_settings"`, `"max_batch"`, `"comparison_batches"`} {
		if !strings.Contains(a.String(), key) {
			t.Errorf("meta JSON lacks %s: %s", key, a.String())
		}
	}
}

// The paper families are the ones Reproduce takes, with their chips; the
// first is the family an empty request gets.
func TestMetaPaperFamiliesAreReproduces(t *testing.T) {
	m := Meta()
	if len(m.PaperFamilies) < 2 {
		t.Fatalf("paper families %+v: want the sourced and the fitted one", m.PaperFamilies)
	}
	for _, f := range m.PaperFamilies {
		if f.Summary == "" || len(f.Chips) != 3 {
			t.Errorf("family %+v: want a summary and three chips", f)
		}
		for _, c := range f.Chips {
			if _, err := LoadChip(c); err != nil {
				t.Errorf("family %s: chip %s is not a preset: %v", f.Name, c, err)
			}
		}
	}
	for i, f := range append([]FamilyMeta{{}}, m.PaperFamilies...) {
		res, err := Reproduce(context.Background(), ReproduceRequest{Family: f.Name, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := f
		if i == 0 {
			want = m.PaperFamilies[0] // an empty family is the default
		}
		if res.Family != want.Name || !slices.Equal(res.Chips, want.Chips) {
			t.Errorf("family %q reproduces %s on %v; the meta says %s on %v", f.Name, res.Family, res.Chips, want.Name, want.Chips)
		}
	}
	if _, err := Reproduce(context.Background(), ReproduceRequest{Family: "no-such-family"}); err == nil {
		t.Error("an unknown family reproduced")
	}
}
