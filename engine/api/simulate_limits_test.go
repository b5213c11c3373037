package api

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/compass-go/compass/engine/internal/partition"
	"github.com/compass-go/compass/engine/isa"
)

// simulateOne runs one method of a small request with the given limits.
func simulateOne(t *testing.T, batch int, lim *Limits, trace bool) (*SimulateResult, error) {
	t.Helper()
	req := CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: batch, Methods: []string{MethodLayerwise}, Seed: 1, Limits: lim}
	return Simulate(context.Background(), req, trace, nil)
}

// The events a simulation will process are known exactly before it
// starts: a limit one below what a run processes refuses it with a
// *LimitError giving that figure, and the limit at it lets it run.
func TestSimulateRefusesEventsOverTheLimitBeforeItStarts(t *testing.T) {
	res, err := simulateOne(t, 3, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	events := res.Results[0].Events
	var total int64
	for _, n := range res.Results[0].Instructions {
		total += n
	}
	if events <= 0 || events != total {
		t.Fatalf("the run processed %d events for %d instructions", events, total)
	}
	_, err = simulateOne(t, 3, &Limits{MaxSimEvents: events - 1}, false)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("limit %d below the run's %d events: %v, want a *LimitError", events-1, events, err)
	}
	if le.Need != events || le.Limit != events-1 || !strings.Contains(le.Lift, "--max-sim-events") || !strings.Contains(le.What, "simulated events") {
		t.Errorf("limit error %+v: want need %d, limit %d, lifted by --max-sim-events", le, events, events-1)
	}
	if _, err := simulateOne(t, 3, &Limits{MaxSimEvents: events}, false); err != nil {
		t.Errorf("limit at the run's %d events: %v", events, err)
	}
}

// The largest batch the API allows, on the example, is refused
// by the default limits at once, before the GA searches a plan (the
// fewest events any plan could take already exceed the limit), instead of
// running out of memory.
func TestSimulateLargestBatchIsRefusedUpFront(t *testing.T) {
	generations := 0
	req := CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: []string{MethodCompass}, Seed: 1,
		Progress: func(string, partition.Generation) { generations++ }}
	if _, err := Simulate(context.Background(), req, false, nil); err != nil || generations == 0 {
		t.Fatalf("batch 16: %v, %d GA generations reported", err, generations)
	}
	generations, req.Batch = 0, 65536
	start := time.Now()
	_, err := Simulate(context.Background(), req, true, nil)
	if generations != 0 {
		t.Errorf("the GA ran %d generations before the refusal", generations)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != DefaultLimits().MaxSimEvents || le.Need <= le.Limit {
		t.Fatalf("batch 65536: %v, want a *LimitError on simulated events at the default limit", err)
	}
	// Per input, the program runs at least one instruction per unit (its
	// MVMs): the figure is of the batch's size, not an overflow.
	if le.Need < 65536*84 || le.Need > 65536*100_000 {
		t.Errorf("batch 65536: %d events estimated", le.Need)
	}
	t.Logf("refused in %v: %v", time.Since(start), err)
}

