package parallel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// Every job runs once and writes its own slot, whatever the worker count.
func TestRunResultsByIndex(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 64} {
		out := make([]int, 50)
		var last int
		err := Run(context.Background(), len(out), workers, func(i int) error {
			out[i] = i * i
			return nil
		}, func(done, total int) {
			if total != 50 || done != last+1 {
				t.Errorf("workers %d: progress (%d, %d) after %d", workers, done, total, last)
			}
			last = done
		})
		if err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		for i, v := range out {
			if v != i*i {
				t.Fatalf("workers %d: out[%d] = %d, want %d", workers, i, v, i*i)
			}
		}
		if last != 50 {
			t.Errorf("workers %d: progress ended at %d, want 50", workers, last)
		}
	}
}

// The lowest-index failure is the error returned, however many workers
// run; with one worker nothing after the first failure starts.
func TestRunStopsAtFirstError(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		var ran atomic.Int64
		err := Run(context.Background(), 100, workers, func(i int) error {
			ran.Add(1)
			if i == 7 || i == 9 || i == 40 {
				return fmt.Errorf("job %d failed", i)
			}
			return nil
		}, nil)
		if err == nil || err.Error() != "job 7 failed" {
			t.Errorf("workers %d: error %v, want job 7's", workers, err)
		}
		if workers == 1 && ran.Load() != 8 {
			t.Errorf("one worker ran %d jobs, want 8 (0-7, stopping at the failure)", ran.Load())
		}
		if ran.Load() == 100 {
			t.Errorf("workers %d: every job ran despite the failure", workers)
		}
	}
}

// A cancelled context stops the hand-out and is the error returned.
func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int64
	err := Run(ctx, 100, 1, func(i int) error {
		if ran.Add(1) == 3 {
			cancel()
		}
		return nil
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if ran.Load() != 3 {
		t.Errorf("%d jobs ran, want 3 (none after the cancel)", ran.Load())
	}
	if err := Run(context.Background(), 0, 4, func(int) error { t.Error("a job ran for n = 0"); return nil }, nil); err != nil {
		t.Errorf("n = 0: %v", err)
	}
}
