package site

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
	"github.com/compass-go/compass/engine/onnx/onnxtest"
)

var plots = []string{"summary", "strip", "validity", "phases", "convergence", "batches", "chip", "energy", "timeline"}

// maxRenderElements bounds the elements one render step may add to the
// page. Before the timeline moved to a canvas it alone added 7,690 for
// ResNet18 on chip M (24,479 for ResNet34 on L); the largest step now is a
// plot's SVG of a few hundred to about two thousand elements.
const maxRenderElements = 4000

// wasmBrotliBudgetBytes bounds the engine's download: compass.wasm once
// brotli-compressed. Issue 10 set 1.2 MB; it was raised by 25,000 bytes
// on 2026-11-30 when the module measured 1,211,903 bytes: 1,203,122
// without the Paper view's reproduction (the engine's work of that day,
// the layout stage with its placement policies and the k-best search
// among it, had grown it past 1.2 MB) and 8.8 kB for it; and by 15,000
// more the same day for issue 16's row pipeline (the estimator's bands and
// fill, the scheduler's chunks and row counters, the page's option), which
// adds 12,600 to 15,800 bytes (measured on two mains of that day: 1,215,631
// to 1,231,380 and 1,235,619 to 1,248,254). The main that merged the row
// pipeline measured 1,248,542; the budget was set 0.5% above it, at
// 1,255,000. (Compiling the layout stage and the worker pool without
// inlining as well gained nothing: 1,248,625.)
const wasmBrotliBudgetBytes = 1_255_000

// checkStructure asserts what keeps the main thread short on any machine:
// the engine (Go, compass.wasm) never loads on the main thread, only in
// workers; and no single render step added more than maxRenderElements.
// Task lengths themselves depend on the machine's load, so they are
// measured by scripts/bench-page.sh, not asserted here.
func checkStructure(ctx context.Context, t *testing.T, what string) {
	t.Helper()
	onMain := eval[[]any](ctx, t, `[typeof window.Go, typeof window.compass, performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /compass\.wasm|wasm_exec\.js/.test(n)).length]`)
	if onMain[0] != "undefined" || onMain[1] != "undefined" || onMain[2].(float64) != 0 {
		t.Errorf("%s: the engine runs on the main thread (Go %v, compass %v, %v wasm fetches from the page)", what, onMain[0], onMain[1], onMain[2])
	}
	added := eval[[]any](ctx, t, `[window.__maxAdded, window.__maxAddedAt]`)
	if n := added[0].(float64); n > maxRenderElements {
		t.Errorf("%s: one render step added %v elements (in %v), over %d", what, n, added[1], maxRenderElements)
	} else {
		t.Logf("%s: largest render step %v elements (in %v)", what, n, added[1])
	}
}

// claim reads a data-* attribute of a scenario takeaway's [data-claim].
func claim(ctx context.Context, t *testing.T, name, attr string) string {
	t.Helper()
	return eval[string](ctx, t, fmt.Sprintf(`(() => { const e = document.querySelector('[data-claim=%q]'); return e ? String(e.getAttribute('data-%s')) : 'missing'; })()`, name, attr))
}

func claimFloat(ctx context.Context, t *testing.T, name, attr string) float64 {
	t.Helper()
	s := claim(ctx, t, name, attr)
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("claim %s %s: %q is not a number", name, attr, s)
	}
	return v
}

// gaDefault is the engine's default of a GA setting, as a form value.
func gaDefault(t *testing.T, key string) string {
	t.Helper()
	for _, g := range api.Meta().GASettings {
		if g.Key == key {
			return fmt.Sprint(g.Default)
		}
	}
	t.Fatalf("the engine has no GA setting %s", key)
	return ""
}

