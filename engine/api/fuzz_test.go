package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/hw"
)

// Fuzzing past the parsers. CI runs each target for a short fixed count
// (about 3 s and 1 s on 2 cores):
//
//	go test ./engine/api -run '^$' -fuzz '^FuzzChipThroughEngine$' -fuzztime 1000x
//	go test ./engine/api -run '^$' -fuzz '^FuzzReadGraphJSON$' -fuzztime 20000x
//
// and longer locally with -fuzztime 20m (README, "Fuzzing"). Without -fuzz
// the seeds, and the inputs kept in testdata/fuzz (each a bug it found),
// run as ordinary tests.

// setNumericField sets the numeric chip field idx (mod the count) from 8
// bytes: a float64's bits for float fields, an int64 for int fields. With
// the top bit of idx set the value is drawn inside the field's range
// instead (log-uniform over a float's physical range, 1..4096 for an
// integer), so the fuzzer explores valid chips as well as invalid ones.
func setNumericField(c *hw.Chip, fields []numericField, idx byte, bits uint64) string {
	f := fields[int(idx&0x7f)%len(fields)]
	if idx&0x80 != 0 {
		frac := float64(bits>>11) / (1 << 53)
		lohi, ranged := chipFieldRanges()[f.key]
		switch {
		case !f.isFloat:
			bits = 1 + bits%4096
		case !ranged: // the DRAM currents: 0..MaxDRAMCurrentMA
			bits = math.Float64bits(frac * hw.MaxDRAMCurrentMA)
		case lohi[0] == 0:
			bits = math.Float64bits(frac * lohi[1])
		default:
			bits = math.Float64bits(min(lohi[1], lohi[0]*math.Pow(lohi[1]/lohi[0], frac)))
		}
	}
	rv := reflect.ValueOf(c).Elem()
	for _, p := range strings.Split(f.key, ".") {
		for j := range rv.NumField() {
			tag, _, _ := strings.Cut(rv.Type().Field(j).Tag.Get("json"), ",")
			if tag == p {
				rv = rv.Field(j)
				break
			}
		}
	}
	if f.isFloat {
		rv.SetFloat(math.Float64frombits(bits))
	} else {
		rv.SetInt(int64(bits))
	}
	return f.key
}

// fuzzChipFields decodes data as (field index, 8 value bytes) records and
// applies them to a copy of base.
func fuzzChipFields(base *hw.Chip, data []byte) (*hw.Chip, []string) {
	chip := *base
	fields := chipNumericFields()
	var keys []string
	for len(data) >= 9 && len(keys) < 8 {
		keys = append(keys, setNumericField(&chip, fields, data[0], binary.LittleEndian.Uint64(data[1:9])))
		data = data[9:]
	}
	return &chip, keys
}

func record(idx byte, v float64) []byte {
	out := []byte{idx}
	return binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
}

func recordInt(idx byte, v int64) []byte {
	out := []byte{idx}
	return binary.LittleEndian.AppendUint64(out, uint64(v))
}

// fieldIndex is the index of key among the chip's numeric fields.
func fieldIndex(t testing.TB, key string) byte {
	for i, f := range chipNumericFields() {
		if f.key == key {
			return byte(i)
		}
	}
	t.Fatalf("no numeric chip field %q", key)
	return 0
}

// FuzzChipThroughEngine takes the small chip with up to eight numeric
// fields replaced by fuzzed values, and the small model, through compile
// (every method) and simulate. A chip Validate refuses must come out of
// Compile as an *InputError for one of the fuzzed chip_spec keys; a chip
// it accepts must compile and simulate (or be refused by a limit) with
// finite, non-negative figures and the engine's invariants: each plan
// covers every unit, the partitions' times add up to the latency, the
// optimum is no worse than any method, and the simulation processes
// events and takes time.
func FuzzChipThroughEngine(f *testing.F) {
	f.Add([]byte{}, uint8(1), uint64(1))
	f.Add(append(record(fieldIndex(f, "clock_hz"), hw.MinClockHz), record(fieldIndex(f, "bus_bandwidth_bytes_per_s"), hw.MinBandwidthBytesPerS)...), uint8(4), uint64(2))
	f.Add(record(fieldIndex(f, "adc_latency_ns"), hw.MaxStepLatencyNs), uint8(2), uint64(3))
	f.Add(record(fieldIndex(f, "mvm_slice_energy_pj"), 1e308), uint8(1), uint64(4))
	f.Add(record(fieldIndex(f, "dram.tck_ns"), 1e-15), uint8(1), uint64(5))
	f.Add(append(recordInt(fieldIndex(f, "crossbars_per_core"), 2), recordInt(fieldIndex(f, "cores"), 9)...), uint8(3), uint64(6))
	f.Add(recordInt(fieldIndex(f, "local_memory_bytes"), 64), uint8(8), uint64(7))
	inRange := func(key string, frac float64) []byte {
		return binary.LittleEndian.AppendUint64([]byte{fieldIndex(f, key) | 0x80}, uint64(frac*(1<<53))<<11)
	}
	f.Add(append(append(inRange("clock_hz", 0), inRange("adc_latency_ns", 0.99)...), inRange("crossbars_per_core", 0.5)...), uint8(7), uint64(8))
	base := smallChip(f)
	g := smallModel(f)
	f.Fuzz(func(t *testing.T, data []byte, batch uint8, seed uint64) {
		chip, keys := fuzzChipFields(base, data)
		req := CompileRequest{Graph: g, ChipSpec: chip, Batch: 1 + int(batch%8), Methods: Methods(), Seed: seed,
			GA: &GASettings{Generations: ptr(15), Patience: ptr(5)}}
		if verr := chip.Validate(); verr != nil {
			_, err := Compile(context.Background(), req)
			var ie *InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(ie.Field, "chip_spec.") {
				t.Fatalf("Validate: %v; Compile: %v, want an *InputError for a chip_spec key", verr, err)
			}
			known := map[string]bool{"name": true, "dram.name": true, "dram.page_policy": true}
			for _, f := range chipNumericFields() {
				known[f.key] = true
			}
			for _, fe := range hw.FieldErrors(verr) {
				if !known[fe.Field] {
					t.Fatalf("fuzzed %v: an error names %q, not a chip key: %v", keys, fe.Field, fe)
				}
			}
			return
		}
		cr, err := Compile(context.Background(), req)
		if err != nil {
			var ie *InputError
			var le *LimitError
			if errors.As(err, &ie) || errors.As(err, &le) {
				return // a named refusal: the model does not map, or the work is over a limit
			}
			t.Fatalf("compile on a valid chip (fuzzed %v): %v", keys, err)
		}
		if err := checkOutputs("fuzz", cr); err != nil {
			t.Fatal(err)
		}
		checkCompileInvariants(t, cr)
		sr, err := Simulate(context.Background(), req, false, nil)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				return
			}
			t.Fatalf("simulate on a valid chip (fuzzed %v): %v", keys, err)
		}
		if err := checkOutputs("fuzz", sr); err != nil {
			t.Fatal(err)
		}
		for _, r := range sr.Results {
			if r.Events <= 0 || r.LatencyS <= 0 || r.MVMs <= 0 {
				t.Fatalf("%s: simulation of %d events, %v s, %d MVMs", r.Method, r.Events, r.LatencyS, r.MVMs)
			}
		}
	})
}

