package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/model"
)

// smallChip is chip M cut down so that smallModel needs several
// partitions (so every method has choices to make): 4 cores of 4
// crossbars of 64x64 cells, 4 KiB of local memory per core.
func smallChip(t testing.TB) *hw.Chip {
	c := presetCopy(t, "M")
	c.Name = "small"
	c.Cores, c.CrossbarsPerCore = 4, 4
	c.CrossbarRows, c.CrossbarCols = 64, 64
	c.LocalMemoryBytes = 4096
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// smallModel is a residual CNN of five Conv/Linear layers on 3x12x12
// inputs (about 40 crossbars of smallChip at replication 1).
func smallModel(t testing.TB) *model.Graph {
	b := model.NewBuilder("small")
	conv := func(name, x string, out, k int) string {
		return b.Conv(name, x, model.ConvSpec{OutChannels: out, KernelH: k, KernelW: k, StrideH: 1, StrideW: 1,
			PadTop: k / 2, PadLeft: k / 2, PadBottom: k / 2, PadRight: k / 2, DilationH: 1, DilationW: 1, Groups: 1, Bias: true})
	}
	x := b.Input("x", 3, 12, 12)
	c1 := b.Unary(model.OpReLU, "r1", conv("c1", x, 16, 3))
	c2 := b.Unary(model.OpReLU, "r2", conv("c2", c1, 16, 3))
	c3 := conv("c3", c2, 16, 3)
	sum := b.Unary(model.OpReLU, "r3", b.Binary(model.OpAdd, "add", c1, c3))
	c4 := b.Unary(model.OpReLU, "r4", conv("c4", sum, 32, 3))
	p := b.Pool(model.OpGlobalAvgPool, "gap", c4, model.PoolSpec{})
	b.Linear("fc", b.Flatten("flat", p, 0), 10, true)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// numericField is one numeric key of the chip's JSON form.
type numericField struct {
	key     string // e.g. "clock_hz", "dram.tck_ns"
	isFloat bool
}

// chipNumericFields lists every numeric key of hw.Chip (DRAM keys as
// dram.<key>) from the struct's JSON tags, so a field added later is
// covered without editing this test.
func chipNumericFields() []numericField {
	var out []numericField
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for f := range t.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, prefix+key+".")
			case reflect.Float64:
				out = append(out, numericField{prefix + key, true})
			case reflect.Int:
				out = append(out, numericField{prefix + key, false})
			}
		}
	}
	walk(reflect.TypeFor[hw.Chip](), "")
	return out
}

