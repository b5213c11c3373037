package api

import (
	"context"
	"fmt"

	"github.com/compass-go/compass/engine/isa"
	"github.com/compass-go/compass/engine/schedule"
)

// Program compiles the request with its single method and schedules the
// plan into per-core instruction streams: the program the simulator runs,
// exported as msgpack (isa.Program.WriteMsgpack) or as a text listing.
func Program(ctx context.Context, req CompileRequest) (*isa.Program, error) {
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
	lp, err := schedule.Build(est, mr.Cuts)
	if err != nil {
		return nil, err
	}
	return lp.Expand(), nil
}
