package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/compass-go/compass/engine/internal/estimate"
	"github.com/compass-go/compass/engine/model"
)

// deepBigGraph is a chain of n 3x3 Convs on [64,131000,131000]: every
// tensor holds 64*131000^2, about 2^40, elements.
func deepBigGraph(t *testing.T, n int) *model.Graph {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"name":"deepbig","nodes":[{"name":"x","op":"Input","shape":[64,131000,131000]}`)
	prev := "x"
	for i := range n {
		fmt.Fprintf(&b, `,{"name":"c%d","op":"Conv","inputs":[%q],"conv":{"out_channels":64,"kernel_h":3,"kernel_w":3,"stride_h":1,"stride_w":1,"pad_top":1,"pad_left":1,"pad_bottom":1,"pad_right":1,"dilation_h":1,"dilation_w":1,"groups":1}}`, i, prev)
		prev = fmt.Sprintf("c%d", i)
	}
	b.WriteString("]}")
	g, err := ReadGraphJSON(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// 300 layers of 2^40-element tensors at the largest batch move more DRAM
// bytes than an int64 counts (one tensor alone is 2^56 bytes for 2^16
// inputs; 128 of them reach 2^63): the request is refused with a
// *LimitError naming the batch and the largest batch that fits, never an
// InternalError with a negative byte count. The largest batch it names
// compiles with positive byte counts, and one more is refused.
func TestTrafficOverflowIsALimitNotAnInternalError(t *testing.T) {
	g := deepBigGraph(t, 300)
	compile := func(batch int, method string) (*CompileResult, error) {
		return Compile(context.Background(), CompileRequest{Graph: g, Chip: "M", Batch: batch, Methods: []string{method}, Seed: 1})
	}
	for _, method := range []string{MethodLayerwise, MethodGreedy} {
		_, err := compile(estimate.MaxBatch, method)
		var le *LimitError
		var ie *InternalError
		if errors.As(err, &ie) || !errors.As(err, &le) {
			t.Fatalf("%s at batch %d: %v, want a *LimitError", method, estimate.MaxBatch, err)
		}
		if le.Need != estimate.MaxBatch || le.Limit <= 0 || le.Limit >= estimate.MaxBatch || !strings.Contains(le.What, "inputs in the batch") {
			t.Fatalf("%s: limit error %+v: want the batch %d over a smaller positive batch", method, le, estimate.MaxBatch)
		}
		t.Logf("%s: %v", method, err)
		res, err := compile(int(le.Limit), method)
		if err != nil {
			t.Fatalf("%s at the named largest batch %d: %v", method, le.Limit, err)
		}
		if r := res.Results[0]; r.DRAMBytesRead <= 0 || r.DRAMBytesWritten <= 0 {
			t.Errorf("%s at batch %d: %d bytes read, %d written", method, le.Limit, r.DRAMBytesRead, r.DRAMBytesWritten)
		}
		if _, err := compile(int(le.Limit)+1, method); !errors.As(err, &le) {
			t.Errorf("%s at batch %d, one over the named largest: %v, want a *LimitError", method, le.Limit+1, err)
		}
	}
}

// The saturating sum never wraps to a negative figure.
func TestAddSatSaturates(t *testing.T) {
	if got := addSat(math.MaxInt64-1, 2); got != math.MaxInt64 {
		t.Errorf("addSat(MaxInt64-1, 2) = %d, want MaxInt64", got)
	}
	if got := addSat(40, 2); got != 42 {
		t.Errorf("addSat(40, 2) = %d, want 42", got)
	}
}