// checkCompileInvariants checks what every compile result must satisfy.
func checkCompileInvariants(t *testing.T, cr *CompileResult) {
	t.Helper()
	opt := cr.Result(MethodOptimal)
	for _, r := range cr.Results {
		if r.Cuts[0] != 0 || r.Cuts[len(r.Cuts)-1] != cr.Units || len(r.Partitions) != len(r.Cuts)-1 {
			t.Fatalf("%s: cuts %v do not cover the %d units in %d partitions", r.Method, r.Cuts, cr.Units, len(r.Partitions))
		}
		var sum float64
		for _, p := range r.Partitions {
			sum += p.TimeS
		}
		if !(math.Abs(sum-r.LatencyS) <= 1e-9*r.LatencyS) {
			t.Fatalf("%s: partition times add up to %v s, latency %v s", r.Method, sum, r.LatencyS)
		}
		if opt != nil && opt.LatencyS > r.LatencyS*(1+1e-9) {
			t.Fatalf("optimal latency %v s is worse than %s's %v s", opt.LatencyS, r.Method, r.LatencyS)
		}
	}
}

// FuzzReadGraphJSON feeds arbitrary bytes to the JSON graph reader, and
// every graph it accepts through greedy and layerwise compilation on chip
// M: no panic, every failure an error (an *InputError or *LimitError past
// the reader), every result finite and non-negative.
func FuzzReadGraphJSON(f *testing.F) {
	seed, err := json.Marshal(smallModel(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"name":"j","nodes":[{"name":"x","op":"Input","shape":[4]},{"name":"fc","op":"Linear","inputs":["x"],"linear":{"out_features":2}}]}`))
	f.Add([]byte(`{"name":"c","nodes":[{"name":"x","op":"Input","shape":[3,8,8]},{"name":"c","op":"Conv","inputs":["x"],"conv":{"out_channels":4,"kernel_h":3,"kernel_w":3,"stride_h":1,"stride_w":1,"dilation_h":1,"dilation_w":1,"groups":1}},{"name":"p","op":"MaxPool","inputs":["c"],"pool":{"kernel_h":2,"kernel_w":2,"stride_h":2,"stride_w":2}},{"name":"f","op":"Flatten","inputs":["p"]},{"name":"fc","op":"Linear","inputs":["f"],"linear":{"out_features":3}}]}`))
	f.Add([]byte(`{"name":"bad","nodes":[{"name":"x","op":"Input","shape":[-1]}]}`))
	f.Add([]byte(`{"nodes":[{"name":"a","op":"Add","inputs":["a","a"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadGraphJSON(bytes.NewReader(data))
		if err != nil {
			if g != nil {
				t.Fatalf("an error and a graph: %v", err)
			}
			return
		}
		if !g.Inferred() || len(g.Nodes) == 0 {
			t.Fatalf("accepted a graph that is not inferred or empty")
		}
		cr, err := Compile(context.Background(), CompileRequest{Graph: g, Chip: "M", Batch: 1, Methods: []string{MethodGreedy, MethodLayerwise},
			Limits: &Limits{MaxNodes: 2000, MaxUnits: 4096}})
		if err != nil {
			var ie *InputError
			var le *LimitError
			if !errors.As(err, &ie) && !errors.As(err, &le) {
				t.Fatalf("compile of an accepted graph: %v (%T), want an *InputError or a *LimitError", err, err)
			}
			return
		}
		if err := checkOutputs("fuzz", cr); err != nil {
			t.Fatal(err)
		}
		checkCompileInvariants(t, cr)
	})
}