// The trace stops at the byte limit, keeps the first events of the full
// trace, and says so with the full trace's size and where the kept part
// ends.
func TestSimulateTruncatedTraceSaysSo(t *testing.T) {
	full, err := simulateOne(t, 2, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	fr := full.Results[0]
	if fr.TraceTruncated || int64(len(fr.Trace)) != fr.TraceEvents || fr.TraceEvents < 1000 {
		t.Fatalf("untruncated trace: %d events recorded, %d in all, truncated %v", len(fr.Trace), fr.TraceEvents, fr.TraceTruncated)
	}
	const keep = 300
	cut, err := simulateOne(t, 2, &Limits{MaxTraceBytes: keep * 32}, true)
	if err != nil {
		t.Fatal(err)
	}
	cr := cut.Results[0]
	if !cr.TraceTruncated || len(cr.Trace) != keep || cr.TraceEvents != fr.TraceEvents {
		t.Fatalf("trace limit of %d events: %d recorded, %d in all, truncated %v", keep, len(cr.Trace), cr.TraceEvents, cr.TraceTruncated)
	}
	if !reflect.DeepEqual(cr.Trace, fr.Trace[:keep]) {
		t.Error("the truncated trace is not the start of the full one")
	}
	var end float64
	for _, ev := range cr.Trace {
		end = math.Max(end, ev.EndNs)
	}
	if cr.TraceEndS != end*1e-9 || cr.TraceEndS >= fr.TraceEndS {
		t.Errorf("trace_end_s %v (kept events end at %v ns); the full trace ends at %v s", cr.TraceEndS, end, fr.TraceEndS)
	}
	// Truncating the trace changes no simulated figure.
	cr.Trace, fr.Trace = nil, nil
	cr.TraceTruncated, cr.TraceEndS, fr.TraceEndS = false, 0, 0
	if !reflect.DeepEqual(cr, fr) {
		t.Error("the simulated figures depend on the trace limit")
	}
}

// An expanded program (for export) over the byte limit is refused before
// it is expanded, with its exact size.
func TestProgramRefusedOverTheByteLimit(t *testing.T) {
	req := CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 2, Methods: []string{MethodCompass}, Seed: 1}
	p, err := Program(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, part := range p.Partitions {
		for _, st := range part.Streams {
			n += int64(len(st.Instrs))
		}
	}
	bytes := n * int64(reflect.TypeOf(p.Partitions[0].Streams[0].Instrs[0]).Size())
	req.Limits = &Limits{MaxProgramBytes: bytes - 1}
	_, err = Program(context.Background(), req)
	var le *LimitError
	if !errors.As(err, &le) || le.Need != bytes || !strings.Contains(le.Lift, "--max-program-bytes") {
		t.Fatalf("program of %d bytes under a limit of %d: %v", bytes, bytes-1, err)
	}
	saved := 0
	_, err = Simulate(context.Background(), req, false, func(string, *isa.Program) error { saved++; return nil })
	if !errors.As(err, &le) || le.Need != bytes || saved != 0 {
		t.Errorf("simulate exporting a program over the limit: %v (%d saved)", err, saved)
	}
	req.Limits.MaxProgramBytes = bytes
	if _, err := Program(context.Background(), req); err != nil {
		t.Errorf("program at the limit: %v", err)
	}
}

// A simulated figure that is not finite and non-negative is an internal
// error naming the field, never a result.
func TestSimulatedFiguresAreChecked(t *testing.T) {
	res, err := simulateOne(t, 2, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	good := res.Results[0]
	if err := checkSimulated(&good); err != nil {
		t.Fatalf("a real result fails the check: %v", err)
	}
	for _, c := range []struct {
		field string
		spoil func(r *SimResult)
	}{
		{"latency_s", func(r *SimResult) { r.LatencyS = math.NaN() }},
		{"latency_s", func(r *SimResult) { r.LatencyS = 0 }},
		{"throughput_per_s", func(r *SimResult) { r.ThroughputPerS = math.Inf(1) }},
		{"energy_per_inference_j", func(r *SimResult) { r.EnergyPerInferenceJ = -1e-3 }},
		{"energy_breakdown_j.dram", func(r *SimResult) { r.EnergyBreakdownJ.DRAM = math.Inf(1) }},
		{"dram_bytes_read", func(r *SimResult) { r.DRAMBytesRead = -8 }},
		{"partitions[0].io_s", func(r *SimResult) { r.Partitions[0].IOS = -2e-6 }},
		{"partitions[0].weight_load_s", func(r *SimResult) { r.Partitions[0].WeightLoadS = math.NaN() }},
		{"core_crossbar_utilisation[0]", func(r *SimResult) { r.CoreUtilisation[0] = math.NaN() }},
		{"trace[3]", func(r *SimResult) { r.Trace[3].EndNs = r.Trace[3].StartNs - 1 }},
	} {
		r := good
		r.Partitions = append([]SimPartition(nil), good.Partitions...)
		r.CoreUtilisation = append([]float64(nil), good.CoreUtilisation...)
		r.Trace = append(r.Trace[:0:0], good.Trace...)
		c.spoil(&r)
		if err := checkSimulated(&r); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("spoiled %s: %v", c.field, err)
		}
	}
}
