package api

import (
	"fmt"
)

// Limits bound the work one request may cause, so that no input a front
// end accepts can make the engine run for hours or allocate without bound.
// The engine estimates a request's cost before it starts the expensive
// stage and refuses what exceeds a limit with a *LimitError naming the
// figure and what lifts it. A zero field takes DefaultLimits' value.
//
// The CLI sets them from flags, the page from its settings, the HTTP API
// from its server flags (a client cannot lift the server's limits).
type Limits struct {
	MaxNodes         int   `json:"max_nodes,omitempty"`           // IR nodes of a model graph
	MaxUnits         int   `json:"max_units,omitempty"`           // partition units of the mapped model
	MaxSpans         int64 `json:"max_spans,omitempty"`           // valid spans the searches may cost (the cut graph's edges)
	MaxGAPlanCuts    int64 `json:"max_ga_plan_cuts,omitempty"`    // a GA's population x units: the cuts its plans may hold at once (memory)
	MaxGAWork        int64 `json:"max_ga_work,omitempty"`         // a GA's population x (generations+1) x units: the cuts it may draw (time)
	MaxSweepRows     int   `json:"max_sweep_rows,omitempty"`      // configurations of one sweep (models x chips x batches), each bounded by the limits above
	MaxRefine        int   `json:"max_refine,omitempty"`          // plans optimal-sim may schedule and simulate (its refine)
	MaxSimEvents     int64 `json:"max_sim_events,omitempty"`      // events one simulation may process (optimal-sim: its simulations together)
	MaxSimDRAMBursts int64 `json:"max_sim_dram_bursts,omitempty"` // DRAM bursts one simulation may walk (its transfers' bytes over the burst size)
	MaxTraceBytes    int64 `json:"max_trace_bytes,omitempty"`     // bytes of a simulated trace
	MaxProgramBytes  int64 `json:"max_program_bytes,omitempty"`   // bytes of an instruction program
}

// LimitError reports a request that asks for more work than a limit
// allows: the estimated figure, the limit, and the flag or field that lifts
// it. Front ends answer it as a refusal of the request (HTTP 422), not as
// an engine fault.
type LimitError struct {
	What  string // the quantity, e.g. "partition units"
	Need  int64  // the request's figure (estimated before the work starts)
	Limit int64  // the limit in force
	Lift  string // how to lift it, e.g. "--max-units (limits.max_units)"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the request needs %d %s, over the limit of %d: make the request smaller, or lift the limit with %s", e.Need, e.What, e.Limit, e.Lift)
}

// InputError reports a request whose field (a model, a chip parameter, the
// batch, a method) is invalid. Field is its path in the request's JSON,
// such as "batch", "chip_spec.clock_hz" or "model"; Err says what is wrong
// and how to fix it. Front ends answer it as the client's mistake (HTTP 400
// or 422) and show it next to that field.
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// InternalError reports a result the engine should never produce (a
// non-finite or negative time, energy or byte count; two stages that
// disagree): a bug in the engine, not a fault of the request. Front ends
// answer it as a server error (HTTP 500) and ask for a report.
type InternalError struct {
	Stage string // the stage that produced it, e.g. "estimate", "simulate"
	Err   error
}

func (e *InternalError) Error() string {
	return "internal error in " + e.Stage + " (a bug in the engine, please report it with the request): " + e.Err.Error()
}
func (e *InternalError) Unwrap() error { return e.Err }

