package site

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/compass-go/compass/engine/api"
)

// BenchmarkPageMainThread opens a link that runs each zoo network (on chip
// M at batch 16, and ResNet34 on chip L, the largest timeline) in headless
// Chromium, waits for every plot including the batch comparison and the
// simulated timeline, and reports the page's main-thread long tasks (the
// browser's Long Tasks API: tasks over 50 ms) and the most elements one
// render step added. Task lengths depend on the machine and its load, so
// they are measured here and reported in the README, never asserted by a
// test. Run it with scripts/bench-page.sh; COMPASS_BENCH_PAGES=
// "resnet18:M:16,vgg16:S:1" chooses the runs.
func BenchmarkPageMainThread(b *testing.B) {
	runs := pageRuns(b)
	r := startRig(b, 60*time.Minute)
	ctx := r.ctx
	type row struct {
		name            string
		longest, total  float64
		count, maxAdded int
		where           string
		runS            float64
		step            string  // the longest measured step of the page ("compass:NAME")
		stepMs          float64 // and its length
	}
	var rows []row
	for _, run := range runs {
		b.Run(run, func(b *testing.B) {
			parts := strings.Split(run, ":")
			var rw row
			for b.Loop() {
				r.open(b, "/")
				waitFor(ctx, b, "the page", `document.body.dataset.state === 'done'`, 5*time.Minute)
				start := time.Now()
				r.open(b, fmt.Sprintf("/?model=%s&chip=%s&batch=%s&run=1", parts[0], parts[1], parts[2]))
				waitFor(ctx, b, run, `document.body.dataset.state === 'done'`, 10*time.Minute)
				rw.runS = time.Since(start).Seconds()
				waitFor(ctx, b, run+" timeline", `document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true' || !!document.querySelector('[data-role^=timeline-]')`, 20*time.Minute)
				tasks := eval[[]any](ctx, b, `window.__longTasks`)
				rw = row{name: run, runS: rw.runS}
				for _, d := range tasks {
					ms, ok := d.(float64)
					if !ok {
						b.Fatalf("long tasks: %v", d)
					}
					rw.count++
					rw.total += ms
					rw.longest = max(rw.longest, ms)
				}
				added := eval[[]any](ctx, b, `[window.__maxAdded, window.__maxAddedAt]`)
				rw.maxAdded, rw.where = int(added[0].(float64)), fmt.Sprint(added[1])
				step := eval[[]any](ctx, b, `(() => { const m = performance.getEntriesByType('measure').filter((e) => e.name.startsWith('compass:'))
				  .sort((a, b) => b.duration - a.duration)[0]; return m ? [m.name.slice(8), m.duration] : ['', 0]; })()`)
				rw.step, rw.stepMs = fmt.Sprint(step[0]), step[1].(float64)
				loaf := eval[string](ctx, b, `(() => { const l = window.__loaf.sort((a, b) => b.d - a.d)[0]; return l ? JSON.stringify(l) : 'none'; })()`)
				b.Logf("%s: longest animation frame %s", run, loaf)
			}
			b.ReportMetric(rw.longest, "longest-task-ms")
			b.ReportMetric(float64(rw.count), "long-tasks")
			b.ReportMetric(float64(rw.maxAdded), "max-elements-per-step")
			b.ReportMetric(rw.stepMs, "longest-step-ms")
			rows = append(rows, rw)
		})
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-22s %14s %10s %14s %26s %24s %12s\n", "run", "longest task", "tasks>50", "sum of them", "longest page step", "most elements/step", "link->done")
	for _, rw := range rows {
		fmt.Fprintf(&sb, "%-22s %11.0f ms %10d %11.0f ms %15.0f ms (%s) %14d (%s) %10.2f s\n", rw.name, rw.longest, rw.count, rw.total, rw.stepMs, rw.step, rw.maxAdded, rw.where, rw.runS)
	}
	b.Log(sb.String())
}

// pageRuns lists model:chip:batch runs: COMPASS_BENCH_PAGES, or every zoo
// network on chip M at batch 16 and ResNet34 on chip L.
func pageRuns(b *testing.B) []string {
	if env := os.Getenv("COMPASS_BENCH_PAGES"); env != "" {
		return strings.Split(env, ",")
	}
	models, err := api.Models()
	if err != nil {
		b.Fatal(err)
	}
	var runs []string
	for _, m := range models {
		runs = append(runs, m.Name+":M:16")
	}
	return append(runs, "resnet34:L:16")
}