func nativeCompile(t *testing.T, req api.CompileRequest) *api.CompileResult {
	t.Helper()
	res, err := api.Compile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPlaygroundInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	r := startRig(t, 12*time.Minute)
	ctx := r.ctx
	if w := r.built.File("compass.wasm"); w == nil {
		t.Error("the built page has no compass.wasm")
	} else {
		t.Logf("compass.wasm: %d bytes, %d gzip, %d brotli", w.Bytes, w.GzipBytes, w.BrotliByte)
		if w.BrotliByte > wasmBrotliBudgetBytes {
			t.Errorf("compass.wasm is %d bytes brotli-compressed, over the budget of %d", w.BrotliByte, wasmBrotliBudgetBytes)
		}
	}

	// 0. A first visit (no query string) runs the defaults without a click.
	start := time.Now()
	r.open(t, "/")
	waitFor(ctx, t, "the first visit's run", `document.body.dataset.state === 'done'`, 3*time.Minute)
	t.Logf("first visit to first result: %s", time.Since(start).Round(time.Millisecond))
	for _, p := range []string{"summary", "strip", "chip"} {
		if !eval[bool](ctx, t, fmt.Sprintf(`document.querySelector('figure[data-plot=%s]').dataset.ready === 'true'`, p)) {
			t.Errorf("first visit: plot %s is not drawn", p)
		}
	}
	waitFor(ctx, t, "the first visit's timeline", `document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 3*time.Minute)
	checkStructure(ctx, t, "first visit")

	t.Run("same numbers as the engine", func(t *testing.T) {
		// 1. ResNet18 on chip M at batch 16, every method, seed 1: the numbers
		// shown equal the native engine's JSON for the same request.
		setField(ctx, t, "#model", "resnet18")
		setField(ctx, t, "#chip", "M")
		setField(ctx, t, "#batch", "16")
		setField(ctx, t, "#objective", "latency")
		setField(ctx, t, "#seed", "1")
		// Every method "all" runs (api.Methods); a method that simulates its
		// plans (optimal-sim) is left out: the Node test compares its bytes.
		var simulating []string
		for _, mm := range api.Meta().Methods {
			if mm.Simulates {
				simulating = append(simulating, mm.Name)
			}
		}
		skip, _ := json.Marshal(simulating)
		eval[bool](ctx, t, fmt.Sprintf(`(() => { const skip = %s; for (const c of document.querySelectorAll('input[name=method]')) { if (c.checked === skip.includes(c.value)) c.click(); } return true; })()`, skip))
		eval[bool](ctx, t, `(window.__maxAdded = 0, true)`)
		// A user's Run brings the results into view. Start from the page's
		// bottom, where the results' top edge is above the window, and press
		// Run from the keyboard (focused without scrolling, so that the
		// test's scroll position stands until the page moves it).
		eval[bool](ctx, t, `(window.scrollTo(0, document.documentElement.scrollHeight), true)`)
		waitScrollRest(ctx, t)
		before := eval[[]any](ctx, t, `[document.querySelector('#results').getBoundingClientRect().top, window.innerHeight]`)
		if top := before[0].(float64); top >= 0 && top < before[1].(float64) {
			t.Fatalf("at the page's bottom the results' top is already in view (%v of %v px): the scroll check would prove nothing", top, before[1])
		}
		eval[bool](ctx, t, `(document.querySelector('#run').focus({preventScroll: true}), document.activeElement === document.querySelector('#run'))`)
		runStart := time.Now()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the run to finish", `document.body.dataset.state === 'done'`, 3*time.Minute)
		inPage := time.Since(runStart)
		waitScrollRest(ctx, t)
		if after := eval[[]any](ctx, t, `[document.querySelector('#results').getBoundingClientRect().top, window.innerHeight]`); after[0].(float64) < -1 || after[0].(float64) >= after[1].(float64) {
			t.Errorf("after Run the results' top is at %v px, outside the window's 0 to %v px (from %v px before the run)", after[0], after[1], before[0])
		}
		waitFor(ctx, t, "the batch comparison", `document.querySelector('figure[data-plot=batches]').dataset.ready === 'true'`, 3*time.Minute)
		waitFor(ctx, t, "the simulated timeline", `document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 3*time.Minute)

		native := nativeCompile(t, api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: api.Methods(), Objective: "latency", Seed: 1})
		nativeStart := time.Now()
		if _, err := api.Compile(context.Background(), api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: api.Methods(), Objective: "latency", Seed: 1}); err != nil {
			t.Fatal(err)
		}
		nativeTime := time.Since(nativeStart)
		t.Logf("ResNet18-M-16, all methods: in the page %s (run click to result shown), native %s", inPage.Round(time.Millisecond), nativeTime.Round(time.Millisecond))
		var want bytes.Buffer
		if err := api.WriteJSON(&want, native); err != nil {
			t.Fatal(err)
		}
		got := eval[string](ctx, t, `window.compassLastResult`)
		if got != want.String() {
			t.Errorf("the page's result JSON differs from the native engine's (%d vs %d bytes)", len(got), want.Len())
		}
		for _, r := range native.Results {
			for field, value := range map[string]float64{"throughput_per_s": r.ThroughputPerS, "energy_per_inference_j": r.EnergyPerInferenceJ,
				"edp_j_s": r.EDPJS, "partitions": float64(len(r.Partitions))} {
				sel := fmt.Sprintf(`#summary [data-method=%q] [data-field=%q]`, r.Method, field)
				shown := eval[string](ctx, t, fmt.Sprintf(`(document.querySelector(%q)||{}).getAttribute ? document.querySelector(%q).getAttribute('data-value') : 'missing'`, sel, sel))
				var v float64
				if _, err := fmt.Sscan(shown, &v); err != nil || v != value {
					t.Errorf("%s %s: page shows %q, native %v", r.Method, field, shown, value)
				}
			}
		}
		// The cards' comparison is the engine's (api.CompileResult.Compare,
		// the figures the CLI's comparison table prints).
		for _, c := range native.Compare() {
			for field, value := range map[string]*float64{"vs_greedy": c.VsGreedy, "vs_layerwise": c.VsLayerwise,
				"edp_gain_vs_greedy": c.EDPGainVsGreedy, "gap_to_optimal": c.GapToOptimal} {
				sel := fmt.Sprintf(`#summary [data-method=%q] [data-field=%q]`, c.Method, field)
				shown := eval[string](ctx, t, fmt.Sprintf(`(document.querySelector(%q)||{}).getAttribute ? document.querySelector(%q).getAttribute('data-value') : 'missing'`, sel, sel))
				var v float64
				if _, err := fmt.Sscan(shown, &v); err != nil || value == nil || v != *value {
					t.Errorf("%s %s: page shows %q, the engine's comparison %v", c.Method, field, shown, value)
				}
			}
		}
		for _, p := range plots {
			n := eval[int](ctx, t, fmt.Sprintf(`(() => { const f = document.querySelector('figure[data-plot=%s]'); if (!f || f.dataset.ready !== 'true') return -1;
			  const caption = f.querySelector('figcaption'); if (!caption || caption.textContent.trim().length < 20) return -2;
			  return %q === 'summary' ? f.querySelectorAll('[data-method]').length : (f.querySelector('svg') ? f.querySelector('svg').querySelectorAll('*').length : 0); })()`, p, p))
			if n <= 0 {
				t.Errorf("plot %s: not ready or empty (%d)", p, n)
			}
		}
		// The chip view's local-memory gauges hold what the engine says the
		// shown partition's replicas keep and spill, core by core.
		shownMethod := eval[string](ctx, t, `document.querySelector('figure[data-plot=chip] select[data-control=method]').value`)
		shownPart := eval[int](ctx, t, `Number(document.querySelector('figure[data-plot=chip] select[data-control=partition]').value) || 0`)
		for _, r := range native.Results {
			if r.Method != shownMethod {
				continue
			}
			kept, spill := map[int]int64{}, map[int]int64{}
			for _, sl := range r.Partitions[shownPart].Placement {
				kept[sl.Core] += int64(sl.Count) * min(sl.BufferBytes, sl.ShareBytes)
				spill[sl.Core] += int64(sl.Count) * sl.SpillBytes
			}
			gauges := eval[[]any](ctx, t, `[...document.querySelectorAll('figure[data-plot=chip] rect[data-core]')].map((g) => [Number(g.dataset.core), Number(g.dataset.kept), Number(g.dataset.spill)])`)
			if len(gauges) == 0 {
				t.Error("the chip view draws no local-memory gauges")
			}
			for _, g := range gauges {
				v := g.([]any)
				core := int(v[0].(float64))
				if int64(v[1].(float64)) != kept[core] || int64(v[2].(float64)) != spill[core] {
					t.Errorf("chip view, %s partition %d, core %d: gauge %v/%v, engine keeps %d and spills %d", shownMethod, shownPart, core, v[1], v[2], kept[core], spill[core])
				}
			}
		}

		checkStructure(ctx, t, "ResNet18-M-16, all methods")
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		artefacts := filepath.Join(r.root, "out", "e2e")
		os.MkdirAll(artefacts, 0o755)
		if err := os.WriteFile(filepath.Join(artefacts, "playground.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", filepath.Join(artefacts, "playground.png"))
		for _, fig := range []string{"timeline", "chip"} {
			if img, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("figure[data-plot="+fig+"]"))); err == nil {
				os.WriteFile(filepath.Join(artefacts, fig+".png"), img, 0o644)
			}
		}

		// The program of the compass plan exports as msgpack and as a listing.
		for _, b := range []struct{ button, want string }{{"#export-program", "Program saved"}, {"#export-listing", "Listing saved"}} {
			click(ctx, t, b.button)
			waitFor(ctx, t, b.button, fmt.Sprintf(`document.querySelector('#export-status').textContent.startsWith(%q)`, b.want), time.Minute)
		}

		// 2. A link with the state in the URL reproduces the run.
		link := eval[string](ctx, t, `location.href`)
		if !strings.Contains(link, "run=1") || !strings.Contains(link, "resnet18") {
			t.Fatalf("the URL does not hold the state: %s", link)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(r.srv.URL+"/")); err != nil {
			t.Fatal(err)
		}
		linkStart := time.Now()
		if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the linked run to finish", `document.body.dataset.state === 'done'`, 3*time.Minute)
		t.Logf("page load to first result (a link that runs ResNet18-M-16, all methods): %s", time.Since(linkStart).Round(time.Millisecond))
		if again := eval[string](ctx, t, `window.compassLastResult`); again != want.String() {
			t.Error("opening the link did not reproduce the run")
		}

		// 3. Cancel stops a run, and the page keeps working. The run is made
		// long on purpose (a GA of 20000 generations that never stops early, within the engine's GA work bound).
		setField(ctx, t, "#model", "vgg16")
		setField(ctx, t, "#chip", "S")
		setField(ctx, t, "#batch", "16")
		setField(ctx, t, "#ga-generations", "20000")
		setField(ctx, t, "#ga-patience", "0")
		eval[bool](ctx, t, `(() => { for (const c of document.querySelectorAll('input[name=method]')) { if (c.checked !== (c.value === 'compass')) c.click(); } return true; })()`)
		click(ctx, t, "#run")
		waitFor(ctx, t, "the long run to report progress", `document.querySelector('#status').dataset.state === 'running' && document.querySelector('#progress').value > 0`, time.Minute)
		click(ctx, t, "#cancel")
		waitFor(ctx, t, "the cancel", `document.querySelector('#status').dataset.state === 'cancelled'`, 5*time.Second)
		setField(ctx, t, "#model", "squeezenet1_1")
		setField(ctx, t, "#batch", "2")
		setField(ctx, t, "#ga-generations", gaDefault(t, "generations"))
		setField(ctx, t, "#ga-patience", gaDefault(t, "patience"))
		click(ctx, t, "#run")
		waitFor(ctx, t, "a run after the cancel", `document.querySelector('#status').dataset.state === 'done'`, 2*time.Minute)

		// 4. A bad uploaded file shows a clear message and the page keeps working.
		bad := filepath.Join(t.TempDir(), "broken.onnx")
		os.WriteFile(bad, []byte("this is not a model"), 0o644)
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{bad})); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the upload error", `document.querySelector('#status').dataset.state === 'error'`, 30*time.Second)
		if msg := eval[string](ctx, t, `document.querySelector('#status').textContent`); !strings.Contains(msg, "broken.onnx") {
			t.Errorf("the upload error does not name the file: %q", msg)
		}
		setField(ctx, t, "#model", "squeezenet1_1")
		click(ctx, t, "#run")
		waitFor(ctx, t, "a run after the bad upload", `document.querySelector('#status').dataset.state === 'done'`, 2*time.Minute)

		// 5. A real ONNX file (a sample model of the gonnx module, which the test
		// script downloads) loads in the page and compiles.
		dir := os.Getenv("COMPASS_GONNX_DIR")
		if dir == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("COMPASS_GONNX_DIR is not set: scripts/test.sh downloads the sample ONNX models and sets it")
			}
			t.Log("COMPASS_GONNX_DIR is not set (run through scripts/test.sh): skipping the ONNX upload")
		} else {
			mlp := filepath.Join(dir, "sample_models", "onnx_models", "mlp.onnx")
			if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{mlp})); err != nil {
				t.Fatal(err)
			}
			waitFor(ctx, t, "the ONNX model to load", `document.querySelector('#model').value === 'upload:mlp.onnx' && document.querySelector('#status').dataset.state === 'idle'`, 30*time.Second)
			setField(ctx, t, "#chip", "M")
			setField(ctx, t, "#batch", "1")
			click(ctx, t, "#run")
			waitFor(ctx, t, "the uploaded model's run", `document.querySelector('#status').dataset.state === 'done'`, 2*time.Minute)
			native, err := api.Compile(context.Background(), api.CompileRequest{Model: mlp, Chip: "M", Batch: 1, Methods: []string{api.MethodCompass}, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			got := eval[[]any](ctx, t, `(() => { const r = JSON.parse(window.compassLastResult); return [r.model, r.units, r.results.find(x => x.method === 'compass').throughput_per_s]; })()`)
			if got[0] != native.Model || got[1] != float64(native.Units) || got[2] != native.Results[0].ThroughputPerS {
				t.Errorf("the uploaded mlp.onnx compiled to %v in the page, natively to %s, %d units, %v/s", got, native.Model, native.Units, native.Results[0].ThroughputPerS)
			}
		}

	})

	t.Run("a tap shows the tapped item", func(t *testing.T) {
		// A touch tap sends pointerdown and focus but no pointermove: the
		// readout must describe what was tapped (the last partition, at the
		// right end of the timeline), not the first item.
		r.open(t, "/")
		waitFor(ctx, t, "the timeline", `document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 3*time.Minute)
		got := eval[string](ctx, t, `(() => { const svg = document.querySelector('figure[data-plot=timeline] svg.chart'); const b = svg.getBoundingClientRect();
		  const at = {clientX: b.right - 14, clientY: b.top + 20, pointerType: 'touch', isPrimary: true, bubbles: true};
		  svg.dispatchEvent(new PointerEvent('pointerdown', at)); svg.focus(); svg.dispatchEvent(new PointerEvent('pointerup', at));
		  return document.querySelector('figure[data-plot=timeline] .readout').textContent; })()`)
		last := eval[int](ctx, t, `JSON.parse(window.compassLastResult).results.find((x) => x.method === 'compass').partitions.length - 1`)
		if !strings.HasPrefix(got, fmt.Sprintf("Partition %d:", last)) {
			t.Errorf("a tap at the timeline's right end shows %q, want partition %d", got, last)
		}
	})

	t.Run("scenarios", func(t *testing.T) {
		// Each guided experiment's link runs it, highlights its plot and
		// writes a takeaway whose figures are the engine's.
		takeaways, highlighted := map[string]string{}, map[string]string{}
		takeaway := func(name string) string {
			return eval[string](ctx, t, fmt.Sprintf(`document.querySelector('[data-takeaway=%q]').textContent`, name))
		}
		sc := func(name, plot string) {
			t.Helper()
			r.open(t, "/?scenario="+name)
			waitFor(ctx, t, "scenario "+name, fmt.Sprintf(`!!document.querySelector('[data-takeaway=%q] [data-claim]')`, name), 4*time.Minute)
			takeaways[name], highlighted[name] = takeaway(name), plot
			if plot != "" && !eval[bool](ctx, t, fmt.Sprintf(`document.querySelector('figure[data-plot=%s]').classList.contains('highlight')`, plot)) {
				t.Errorf("scenario %s: plot %s is not highlighted", name, plot)
			}
			if !eval[bool](ctx, t, fmt.Sprintf(`document.querySelector('[data-scenario=%q]').getAttribute('aria-pressed') === 'true'`, name)) {
				t.Errorf("scenario %s: its button is not marked", name)
			}
		}

		sc("why-partition", "strip")
		sq, err := api.InspectModel(api.InspectRequest{Model: "squeezenet1_1", Chip: "S"})
		if err != nil {
			t.Fatal(err)
		}
		if got := claim(ctx, t, "small-fits", "fits"); got != fmt.Sprint(sq.Fits) || !sq.Fits {
			t.Errorf("why-partition: the page says SqueezeNet fits chip S = %s; the engine: %v", got, sq.Fits)
		}
		big := nativeCompile(t, api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: []string{"greedy", "layerwise", "compass", "optimal"}, Objective: "latency", Seed: 1})
		if got, want := claimFloat(ctx, t, "big-needs", "ratio"), float64(big.CrossbarsNeeded)/float64(big.CrossbarsAvailable); got != want || want <= 1 {
			t.Errorf("why-partition: ResNet18 needs %v x chip M in the page, %v in the engine", got, want)
		}

		sc("greedy-starves", "chip")
		gs := nativeCompile(t, api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: []string{"greedy", "optimal"}, Objective: "latency", Seed: 1})
		g, o := gs.Result("greedy"), gs.Result("optimal")
		first := g.Partitions[0].TimeS / g.LatencyS
		for _, p := range g.Partitions[1:] {
			if p.TimeS >= g.Partitions[0].TimeS {
				t.Errorf("greedy-starves: the engine's greedy partition %d (%v s) is not shorter than the first (%v s): the takeaway's claim is false", p.Index, p.TimeS, g.Partitions[0].TimeS)
			}
		}
		if got := claimFloat(ctx, t, "greedy-first", "share"); got != first {
			t.Errorf("greedy-starves: the page says greedy's first partition takes %v of the time, the engine %v", got, first)
		}
		if claim(ctx, t, "greedy-first", "dominant") != "true" {
			t.Error("greedy-starves: the page does not find greedy's first partition dominant")
		}
		if got, want := claimFloat(ctx, t, "optimal-first", "replicas"), float64(o.Partitions[0].Replication[0].Replicas); got != want || want <= float64(g.Partitions[0].Replication[0].Replicas) {
			t.Errorf("greedy-starves: the optimum's first layer has %v replicas in the page, %v in the engine (greedy: %d)", got, want, g.Partitions[0].Replication[0].Replicas)
		}
		if got := eval[string](ctx, t, `document.querySelector('figure[data-plot=chip] select[data-control=method]').value`); got != "greedy" {
			t.Errorf("greedy-starves: the chip view shows %s, not greedy", got)
		}

		sc("batch", "batches")
		sw, err := api.Sweep(context.Background(), api.SweepRequest{Models: []string{"resnet18"}, Chips: []string{"M"}, Batches: []int{1, 2, 4, 8, 16},
			Methods: []string{"greedy", "layerwise", "compass", "optimal"}, Objective: "latency", Seed: 1, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		energy := map[int]float64{}
		for _, row := range sw.Rows {
			for _, f := range row.Figures {
				if f.Method == "compass" {
					energy[row.Batch] = f.EnergyPerInferenceJ
				}
			}
		}
		if from, to := claimFloat(ctx, t, "batch-energy", "from"), claimFloat(ctx, t, "batch-energy", "to"); from != energy[1] || to != energy[16] || !(to < from) {
			t.Errorf("batch: the page says %v J at batch 1 and %v J at 16; the engine %v and %v", from, to, energy[1], energy[16])
		}

		sc("ga-gap", "convergence")
		ga := nativeCompile(t, api.CompileRequest{Model: "vgg16", Chip: "S", Batch: 1, Methods: []string{api.MethodCompass, api.MethodOptimal}, Objective: "latency", Seed: 1})
		paperGap := ga.Result(api.MethodCompass).LatencyS/ga.Result(api.MethodOptimal).LatencyS - 1
		if got := claimFloat(ctx, t, "paper-gap", "gap"); got != paperGap || paperGap <= 0 {
			t.Errorf("ga-gap: the page says compass (the paper's GA) is %v above the optimum, the engine %v", got, paperGap)
		}
		if got, want := claimFloat(ctx, t, "paper-gap", "partitions"), float64(len(ga.Result(api.MethodCompass).Partitions)); got != want {
			t.Errorf("ga-gap: compass's partitions %v in the page, %v in the engine", got, want)
		}

		sc("reram", "phases")
		chips, err := api.Chips()
		if err != nil {
			t.Fatal(err)
		}
		var reram, sram hw.Chip
		for _, c := range chips {
			switch c.Name {
			case "ReRAM":
				reram = *c
			case "M":
				sram = *c
			}
		}
		cheap := reram
		cheap.Name = "ReRAM with SRAM writes"
		cheap.CrossbarWriteRowLatencyNs, cheap.CrossbarWriteEnergyPerCellBitPJ = sram.CrossbarWriteRowLatencyNs, sram.CrossbarWriteEnergyPerCellBitPJ
		re := nativeCompile(t, api.CompileRequest{Model: "mobilenet_v2", Chip: "ReRAM", Batch: 1, Methods: []string{"layerwise", "optimal"}, Objective: "latency", Seed: 1})
		ch := nativeCompile(t, api.CompileRequest{Model: "mobilenet_v2", Chip: "ReRAM", ChipSpec: &cheap, Batch: 1, Methods: []string{"optimal"}, Objective: "latency", Seed: 1})
		if got, want := claimFloat(ctx, t, "reram-cuts", "partitions"), float64(len(re.Result("optimal").Partitions)); got != want {
			t.Errorf("reram: the optimum has %v partitions in the page, %v in the engine", got, want)
		}
		if got, want := claimFloat(ctx, t, "reram-cuts", "cheap_partitions"), float64(len(ch.Results[0].Partitions)); got != want {
			t.Errorf("reram: with SRAM writes the optimum has %v partitions in the page, %v in the engine", got, want)
		}
		if len(re.Result("optimal").Partitions) == len(ch.Results[0].Partitions) {
			t.Errorf("reram: the write cost does not change the optimum's cut count (%d): the scenario no longer shows what it asks", len(ch.Results[0].Partitions))
		}

		// The DOM contract: each scenario is a [data-scenario] link or button.
		// Clicked on a page opened without a scenario, it runs the scenario,
		// marks itself, highlights the same plot and writes the same takeaway
		// (the engine's figures, checked above) as its ?scenario= link.
		for _, name := range []string{"why-partition", "greedy-starves"} {
			r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=greedy")
			waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle'`, time.Minute)
			click(ctx, t, fmt.Sprintf("[data-scenario=%q]", name))
			waitFor(ctx, t, "scenario "+name+" from its button", fmt.Sprintf(`document.body.dataset.state === 'done' && !!document.querySelector('[data-takeaway=%q] [data-claim]')`, name), 4*time.Minute)
			if got := takeaway(name); got != takeaways[name] {
				t.Errorf("scenario %s: its button gives the takeaway %q, its link %q", name, got, takeaways[name])
			}
			lit := eval[[]any](ctx, t, `[...document.querySelectorAll('figure.plot.highlight')].map((f) => f.dataset.plot)`)
			if fmt.Sprint(lit) != "["+highlighted[name]+"]" {
				t.Errorf("scenario %s from its button highlights %v, its link [%s]", name, lit, highlighted[name])
			}
			pressed := eval[[]any](ctx, t, `[...document.querySelectorAll('[data-scenario][aria-pressed=true]')].map((b) => b.dataset.scenario)`)
			if fmt.Sprint(pressed) != "["+name+"]" {
				t.Errorf("scenario %s from its button: the buttons marked pressed are %v", name, pressed)
			}
			if got := eval[string](ctx, t, `location.search`); got != "?scenario="+name {
				t.Errorf("scenario %s from its button: the URL's query is %q, not its link's", name, got)
			}
		}
		if got := eval[string](ctx, t, `document.querySelector('figure[data-plot=chip] select[data-control=method]').value`); got != "greedy" {
			t.Errorf("greedy-starves from its button: the chip view shows %s, not greedy", got)
		}

		r.open(t, "/?scenario=own-model")
		waitFor(ctx, t, "the own-model scenario", `!!document.querySelector('[data-takeaway=own-model]') && document.activeElement === document.querySelector('#upload')`, time.Minute)
		checkStructure(ctx, t, "scenarios")
	})

	t.Run("errors in plain words", func(t *testing.T) {
		// A bad link names what is wrong next to the field, and does not run.
		r.open(t, "/?model=nosuchnet&batch=2.5&run=1")
		waitFor(ctx, t, "the bad link's message", `document.body.dataset.state === 'error'`, time.Minute)
		status := eval[string](ctx, t, `document.querySelector('#status').textContent`)
		for _, want := range []string{"nosuchnet", "batch=2.5"} {
			if !strings.Contains(status, want) {
				t.Errorf("the bad link's message does not name %s: %q", want, status)
			}
		}
		for _, f := range []string{"model", "batch"} {
			if !eval[bool](ctx, t, fmt.Sprintf(`(() => { const e = document.querySelector('#%s'); const m = document.querySelector('.field-error[data-field=%s]');
			  return !!m && e.getAttribute('aria-invalid') === 'true' && (e.getAttribute('aria-describedby') || '').includes(m.id); })()`, f, f)) {
				t.Errorf("no message next to #%s", f)
			}
		}

		// A chip field out of its physical range: the engine's message next to it.
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=greedy")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle' || document.body.dataset.state === 'done'`, time.Minute)
		setField(ctx, t, "#chip-form [data-key=clock_hz]", "1e15")
		click(ctx, t, "#run")
		waitFor(ctx, t, "the chip error", `document.body.dataset.state === 'error'`, time.Minute)
		msg := eval[string](ctx, t, `(document.querySelector('.field[data-field-key=clock_hz] .field-error') || {textContent: ''}).textContent`)
		if !strings.Contains(msg, "clock_hz") && !strings.Contains(strings.ToLower(msg), "clock") {
			t.Errorf("no field-level message next to the clock: %q (status %q)", msg, eval[string](ctx, t, `document.querySelector('#status').textContent`))
		}
		if !eval[bool](ctx, t, `document.querySelector('#chip-form [data-key=clock_hz]').getAttribute('aria-invalid') === 'true' && document.querySelector('#chip-details').open`) {
			t.Error("the clock field is not marked invalid in an open chip section")
		}

		// A fractional core count: plain words next to the field, not Go's
		// "cannot unmarshal number 2.5 into Go struct field".
		setField(ctx, t, "#chip-form [data-key=clock_hz]", "1000000000")
		setField(ctx, t, "#chip-form [data-key=cores]", "2.5")
		click(ctx, t, "#run")
		waitFor(ctx, t, "the cores error", `!!document.querySelector('.field[data-field-key=cores] .field-error')`, time.Minute)
		cores := eval[string](ctx, t, `document.querySelector('.field[data-field-key=cores] .field-error').textContent + ' | ' + document.querySelector('#status').textContent`)
		if !strings.Contains(cores, "whole number") || strings.Contains(cores, "unmarshal") || strings.Contains(cores, "Go struct") {
			t.Errorf("cores = 2.5: %q", cores)
		}
		if eval[bool](ctx, t, `!!document.querySelector('.field[data-field-key=clock_hz] .field-error')`) {
			t.Error("the corrected clock still shows its old message")
		}

		// A value that once printed a Go stack trace: one short message.
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=greedy&chip.mvm_slice_latency_ns=1e308&run=1")
		waitFor(ctx, t, "the huge latency's outcome", `document.body.dataset.state === 'error' || document.body.dataset.state === 'done'`, 2*time.Minute)
		status = eval[string](ctx, t, `document.querySelector('#status').textContent`)
		if len(status) > 600 || strings.Contains(status, "goroutine") || strings.Contains(status, ".go:") {
			t.Errorf("status line of %d characters: %.300q", len(status), status)
		}
		if eval[string](ctx, t, `document.body.dataset.state`) == "error" && !eval[bool](ctx, t, `!!document.querySelector('.field[data-field-key=mvm_slice_latency_ns] .field-error')`) {
			t.Errorf("the refused latency has no message next to its field: %q", status)
		}
	})

	t.Run("bounded simulation", func(t *testing.T) {
		// The largest batch the field takes: the compile answers, and the
		// simulation is refused at once with the engine's bound as a message
		// on the timeline (the worker survives: the page runs again).
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=65536&methods=greedy&run=1")
		waitFor(ctx, t, "the batch-65536 run", `document.body.dataset.state === 'done' || document.body.dataset.state === 'error'`, 3*time.Minute)
		waitFor(ctx, t, "the batch-65536 timeline", `!!document.querySelector('figure[data-plot=timeline] [data-role^=timeline-]') || document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 3*time.Minute)
		text := eval[string](ctx, t, `document.querySelector('#status').textContent + ' | ' + document.querySelector('figure[data-plot=timeline] .plot-body').textContent`)
		if !eval[bool](ctx, t, `!!document.querySelector('[data-role=timeline-limit]')`) || !strings.Contains(text, "events") {
			t.Errorf("batch 65536: no bounded message on the timeline: %.400q", text)
		}
		for _, bad := range []string{"Cannot read properties", "undefined", "stopped", "crashed"} {
			if strings.Contains(text, bad) {
				t.Errorf("batch 65536: %q shows a crash (%s)", text, bad)
			}
		}
		// Batch 4096 simulates, and the timeline says how much of the run
		// its (bounded) trace covers.
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=4096&methods=greedy&run=1")
		waitFor(ctx, t, "the batch-4096 timeline", `!!document.querySelector('figure[data-plot=timeline] [data-role^=timeline-]') || document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 5*time.Minute)
		cut := eval[[]any](ctx, t, `(() => { const n = document.querySelector('[data-role=timeline-truncated]'); return n ? [Number(n.dataset.drawnS), Number(n.dataset.latencyS)] : []; })()`)
		if len(cut) != 2 || !(cut[0].(float64) > 0 && cut[0].(float64) < cut[1].(float64)) {
			t.Errorf("batch 4096: the timeline does not say its trace was cut short (%v): %.300q", cut,
				eval[string](ctx, t, `document.querySelector('figure[data-plot=timeline] .plot-body').textContent`))
		}
	})

	t.Run("dynamic-shape upload", func(t *testing.T) {
		// An ONNX file with a dynamic height and width: the page shows its
		// input with the declared shape, the user types the sizes, and the
		// result equals the CLI's with --input.
		file := filepath.Join(t.TempDir(), "dynconv.onnx")
		if err := os.WriteFile(file, onnxtest.ConvModel([]any{"N", 3, "H", "W"}, 16, "Relu"), 0o644); err != nil {
			t.Fatal(err)
		}
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=greedy")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle'`, time.Minute)
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{file})); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the input fields", `!!document.querySelector('#input-shape')`, 30*time.Second)
		field := eval[[]any](ctx, t, `(() => { const f = document.querySelector('#input-shape'); return [f.value, f.classList.contains('dynamic'), f.required, document.querySelector('label[for=input-shape]').textContent]; })()`)
		if field[0] != "1,3,H,W" || field[1] != true || field[2] != true || !strings.Contains(field[3].(string), "H × W") {
			t.Errorf("#input-shape: %v, want 1,3,H,W highlighted and required with the declared shape in its label", field)
		}
		// Run before typing: the missing sizes are named next to the field.
		click(ctx, t, "#run")
		waitFor(ctx, t, "the missing size", `document.body.dataset.state === 'error' && !!document.querySelector('#input-shape[aria-invalid=true]')`, 30*time.Second)
		setField(ctx, t, "#input-shape", "1,3,40,24")
		setField(ctx, t, "#chip", "M")
		setField(ctx, t, "#batch", "2")
		eval[bool](ctx, t, `(() => { for (const c of document.querySelectorAll('input[name=method]')) { if (c.checked !== (c.value === 'compass' || c.value === 'optimal')) c.click(); } return true; })()`)
		click(ctx, t, "#run")
		waitFor(ctx, t, "the dynamic model's run", `document.body.dataset.state === 'done'`, 2*time.Minute)
		// The CLI: compass compile --model dynconv.onnx --input x=1,3,40,24.
		gr, err := api.LoadModelWith(file, api.ModelOptions{Inputs: []api.InputSetting{{Name: "x", Shape: []int{1, 3, 40, 24}}}})
		if err != nil {
			t.Fatal(err)
		}
		native := nativeCompile(t, api.CompileRequest{Model: file, Graph: gr, Chip: "M", Batch: 2, Methods: []string{"compass", "optimal"}, Objective: "latency", Seed: 1})
		got := eval[[]any](ctx, t, `(() => { const r = JSON.parse(window.compassLastResult); return [r.units, r.crossbars_needed, r.results.map((x) => x.throughput_per_s), r.results.map((x) => x.energy_per_inference_j)]; })()`)
		want := []any{float64(native.Units), float64(native.CrossbarsNeeded), []any{native.Results[0].ThroughputPerS, native.Results[1].ThroughputPerS},
			[]any{native.Results[0].EnergyPerInferenceJ, native.Results[1].EnergyPerInferenceJ}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("the dynamic-shape upload compiled to %v in the page, %v with the CLI's --input", got, want)
		}
	})

	t.Run("two inputs and an input's value", func(t *testing.T) {
		// A model of two inputs: x of a dynamic batch and an integer sr an If
		// reads. The user types x's shape and sr's shape and value in the
		// fields the upload shows; the page's result is the engine's for the
		// same settings (api.ModelOptions.Inputs), byte for byte.
		data := onnxtest.IfModel(128, 256, 16)
		file := filepath.Join(t.TempDir(), "ifsr.onnx")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=compass&objective=latency&seed=1")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle'`, time.Minute)
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{file})); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the two inputs' fields", `!!document.querySelector('#input-shape') && !!document.querySelector('#input-shape-2-value')`, 30*time.Second)
		// Without sr's value the If cannot be resolved: the message names sr,
		// and the file stays chosen with its fields shown (x's dynamic batch
		// axis is 1 unless typed, so only the value is missing).
		waitFor(ctx, t, "the missing value's message", `document.body.dataset.state === 'error'`, 30*time.Second)
		if status := eval[string](ctx, t, `document.querySelector('#status').textContent`); !strings.Contains(status, `"sr"`) || !strings.Contains(status, "ifsr.onnx") {
			t.Errorf("the upload's message does not name the file and sr: %q", status)
		}
		if got := eval[[]any](ctx, t, `[document.querySelector('#model').value, document.querySelector('#model-inputs').hidden, document.activeElement.id]`); fmt.Sprint(got) != "[upload:ifsr.onnx false input-shape-2-value]" {
			t.Errorf("after the upload that needs a value: model, fields hidden, focus = %v; want the upload chosen, its fields shown and sr's value focused", got)
		}
		fields := eval[[]any](ctx, t, `[...document.querySelectorAll('#model-inputs input')].map((f) => f.id + '=' + f.value)`)
		if fmt.Sprint(fields) != "[input-shape=1,128 input-shape-2=1 input-shape-2-value=]" {
			t.Errorf("the upload's input fields are %v, want x's shape, sr's shape and sr's value", fields)
		}
		setField(ctx, t, "#input-shape", "1,128")
		setField(ctx, t, "#input-shape-2", "1")
		setField(ctx, t, "#input-shape-2-value", "8000")
		// Run from the keyboard: after the upload the page focuses sr's
		// field and may still be scrolling it into view, and a mouse click
		// measured before the page moves lands elsewhere (a full suite on a
		// loaded machine lost it once and waited out the timeout).
		waitFor(ctx, t, "#run to be enabled", `!document.querySelector('#run').disabled`, 2*time.Minute)
		eval[bool](ctx, t, `(document.querySelector('#run').focus({preventScroll: true}), document.activeElement === document.querySelector('#run'))`)
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the two-input model's run", `document.body.dataset.state === 'done'`, 2*time.Minute)
		compile := func(sr int64) string {
			t.Helper()
			g, err := api.LoadModelBytesWith("ifsr.onnx", data, api.ModelOptions{Inputs: []api.InputSetting{
				{Name: "x", Shape: []int{1, 128}}, {Name: "sr", Shape: []int{1}, Value: []int64{sr}}}})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := api.WriteJSON(&out, nativeCompile(t, api.CompileRequest{Model: "upload:ifsr.onnx", Graph: g, Chip: "S", Batch: 1,
				Methods: []string{"compass"}, Objective: "latency", Seed: 1})); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		want, other := compile(8000), compile(16000)
		if want == other {
			t.Fatal("sr = 8000 and sr = 16000 compile to the same result: the value field would not be shown to matter")
		}
		if got := eval[string](ctx, t, `window.compassLastResult`); got != want {
			t.Errorf("the page's result for x=1,128 and sr=8000 differs from the engine's (%d vs %d bytes; sr=16000's is %d): %.300s", len(got), len(want), len(other), got)
		}
	})

	t.Run("unsupported operators listed", func(t *testing.T) {
		// A file that cannot be read lists every blocker in the status area.
		file := filepath.Join(t.TempDir(), "blocked.onnx")
		if err := os.WriteFile(file, onnxtest.ConvModel([]any{1, 3, 8, 8}, 4, "NoSuchOpA", "Relu", "NoSuchOpB", "NoSuchOpA"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{file})); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the blockers", `document.body.dataset.state === 'error'`, 30*time.Second)
		status := eval[string](ctx, t, `document.querySelector('#status').textContent`)
		for _, want := range []string{"blocked.onnx", "2 operators", "(1) NoSuchOpA is used 2 times", "(2) NoSuchOpB is used once"} {
			if !strings.Contains(status, want) {
				t.Errorf("the status does not say %q: %q", want, status)
			}
		}
	})

	t.Run("embed chooses its plots", func(t *testing.T) {
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=2&methods=greedy,optimal&embed=1&plots=summary,chip&run=1")
		waitFor(ctx, t, "the embed's chip view", `document.querySelector('figure[data-plot=chip]').dataset.ready === 'true'`, 2*time.Minute)
		shown := eval[[]any](ctx, t, `['summary', 'strip', 'chip', 'validity'].map((p) => getComputedStyle(document.querySelector('figure[data-plot=' + p + ']')).display !== 'none')`)
		if fmt.Sprint(shown) != "[true false true false]" {
			t.Errorf("embed with plots=summary,chip shows summary, strip, chip, validity = %v", shown)
		}
		if !strings.Contains(eval[string](ctx, t, `location.search`), "plots=summary,chip") {
			t.Error("the embed's URL lost its plots after the run")
		}
	})

	t.Run("embed snippet fits its content", func(t *testing.T) {
		// The snippet the page offers, pasted into another page: its few
		// lines of script resize the iframe to the widget's content, which
		// is taller than the snippet's initial 620 px for ResNet18's cards
		// and strip.
		r.open(t, "/?model=resnet18&chip=M&batch=16")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle' || document.body.dataset.state === 'done'`, time.Minute)
		snippet := eval[string](ctx, t, `document.querySelector('#embed-code').value`)
		if !strings.Contains(snippet, "compass-embed-height") || !strings.Contains(snippet, `height="620"`) {
			t.Fatalf("the snippet lacks its resize listener: %s", snippet)
		}
		r.hostPage.Lock()
		r.hostPage.html = "<!doctype html><html><body style='margin:0'><h1>docs</h1>" + snippet + "</body></html>"
		r.hostPage.Unlock()
		r.open(t, "/e2e-host")
		// The widget has run and drawn every plot it shows; then the height it
		// reports settles (its last report follows the last layout change).
		waitFor(ctx, t, "the embedded run", `(() => { const f = document.getElementById('compass-embed'); const d = f && f.contentDocument;
		  if (!d || !d.body || d.body.dataset.state !== 'done') return false;
		  const shown = [...d.querySelectorAll('figure.plot')].filter((p) => f.contentWindow.getComputedStyle(p).display !== 'none');
		  return shown.length > 0 && shown.every((p) => p.dataset.ready === 'true'); })()`, 3*time.Minute)
		const measure = `(() => { const f = document.getElementById('compass-embed'); const d = f.contentDocument; const w = f.contentWindow;
		  const shown = [...d.querySelectorAll('figure.plot')].filter((p) => w.getComputedStyle(p).display !== 'none');
		  const last = shown[shown.length - 1];
		  return [f.clientHeight, Math.ceil(d.documentElement.getBoundingClientRect().height), d.documentElement.scrollHeight,
		    last.getBoundingClientRect().bottom + w.scrollY, last.dataset.plot]; })()`
		// At rest: the iframe's height the same over 10 animation frames (a
		// report crosses from the widget to the host in one or two).
		steady, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise((resolve) => {
		  const f = document.getElementById('compass-embed'); let last = -1, same = 0, frames = 0;
		  const step = () => { const h = f.clientHeight; same = h === last ? same + 1 : 0; last = h;
		    if (same >= 10) return resolve(true); if (++frames > 3000) return resolve(false); requestAnimationFrame(step); };
		  requestAnimationFrame(step); })`, chromedp.EvalAwaitPromise))
		if err != nil || !steady {
			t.Fatalf("the iframe's height never settled (%v)", err)
		}
		m := eval[[]any](ctx, t, measure)
		frame, content, scroll, lastBottom := m[0].(float64), m[1].(float64), m[2].(float64), m[3].(float64)
		t.Logf("embedded widget: iframe %v px, content %v px (scrollHeight %v), last plot (%v) ends at %v px", frame, content, scroll, m[4], lastBottom)
		if d := frame - content; d < -3 || d > 3 {
			t.Errorf("the iframe is %v px tall, its document's content %v px: the widget's height report is off by %v px", frame, content, d)
		}
		if frame <= 620 {
			t.Errorf("the iframe kept its initial height (%v px) for ResNet18's cards and strip", frame)
		}
		if scroll > frame+1 {
			t.Errorf("the embedded document scrolls: %v px of content in a %v px iframe", scroll, frame)
		}
		if lastBottom > frame+1 {
			t.Errorf("the last plot (%v) ends at %v px, below the iframe's %v px: it is cut off", m[4], lastBottom, frame)
		}

		// Embedded from another origin (the real case; its document is closed
		// to the test), the widget passes through taller and shorter layouts
		// while it loads and runs (1,304, 922, 604 px in one run) and settles
		// at the height measured above.
		host := "data:text/html;charset=utf-8," + url.PathEscape("<!doctype html><html><body style='margin:0'><h1>docs</h1>"+snippet+"</body></html>")
		if err := chromedp.Do(ctx, chromedp.Navigate(host)); err != nil {
			t.Fatal(err)
		}
		settled := fmt.Sprintf(`(() => { const f = document.getElementById('compass-embed'); return !!f && f.clientHeight === %d; })()`, int(frame))
		waitFor(ctx, t, fmt.Sprintf("the cross-origin iframe to reach %v px", frame), settled, 3*time.Minute)
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise((resolve) => { let n = 0; const step = () => (++n < 30 ? requestAnimationFrame(step) : resolve(true)); requestAnimationFrame(step); })`, chromedp.EvalAwaitPromise)); err != nil || !ok {
			t.Fatalf("waiting 30 frames: %v", err)
		}
		if got := eval[float64](ctx, t, `document.getElementById('compass-embed').clientHeight`); got != frame {
			t.Errorf("the cross-origin iframe reached %v px and then moved to %v px", frame, got)
		}
	})

	t.Run("nothing left the origin", func(t *testing.T) {
		r.reqs.mu.Lock()
		if r.reqs.count == 0 {
			t.Error("the proxy saw no request: the page's traffic did not go through it")
		}
		for _, f := range r.reqs.foreign {
			if !chromiumService(f) {
				t.Errorf("a request left the page's origin: %s", f)
			}
		}
		r.reqs.mu.Unlock()
		// The browser's own services are told apart by host; the page's sources
		// must never name those hosts, so a page request could not hide there.
		for _, f := range r.built.Files {
			data, err := os.ReadFile(filepath.Join(r.out, f.Path))
			if err != nil {
				t.Fatal(err)
			}
			for _, host := range chromiumServiceHosts {
				if bytes.Contains(data, []byte(host)) {
					t.Errorf("%s names %s", f.Path, host)
				}
			}
		}
		r.pageReqs.Lock()
		defer r.pageReqs.Unlock()
		if len(r.pageReqs.urls) == 0 {
			t.Error("DevTools logged no request of the page")
		}
		for _, u := range r.pageReqs.urls {
			if !strings.HasPrefix(u, r.srv.URL+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
				t.Errorf("the page requested something outside its origin: %s", u)
			}
		}
		if errs := eval[[]any](ctx, t, `window.__errors`); len(errs) > 0 {
			t.Errorf("uncaught errors in the page: %v", errs)
		}
	})

	t.Run("optional HTTP API", func(t *testing.T) {
		// Off by default: until now the page never called the API its own
		// server offers. With the API's URL typed in (here the page's own
		// origin, as `compass serve` serves both), compile, sweep and
		// simulate go there, and the result is the same bytes as the engine's.
		r.pageReqs.Lock()
		for _, u := range r.pageReqs.urls {
			if strings.Contains(u, "/v1/") {
				t.Errorf("the page called the HTTP API without being told to: %s", u)
			}
		}
		seen := len(r.pageReqs.urls)
		r.pageReqs.Unlock()
		r.open(t, "/?model=resnet18&chip=M&batch=16&methods=greedy,compass,optimal&objective=latency&seed=1")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle'`, time.Minute)
		if eval[string](ctx, t, `document.querySelector('#api-url').value`) != "" {
			t.Fatal("the API URL is not empty by default")
		}
		setField(ctx, t, "#api-url", r.srv.URL)
		click(ctx, t, "#run")
		waitFor(ctx, t, "the run through the API", `document.body.dataset.state === 'done'`, 2*time.Minute)
		native := nativeCompile(t, api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 16, Methods: []string{"greedy", "compass", "optimal"}, Objective: "latency", Seed: 1})
		var want bytes.Buffer
		if err := api.WriteJSON(&want, native); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](ctx, t, `window.compassLastResult`); got != want.String() {
			t.Errorf("the API's result differs from the engine's (%d vs %d bytes)", len(got), want.Len())
		}
		waitFor(ctx, t, "the timeline through the API", `document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 3*time.Minute)
		r.pageReqs.Lock()
		var calls []string
		for _, u := range r.pageReqs.urls[seen:] {
			if strings.HasPrefix(u, r.srv.URL+"/v1/") {
				calls = append(calls, strings.TrimPrefix(u, r.srv.URL))
			}
		}
		r.pageReqs.Unlock()
		for _, route := range []string{"/v1/compile", "/v1/sweep", "/v1/simulate"} {
			if !slices.Contains(calls, route) {
				t.Errorf("the page did not call %s on the API (calls: %v)", route, calls)
			}
		}
	})
}

// TestPaperViewPipelineInChromium checks the Paper view's pipeline mode
// (issue 16 item 3): a link's pipeline=row computes the figures row by
// row, byte for byte the native api.Reproduce of that mode, with the mode
// named in the status and the link; the Pipeline select, whose options are
// the engine's modes, switches to the default and back, each mode's result
// kept, and the link names pipeline only when it is not the default.
func TestPaperViewPipelineInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	r := startRig(t, 10*time.Minute)
	ctx := r.ctx
	meta := api.Meta()
	family := meta.PaperFamilies[0].Name
	def, row := meta.Pipelines[0].Name, "row"
	if def == row {
		t.Fatalf("the engine's default pipeline is %s; this test switches from row to the default", def)
	}
	nativeJSON := func(pipeline string) (*api.ReproduceResult, string) {
		req := api.ReproduceRequest{Family: family, Seed: 1}
		if pipeline != def {
			req.Pipeline = pipeline
		}
		res, err := api.Reproduce(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := api.WriteJSON(&b, res); err != nil {
			t.Fatal(err)
		}
		return res, b.String()
	}
	done := `document.querySelector('#paper-status').dataset.state === 'done' && ` +
		`[...document.querySelectorAll('#paper figure[data-plot]')].every((f) => f.dataset.ready === 'true')`
	check := func(pipeline, wantSearch, wantStatus string) {
		t.Helper()
		native, want := nativeJSON(pipeline)
		status := eval[string](ctx, t, `document.querySelector('#paper-status').textContent`)
		t.Logf("Paper view, family %s, pipeline %s: %s", family, pipeline, status)
		if !strings.Contains(status, "pipeline "+pipeline) || !strings.Contains(status, wantStatus) {
			t.Errorf("pipeline %s: the status %q does not name the mode (want %q and %q)", pipeline, status, "pipeline "+pipeline, wantStatus)
		}
		if got := eval[string](ctx, t, `document.querySelector('#paper-pipeline').value`); got != pipeline {
			t.Errorf("the Pipeline select shows %q, want %q", got, pipeline)
		}
		if got := eval[string](ctx, t, `location.search`); got != wantSearch {
			t.Errorf("pipeline %s: the Paper view's URL is %q, want %q", pipeline, got, wantSearch)
		}
		if got := eval[string](ctx, t, `window.compassLastPaper || ''`); got != want {
			t.Errorf("pipeline %s: the page's reproduction differs from the native engine's (%d vs %d bytes)", pipeline, len(got), len(want))
		}
		drawn := map[string]string{}
		for _, v := range eval[[]any](ctx, t, `[...document.querySelectorAll('figure[data-plot=paper-ratios] g[data-figure]')].map((e) => [e.dataset.figure, e.dataset.ours, e.dataset.paper])`) {
			p := v.([]any)
			drawn[p[0].(string)] = p[1].(string) + " paper " + p[2].(string)
		}
		ratios := 0
		for _, f := range native.Figures {
			if f.Unit != "x" || strings.HasPrefix(f.ID, "replacement-") {
				continue
			}
			ratios++
			if got := drawn[f.ID]; !sameOurs(got, f.Ours, f.Paper) {
				t.Errorf("pipeline %s, ratio %s: the plot draws %q, the engine %v paper %s", pipeline, f.ID, got, f.Ours, f.Paper)
			}
		}
		if ratios == 0 || len(drawn) != ratios {
			t.Errorf("pipeline %s: %d ratios drawn, the engine has %d", pipeline, len(drawn), ratios)
		}
	}

	// The select's options are the engine's pipeline modes, in its order.
	r.open(t, "/?view=paper&family="+family+"&pipeline="+row)
	var wantModes []string
	for _, p := range meta.Pipelines {
		wantModes = append(wantModes, p.Name)
	}
	waitFor(ctx, t, "the row pipeline's figures", done, 4*time.Minute)
	if got := strings.Join(eval[[]string](ctx, t, `[...document.querySelectorAll('#paper-pipeline option')].map((o) => o.value)`), ","); got != strings.Join(wantModes, ",") {
		t.Errorf("the Paper view's pipeline options are %s, the engine's modes %s", got, strings.Join(wantModes, ","))
	}
	check(row, "?view=paper&family="+family+"&pipeline="+row, "computed in this page")

	// The default mode computes anew and leaves pipeline out of the link;
	// row again is drawn from the kept result.
	setField(ctx, t, "#paper-pipeline", def)
	waitFor(ctx, t, "the default pipeline's figures", done+` && document.querySelector('#paper-status').textContent.includes('pipeline `+def+`')`, 4*time.Minute)
	check(def, "?view=paper&family="+family, "computed in this page")
	setField(ctx, t, "#paper-pipeline", row)
	waitFor(ctx, t, "the kept row figures", done+` && document.querySelector('#paper-status').textContent.includes('pipeline `+row+`')`, time.Minute)
	check(row, "?view=paper&family="+family+"&pipeline="+row, "drawn from the engine's result")

	// A link's unknown mode is named, and the default shown.
	r.open(t, "/?view=paper&family="+family+"&pipeline=rows")
	waitFor(ctx, t, "the linked Paper view", `document.querySelector('#paper-status').dataset.state === 'done'`, 4*time.Minute)
	if got := eval[[]any](ctx, t, `[document.querySelector('#paper-status').textContent, location.search]`); !strings.Contains(got[0].(string), "pipeline=rows") || got[1] != "?view=paper&family="+family {
		t.Errorf("?pipeline=rows: status %q, URL %v; want the bad mode named and the default's link", got[0], got[1])
	}
	if errs := eval[[]any](ctx, t, `window.__errors`); len(errs) > 0 {
		t.Errorf("script errors: %v", errs)
	}
}
