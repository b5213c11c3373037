package api

import (
	"context"
	"fmt"

	"github.com/compass-go/compass/engine/internal/schedule"
	"github.com/compass-go/compass/engine/isa"
)

// Program compiles the request with its single method and schedules the
// plan into per-core instruction streams: the program the simulator runs,
// expanded for export as msgpack (isa.Program.WriteMsgpack) or as a text
// listing. A program over Limits.MaxProgramBytes expanded is refused with a
// *LimitError before it is expanded. A panic inside it (a bug) is returned
// as an *InternalError.
func Program(ctx context.Context, req CompileRequest) (_ *isa.Program, err error) {
	defer recoverInternal("program", &err)
	lim, err := req.Limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	est, obj, methods, err := req.prepare()
	if err != nil {
		return nil, err
	}
	if len(methods) != 1 {
		return nil, fmt.Errorf("a program is compiled with one method, not %d: name one of %v", len(methods), Methods())
	}
	mr, err := runMethod(ctx, &req, est, obj, methods[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", methods[0], err)
	}
	p, err := schedule.Compile(est, mr.layout)
	if err != nil {
		return nil, &InternalError{Stage: "schedule", Err: fmt.Errorf("%s: %w", methods[0], err)}
	}
	if err := expandWithin(p, methods[0], lim); err != nil {
		return nil, err
	}
	return p.Expand(), nil
}