// chipJSONWith is c's JSON with key set to the literal value lit (JSON
// has no NaN, so "NaN" is written as a string: the loader must refuse it
// by type).
func chipJSONWith(t testing.TB, c *hw.Chip, key, lit string) []byte {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	if inner, ok := strings.CutPrefix(key, "dram."); ok {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(top["dram"], &d); err != nil {
			t.Fatal(err)
		}
		d[inner] = json.RawMessage(lit)
		top["dram"], _ = json.Marshal(d)
	} else {
		top[key] = json.RawMessage(lit)
	}
	out, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// setChipField sets key of c to v (through reflection on the JSON tags),
// rounding for integer fields.
func setChipField(t testing.TB, c *hw.Chip, key string, v float64) {
	t.Helper()
	rv := reflect.ValueOf(c).Elem()
	parts := strings.Split(key, ".")
	for i, p := range parts {
		found := false
		for j := range rv.NumField() {
			tag, _, _ := strings.Cut(rv.Type().Field(j).Tag.Get("json"), ",")
			if tag == p {
				rv, found = rv.Field(j), true
				break
			}
		}
		if !found {
			t.Fatalf("no field %q (part %d of %q)", p, i, key)
		}
	}
	if rv.Kind() == reflect.Float64 {
		rv.SetFloat(v)
	} else {
		rv.SetInt(int64(v))
	}
}

// runEverything compiles (all methods) and simulates the small model on
// chip and reports the first error; results must be finite and
// non-negative (checkOutputs), which Compile and Simulate themselves are
// required to guarantee: a result that is not is a test failure.
func runEverything(t *testing.T, g *model.Graph, chip *hw.Chip) error {
	t.Helper()
	req := CompileRequest{Graph: g, ChipSpec: chip, Batch: 2, Methods: Methods(), Seed: 1, GA: &GASettings{Generations: ptr(20), Patience: ptr(5)}}
	cr, err := Compile(context.Background(), req)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := checkOutputs("test", cr); err != nil {
		t.Errorf("compile returned a bad figure: %v", err)
	}
	sr, err := Simulate(context.Background(), req, false, nil)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if err := checkOutputs("test", sr); err != nil {
		t.Errorf("simulate returned a bad figure: %v", err)
	}
	return nil
}

// TestEveryChipFieldAtExtremes sets every numeric chip field, one at a
// time, to 0, a negative value, 1e-300, 1e-12, 1e12, 1e300 and NaN, and
// runs it through load, compile (every method) and simulate: each is
// either refused at load with an error naming the field (and, for a chip
// given in a request, an *InputError for chip_spec.<key>), or runs to
// finite, non-negative results. Never a panic, an internal error or a
// non-finite figure.
func TestEveryChipFieldAtExtremes(t *testing.T) {
	base := smallChip(t)
	g := smallModel(t)
	if err := runEverything(t, g, base); err != nil {
		t.Fatalf("the base chip: %v", err)
	}
	values := []struct {
		lit string
		v   float64
	}{{"0", 0}, {"-1", -1}, {"1e-300", 1e-300}, {"1e-12", 1e-12}, {"1e12", 1e12}, {"1e300", 1e300}, {`"NaN"`, math.NaN()}}
	fields := chipNumericFields()
	if len(fields) < 60 {
		t.Fatalf("found %d numeric chip fields, want every one (over 60)", len(fields))
	}
	accepted := 0
	for _, f := range fields {
		for _, val := range values {
			t.Run(f.key+"="+val.lit, func(t *testing.T) {
				data := chipJSONWith(t, base, f.key, val.lit)
				chip, err := hw.Load(strings.NewReader(string(data)))
				if err != nil {
					if !strings.Contains(err.Error(), f.key) {
						t.Fatalf("load error does not name %s: %v", f.key, err)
					}
					if math.IsNaN(val.v) || (!f.isFloat && val.v != math.Trunc(val.v)) || math.Abs(val.v) > math.MaxInt64 {
						return // refused by JSON type; no Go value to put in a request
					}
					spec := *base
					setChipField(t, &spec, f.key, val.v)
					_, err := Compile(context.Background(), CompileRequest{Graph: g, ChipSpec: &spec, Batch: 1, Methods: []string{MethodGreedy}})
					var ie *InputError
					if !errors.As(err, &ie) || ie.Field != "chip_spec."+f.key {
						t.Fatalf("compile with chip_spec: error %v, want an *InputError for chip_spec.%s", err, f.key)
					}
					return
				}
				accepted++
				if err := runEverything(t, g, chip); err != nil {
					var ie *InputError
					var le *LimitError
					if errors.As(err, &ie) || errors.As(err, &le) {
						return // a named refusal (the model does not map, or exceeds a limit)
					}
					t.Fatalf("loaded, then: %v", err)
				}
			})
		}
	}
	if accepted == 0 {
		t.Error("no extreme value was accepted: the test ran nothing past load")
	}
}

// TestChipRangeEdgesRun puts every continuous chip field, one at a time,
// at both ends of its physical range: the chip must load and compile and
// simulate to finite, non-negative results.
func TestChipRangeEdgesRun(t *testing.T) {
	base := smallChip(t)
	g := smallModel(t)
	edges := chipFieldRanges()
	for _, f := range chipNumericFields() {
		if f.isFloat && !strings.HasPrefix(f.key, "dram.idd") {
			if _, ok := edges[f.key]; !ok {
				t.Errorf("float field %s has no range edges in this test", f.key)
			}
		}
	}
	for key, lohi := range edges {
		for _, v := range lohi {
			t.Run(fmt.Sprintf("%s=%g", key, v), func(t *testing.T) {
				chip := *base
				setChipField(t, &chip, key, v)
				if err := chip.Validate(); err != nil {
					t.Fatalf("the range's own edge is refused: %v", err)
				}
				if err := runEverything(t, g, &chip); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	// The DRAM currents at their top (consistent with each other).
	chip := *base
	d := &chip.DRAM
	d.IDD0MA, d.IDD2NMA, d.IDD3NMA, d.IDD4RMA, d.IDD4WMA, d.IDD5ABMA = hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA
	d.IDD6MA, d.IDD2PMA, d.IDD3PMA = hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA, hw.MaxDRAMCurrentMA
	if err := chip.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := runEverything(t, g, &chip); err != nil {
		t.Fatalf("DRAM currents at the top of their range: %v", err)
	}
}

// chipFieldRanges gives every continuous chip field but the DRAM currents
// its physical range [lo, hi] (hw's constants; 0 where 0 is allowed).
func chipFieldRanges() map[string][2]float64 {
	return map[string][2]float64{
		"clock_hz":                              {hw.MinClockHz, hw.MaxClockHz},
		"adc_latency_ns":                        {hw.MinStepLatencyNs, hw.MaxStepLatencyNs},
		"mvm_slice_latency_ns":                  {hw.MinStepLatencyNs, hw.MaxStepLatencyNs},
		"local_memory_read_latency_ns":          {hw.MinStepLatencyNs, hw.MaxStepLatencyNs},
		"local_memory_write_latency_ns":         {hw.MinStepLatencyNs, hw.MaxStepLatencyNs},
		"bus_latency_ns":                        {hw.MinStepLatencyNs, hw.MaxStepLatencyNs},
		"crossbar_write_row_latency_ns":         {hw.MinWriteRowLatencyNs, hw.MaxWriteRowLatencyNs},
		"bus_bandwidth_bytes_per_s":             {hw.MinBandwidthBytesPerS, hw.MaxBandwidthBytesPerS},
		"dac_energy_per_conversion_pj":          {0, hw.MaxEventEnergyPJ},
		"adc_energy_per_conversion_pj":          {0, hw.MaxEventEnergyPJ},
		"vfu_energy_per_op_pj":                  {0, hw.MaxEventEnergyPJ},
		"local_memory_read_energy_per_byte_pj":  {0, hw.MaxEventEnergyPJ},
		"local_memory_write_energy_per_byte_pj": {0, hw.MaxEventEnergyPJ},
		"bus_energy_per_byte_pj":                {0, hw.MaxEventEnergyPJ},
		"mvm_slice_energy_pj":                   {hw.MinMVMSliceEnergyPJ, hw.MaxMVMSliceEnergyPJ},
		"crossbar_write_energy_per_cell_bit_pj": {hw.MinWriteEnergyPerCellBitPJ, hw.MaxWriteEnergyPerCellBitPJ},
		"crossbar_static_power_mw":              {0, hw.MaxStaticPowerMW},
		"vfu_static_power_mw":                   {0, hw.MaxStaticPowerMW},
		"local_memory_static_power_mw":          {0, hw.MaxStaticPowerMW},
		"control_static_power_mw":               {0, hw.MaxStaticPowerMW},
		"dram.tck_ns":                           {hw.MinDRAMTCKNs, hw.MaxDRAMTCKNs},
		"dram.vdd_v":                            {hw.MinDRAMVDDV, hw.MaxDRAMVDDV},
	}
}

// TestChipAllEdgesTogether puts every ranged field at once at the end of
// its range that makes the chip slowest and most power-hungry (and then
// fastest and most frugal), at the largest batch the small model runs
// quickly: the extremes must compound to finite, non-negative results,
// never an overflow.
func TestChipAllEdgesTogether(t *testing.T) {
	g := smallModel(t)
	fast := map[string]bool{"clock_hz": true, "bus_bandwidth_bytes_per_s": true} // larger is faster
	for _, slow := range []bool{true, false} {
		chip := smallChip(t)
		for key, lohi := range chipFieldRanges() {
			hi := slow != fast[key]
			if key == "dram.tck_ns" || key == "dram.vdd_v" {
				hi = slow
			}
			if hi {
				setChipField(t, chip, key, lohi[1])
			} else {
				setChipField(t, chip, key, lohi[0])
			}
		}
		if err := chip.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 64} {
			req := CompileRequest{Graph: g, ChipSpec: chip, Batch: batch, Methods: Methods(), Seed: 1, GA: &GASettings{Generations: ptr(10)}}
			cr, err := Compile(context.Background(), req)
			if err != nil {
				t.Fatalf("slow=%v batch %d: compile: %v", slow, batch, err)
			}
			if err := checkOutputs("test", cr); err != nil {
				t.Fatal(err)
			}
			sr, err := Simulate(context.Background(), req, false, nil)
			if err != nil {
				t.Fatalf("slow=%v batch %d: simulate: %v", slow, batch, err)
			}
			if err := checkOutputs("test", sr); err != nil {
				t.Fatal(err)
			}
			if slow && !(cr.Results[0].LatencyS > 1) {
				t.Errorf("the slowest chip takes %v s: the extremes did not apply", cr.Results[0].LatencyS)
			}
		}
		// The largest batch, compiled (its simulation is bounded by the
		// simulator's event limit).
		cr, err := Compile(context.Background(), CompileRequest{Graph: g, ChipSpec: chip, Batch: estimate.MaxBatch, Methods: Methods(), Seed: 1,
			GA: &GASettings{Generations: ptr(10)}})
		if err != nil {
			t.Fatalf("slow=%v batch %d: compile: %v", slow, estimate.MaxBatch, err)
		}
		if err := checkOutputs("test", cr); err != nil {
			t.Fatal(err)
		}
	}
}

// A non-finite or negative figure in a result is an internal error that
// names the figure's JSON path.
func TestCheckOutputsNamesTheBadFigure(t *testing.T) {
	good := &CompileResult{Units: 3, Results: []MethodResult{{Method: "greedy", LatencyS: 1e-3,
		Partitions: []PartitionResult{{IOS: 0, TimeS: 2}}}}}
	if err := checkOutputs("estimate", good); err != nil {
		t.Fatalf("good result: %v", err)
	}
	for _, tc := range []struct {
		mutate func(r *CompileResult)
		path   string
	}{
		{func(r *CompileResult) { r.Results[0].Partitions[0].IOS = -1e-9 }, "results[0].partitions[0].io_s"},
		{func(r *CompileResult) { r.Results[0].EnergyPerInferenceJ = math.Inf(1) }, "results[0].energy_per_inference_j"},
		{func(r *CompileResult) { r.Results[0].LatencyS = math.NaN() }, "results[0].latency_s"},
		{func(r *CompileResult) { r.Results[0].DRAMBytesRead = -5 }, "results[0].dram_bytes_read"},
		{func(r *CompileResult) { r.Results[0].EnergyBreakdownJ.Static = math.Inf(-1) }, "results[0].energy_breakdown_j.static"},
	} {
		r := *good
		r.Results = []MethodResult{good.Results[0]}
		r.Results[0].Partitions = []PartitionResult{good.Results[0].Partitions[0]}
		tc.mutate(&r)
		err := checkOutputs("estimate", &r)
		var ie *InternalError
		if !errors.As(err, &ie) || ie.Stage != "estimate" || !strings.Contains(err.Error(), tc.path+" = ") {
			t.Errorf("error %v, want an InternalError naming %s", err, tc.path)
		}
	}
}
