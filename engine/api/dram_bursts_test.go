package api

import (
	"context"
	"errors"
	"github.com/compass-go/compass/engine/model"
	"strings"
	"testing"
	"time"
)

// bigConvGraph is the reviewer's repro: one 3x3 Conv on a [3,60000,60000]
// input, 3,075 instructions whose LOAD_DATA and STORE_DATA carry tens of
// gigabytes that the DRAM model walks burst by burst.
func bigConvGraph(t *testing.T) *model.Graph {
	t.Helper()
	const src = `{"name":"big","nodes":[{"name":"x","op":"Input","shape":[3,60000,60000]},
{"name":"c","op":"Conv","inputs":["x"],"conv":{"out_channels":8,"kernel_h":3,"kernel_w":3,
"stride_h":1,"stride_w":1,"pad_top":1,"pad_left":1,"pad_bottom":1,"pad_right":1,"dilation_h":1,
"dilation_w":1,"groups":1}}]}`
	g, err := ReadGraphJSON(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The repro runs few events but about a billion DRAM bursts (50 s with
// greedy before this limit): the default limits refuse it before the
// simulation starts, naming the bursts and the flag that lifts them.
func TestHugeTransfersRefusedBeforeTheRun(t *testing.T) {
	req := CompileRequest{Graph: bigConvGraph(t), Chip: "M", Batch: 1, Methods: []string{MethodGreedy}, Seed: 1}
	start := time.Now()
	_, err := Simulate(context.Background(), req, false, nil)
	t.Logf("refused in %v", time.Since(start))
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("Simulate = %v, want a *LimitError", err)
	}
	// The input alone is 3*60000*60000 one-byte activations, read from DRAM
	// at least once in bursts of 64 bytes.
	const inputBursts = 3 * 60000 * 60000 / 64
	if le.Need < inputBursts || le.Limit != DefaultLimits().MaxSimDRAMBursts ||
		!strings.Contains(le.What, "DRAM bursts") || !strings.Contains(le.Lift, "--max-sim-dram-bursts") {
		t.Errorf("limit error %+v: want at least %d DRAM bursts over the default limit, lifted by --max-sim-dram-bursts", le, inputBursts)
	}
}

// With the burst limit lifted, a context deadline stops the simulation
// inside one huge transfer: Simulate returns the context's error rather
// than walking every burst first.
func TestDeadlineStopsAHugeTransfer(t *testing.T) {
	req := CompileRequest{Graph: bigConvGraph(t), Chip: "M", Batch: 1, Methods: []string{MethodGreedy}, Seed: 1,
		Limits: &Limits{MaxSimDRAMBursts: 1 << 40}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Simulate(ctx, req, false, nil)
	t.Logf("returned %v after %v (deadline 200ms)", err, time.Since(start))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Simulate = %v, want the context's deadline error", err)
	}
}
