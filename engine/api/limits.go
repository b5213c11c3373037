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
	MaxNodes        int   `json:"max_nodes,omitempty"`         // IR nodes of a model graph
	MaxUnits        int   `json:"max_units,omitempty"`         // partition units of the mapped model
	MaxSpans        int64 `json:"max_spans,omitempty"`         // valid spans the searches may cost (the cut graph's edges)
	MaxSimEvents    int64 `json:"max_sim_events,omitempty"`    // events one simulation may process
	MaxTraceBytes   int64 `json:"max_trace_bytes,omitempty"`   // bytes of a simulated trace
	MaxProgramBytes int64 `json:"max_program_bytes,omitempty"` // bytes of an instruction program
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