// DefaultLimits are the limits in force when a request sets none. Each is
// a generous multiple of the largest figure the built-in zoo reaches on
// the preset chips, and small enough that a request at the limit finishes
// in about a minute natively and fits the WebAssembly module's memory
// (figures measured with scripts/bench-bounds.sh; docs/estimator.md,
// "Bounded work", has them):
//
//   - MaxNodes 50000: the zoo's largest graph (vit_b_16) has 276 nodes.
//   - MaxUnits 16384: the zoo's most is 1256 (vgg16 on ReRAM); the GA
//     keeps a population of plans of up to one cut per unit, and a result
//     holds up to one partition per unit (about 5 KB each: ResNet18 on
//     45,632 units of 16x16 crossbars gave 45,632 partitions, a 40 MB
//     JSON result and 0.6 GB peak memory with the default GA).
//   - MaxSpans 262144: the zoo's most valid spans is 22056 (vgg16 on L);
//     every method but greedy and layerwise costs each valid span once.
//   - MaxGAPlanCuts 1<<24 and MaxGAWork 1<<32: the paper's GA (population
//     100, up to 31 generations) at MaxUnits is 1.6e6 and 5.1e7; the
//     GA's plans take 16 bytes per cut, and a generation's work is linear
//     in its plans' cuts, so a request may raise the population or the
//     generations about 80-fold before the work limit refuses it.
//   - MaxSweepRows 1000: the paper grid is 45 configurations (its three
//     networks on S, M, L at five batches; its time is in docs/figures.md).
//   - MaxRefine 64: optimal-sim keeps up to that many labels at every cut
//     position (24 bytes each: 25 MB at MaxUnits) and schedules as many
//     programs; its simulations together stay within MaxSimEvents and
//     MaxSimDRAMBursts. The default refine is 8 (DefaultRefine).
//   - MaxSimEvents 1<<25, MaxTraceBytes 64 MiB, MaxProgramBytes 256 MiB:
//     the simulator's bounds (vgg16 on S at batch 16 is 224048 events).
//   - MaxSimDRAMBursts 1<<27: the DRAM model walks every transfer burst by
//     burst, and one LOAD or STORE may carry gigabytes, so a simulation's
//     time grows with its bursts as well as its events. The zoo's plans
//     take 4 to 20 bursts an event (vgg16 on S at batch 16, greedy: 3.3
//     million; ResNet18 on M at batch 4096, greedy: 72.5 million for 9.0
//     million events); 2^27 is about 134 million.
func DefaultLimits() Limits {
	return Limits{
		MaxNodes:         50000,
		MaxUnits:         1 << 14,
		MaxSpans:         1 << 18,
		MaxGAPlanCuts:    1 << 24,
		MaxGAWork:        1 << 32,
		MaxSweepRows:     1000,
		MaxRefine:        64,
		MaxSimEvents:     1 << 25,
		MaxSimDRAMBursts: 1 << 27,
		MaxTraceBytes:    64 << 20,
		MaxProgramBytes:  256 << 20,
	}
}

// WithDefaults returns the limits with every zero field set to
// DefaultLimits' value (a nil *Limits gives DefaultLimits). A negative
// field is an *InputError naming it.
func (l *Limits) WithDefaults() (Limits, error) {
	d := DefaultLimits()
	if l == nil {
		return d, nil
	}
	out := *l
	fields := []struct {
		key string
		v   *int64
		def int64
	}{
		{"limits.max_spans", &out.MaxSpans, d.MaxSpans},
		{"limits.max_ga_plan_cuts", &out.MaxGAPlanCuts, d.MaxGAPlanCuts},
		{"limits.max_ga_work", &out.MaxGAWork, d.MaxGAWork},
		{"limits.max_sim_events", &out.MaxSimEvents, d.MaxSimEvents},
		{"limits.max_sim_dram_bursts", &out.MaxSimDRAMBursts, d.MaxSimDRAMBursts},
		{"limits.max_trace_bytes", &out.MaxTraceBytes, d.MaxTraceBytes},
		{"limits.max_program_bytes", &out.MaxProgramBytes, d.MaxProgramBytes},
	}
	ints := []struct {
		key string
		v   *int
		def int
	}{
		{"limits.max_nodes", &out.MaxNodes, d.MaxNodes},
		{"limits.max_units", &out.MaxUnits, d.MaxUnits},
		{"limits.max_sweep_rows", &out.MaxSweepRows, d.MaxSweepRows},
		{"limits.max_refine", &out.MaxRefine, d.MaxRefine},
	}
	for _, f := range ints {
		if *f.v < 0 {
			return Limits{}, &InputError{Field: f.key, Err: fmt.Errorf("%d is negative: give a positive limit, or 0 for the default %d", *f.v, f.def)}
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for _, f := range fields {
		if *f.v < 0 {
			return Limits{}, &InputError{Field: f.key, Err: fmt.Errorf("%d is negative: give a positive limit, or 0 for the default %d", *f.v, f.def)}
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return out, nil
}

// How each limit is lifted: the CLI flag, then the request field.
const (
	liftNodes         = "--max-nodes (limits.max_nodes)"
	liftUnits         = "--max-units (limits.max_units)"
	liftSpans         = "--max-spans (limits.max_spans)"
	liftGAPlanCuts    = "--max-ga-plan-cuts (limits.max_ga_plan_cuts)"
	liftGAWork        = "--max-ga-work (limits.max_ga_work)"
	liftSweepRows     = "--max-sweep-rows (limits.max_sweep_rows)"
	liftRefine        = "--max-refine (limits.max_refine)"
	liftSimEvents     = "--max-sim-events (limits.max_sim_events)"
	liftSimDRAMBursts = "--max-sim-dram-bursts (limits.max_sim_dram_bursts)"
	liftTraceBytes    = "--max-trace-bytes (limits.max_trace_bytes)"
	liftProgramBytes  = "--max-program-bytes (limits.max_program_bytes)"
)

// overLimit returns a *LimitError when need exceeds limit, else nil. what
// names the quantity, lift the flag and field that raise the limit (one of
// the lift* constants).
func overLimit(what string, need, limit int64, lift string) error {
	if need <= limit {
		return nil
	}
	return &LimitError{What: what, Need: need, Limit: limit, Lift: lift}
}
