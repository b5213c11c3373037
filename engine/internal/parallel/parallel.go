// Package parallel runs n independent jobs on a bounded number of worker
// goroutines, each job writing its result by its index, and stops handing
// out jobs at the first error or when the context is done.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Run calls job(i) for every i in [0, n) on at most workers goroutines
// (workers <= 0: GOMAXPROCS). Jobs are handed out in index order. Once a
// job fails no job of a higher index starts, and once ctx is done no job
// starts; the jobs already running finish (Run does not cancel ctx: a long
// job watches it). progress, if not nil, is called after each job that
// succeeds with the count of such jobs and n, never concurrently.
//
// Run returns ctx.Err() when ctx is done, else the error of the failed job
// with the lowest index, else nil: the same error whatever the number of
// workers, since every job below a failed one runs.
func Run(ctx context.Context, n, workers int, job func(i int) error, progress func(done, total int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	next := make(chan int)
	stop := make(chan struct{})
	var stopOnce sync.Once
	var firstFailed atomic.Int64 // the lowest index failed so far, n if none
	firstFailed.Store(int64(n))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if int64(i) > firstFailed.Load() || ctx.Err() != nil {
					continue // handed out before the hand-out saw it
				}
				if err := job(i); err != nil {
					errs[i] = err
					for f := firstFailed.Load(); int64(i) < f && !firstFailed.CompareAndSwap(f, int64(i)); f = firstFailed.Load() {
					}
					stopOnce.Do(func() { close(stop) })
					continue
				}
				if progress != nil {
					mu.Lock()
					done++
					progress(done, n)
					mu.Unlock()
				}
			}
		}()
	}
dispatch:
	for i := 0; i < n; i++ {
		select { // a failure or ctx seen first stops the hand-out
		case <-ctx.Done():
			break dispatch
		case <-stop:
			break dispatch
		default:
		}
		select {
		case <-ctx.Done():
			break dispatch
		case <-stop:
			break dispatch
		case next <- i:
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
