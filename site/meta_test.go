package site

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
)

// TestPageFromTheEngineInChromium checks that what the page shows about
// the engine comes from it: the description the page runs on is the
// native engine's api.Meta byte for byte, the form's methods, objectives,
// GA settings and batch bound are that description's, the batch
// comparison of an edited chip is the native sweep of that chip, and the
// Paper view draws the native api.Reproduce's figures for each family.
func TestPageFromTheEngineInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	r := startRig(t, 10*time.Minute)
	ctx := r.ctx
	meta := api.Meta()
	var want bytes.Buffer
	if err := api.WriteJSON(&want, meta); err != nil {
		t.Fatal(err)
	}

	t.Run("the form is the engine's", func(t *testing.T) {
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=greedy")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle'`, 2*time.Minute)
		if got := eval[string](ctx, t, `window.compassMeta`); got != want.String() {
			t.Errorf("the page runs on the description %s; the native engine's is %s", got, want.String())
		}
		type method struct{ Name, Summary string }
		var wantMethods []method
		for _, m := range meta.Methods {
			wantMethods = append(wantMethods, method{m.Name, m.Summary})
		}
		var gotMethods []method
		for _, v := range eval[[]any](ctx, t, `[...document.querySelectorAll('input[name=method]')].map((c) => [c.value, c.parentElement.querySelector('small').textContent])`) {
			p := v.([]any)
			gotMethods = append(gotMethods, method{p[0].(string), p[1].(string)})
		}
		if !reflect.DeepEqual(gotMethods, wantMethods) {
			t.Errorf("method checkboxes %v, the engine's methods %v", gotMethods, wantMethods)
		}
		var wantObjectives, gotObjectives []string
		for _, o := range meta.Objectives {
			wantObjectives = append(wantObjectives, o.Name+"="+o.Summary)
		}
		for _, v := range eval[[]any](ctx, t, `[...document.querySelectorAll('#objective option')].map((o) => o.value + '=' + o.textContent)`) {
			gotObjectives = append(gotObjectives, v.(string))
		}
		if !reflect.DeepEqual(gotObjectives, wantObjectives) {
			t.Errorf("objective options %v, the engine's %v", gotObjectives, wantObjectives)
		}
		var wantPipelines, gotPipelines []string
		for _, p := range meta.Pipelines {
			wantPipelines = append(wantPipelines, p.Name+"="+p.Summary)
		}
		for _, v := range eval[[]any](ctx, t, `[...document.querySelectorAll('#pipeline option')].map((o) => o.value + '=' + o.textContent)`) {
			gotPipelines = append(gotPipelines, v.(string))
		}
		if !reflect.DeepEqual(gotPipelines, wantPipelines) {
			t.Errorf("pipeline options %v, the engine's %v", gotPipelines, wantPipelines)
		}
		var wantGA, gotGA []string
		for _, g := range meta.GASettings {
			wantGA = append(wantGA, fmt.Sprintf("%s=%d", g.Key, g.Default))
		}
		for _, v := range eval[[]any](ctx, t, `[...document.querySelectorAll('[data-ga]')].map((i) => i.dataset.ga + '=' + i.value)`) {
			gotGA = append(gotGA, v.(string))
		}
		if !reflect.DeepEqual(gotGA, wantGA) {
			t.Errorf("GA fields %v, the engine's settings %v", gotGA, wantGA)
		}
		if got := eval[string](ctx, t, `document.querySelector('#batch').max`); got != fmt.Sprint(meta.MaxBatch) {
			t.Errorf("the batch field's max is %s, the engine's bound %d", got, meta.MaxBatch)
		}
		// One over the bound is refused in the page, naming the bound.
		setField(ctx, t, "#batch", fmt.Sprint(meta.MaxBatch+1))
		click(ctx, t, "#run")
		waitFor(ctx, t, "the batch refusal", `document.body.dataset.state === 'error'`, 30*time.Second)
		if msg := eval[string](ctx, t, `(document.querySelector('p.field-error[data-field=batch]')||{}).textContent || ''`); !strings.Contains(msg, fmt.Sprint(meta.MaxBatch)) {
			t.Errorf("batch %d: the message beside the field %q does not name the engine's bound %d", meta.MaxBatch+1, msg, meta.MaxBatch)
		}
		if errs := eval[[]any](ctx, t, `window.__errors`); len(errs) > 0 {
			t.Errorf("script errors: %v", errs)
		}
	})

	t.Run("a link's row pipeline runs the engine's row pipeline", func(t *testing.T) {
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=2&methods=greedy,layerwise&objective=latency&seed=1&pipeline=row&run=1")
		waitFor(ctx, t, "the run", `document.body.dataset.state === 'done'`, 2*time.Minute)
		waitFor(ctx, t, "the batch comparison", `document.querySelector('figure[data-plot=batches]').dataset.ready === 'true'`, 2*time.Minute)
		if got := eval[string](ctx, t, `document.querySelector('#pipeline').value`); got != "row" {
			t.Errorf("the link's pipeline=row shows as %q", got)
		}
		req := api.CompileRequest{Model: "squeezenet1_1", Chip: "S", Batch: 2, Methods: []string{api.MethodGreedy, api.MethodLayerwise},
			Objective: "latency", Seed: 1, Pipeline: "row"}
		native, err := api.Compile(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := api.WriteJSON(&want, native); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](ctx, t, `window.compassLastResult`); got != want.String() {
			t.Errorf("the page's row-pipeline result differs from the native engine's (%d vs %d bytes)", len(got), want.Len())
		}
		sweep, err := api.Sweep(context.Background(), api.SweepRequest{Models: []string{"squeezenet1_1"}, Chips: []string{"S"}, Batches: meta.ComparisonBatches,
			Methods: req.Methods, Objective: "latency", Seed: 1, Pipeline: "row"})
		if err != nil {
			t.Fatal(err)
		}
		var page api.SweepResult
		if err := json.Unmarshal([]byte(eval[string](ctx, t, `window.compassLastSweep || '{}'`)), &page); err != nil {
			t.Fatal(err)
		}
		if page.Pipeline != "row" || !reflect.DeepEqual(page.Rows, sweep.Rows) {
			t.Errorf("the page's batch comparison (pipeline %q) is not the native row-pipeline sweep", page.Pipeline)
		}
		if errs := eval[[]any](ctx, t, `window.__errors`); len(errs) > 0 {
			t.Errorf("script errors: %v", errs)
		}
	})

	t.Run("an edited chip's batch comparison is the engine's sweep", func(t *testing.T) {
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=2&methods=greedy,layerwise,optimal&objective=latency&seed=1&chip.cores=4&run=1")
		waitFor(ctx, t, "the run", `document.body.dataset.state === 'done'`, 2*time.Minute)
		waitFor(ctx, t, "the batch comparison", `document.querySelector('figure[data-plot=batches]').dataset.ready === 'true'`, 2*time.Minute)
		chip, err := hw.Preset("S")
		if err != nil {
			t.Fatal(err)
		}
		chip.Cores = 4
		native, err := api.Sweep(context.Background(), api.SweepRequest{Models: []string{"squeezenet1_1"}, ChipSpecs: []*hw.Chip{chip},
			Batches: meta.ComparisonBatches, Methods: []string{api.MethodGreedy, api.MethodLayerwise, api.MethodOptimal}, Objective: "latency", Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var page api.SweepResult
		if err := json.Unmarshal([]byte(eval[string](ctx, t, `window.compassLastSweep || '{}'`)), &page); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(page.Rows, native.Rows) {
			t.Errorf("the page's batch comparison of chip S with 4 cores:\n%+v\nthe native sweep of the same chip_specs:\n%+v", page.Rows, native.Rows)
		}
		if len(page.Rows) != len(meta.ComparisonBatches) {
			t.Errorf("%d rows, want one per comparison batch %v", len(page.Rows), meta.ComparisonBatches)
		}
		if errs := eval[[]any](ctx, t, `window.__errors`); len(errs) > 0 {
			t.Errorf("script errors: %v", errs)
		}
	})

	t.Run("the Paper view draws the engine's reproduction", func(t *testing.T) {
		r.open(t, "/?model=squeezenet1_1&chip=S&batch=1&methods=greedy")
		waitFor(ctx, t, "the engine", `document.body.dataset.state === 'idle'`, 2*time.Minute)
		click(ctx, t, "[data-view=paper]")
		for i, fam := range meta.PaperFamilies {
			if i > 0 {
				setField(ctx, t, "#paper-family", fam.Name)
			}
			waitFor(ctx, t, "the "+fam.Name+" family's figures", `document.querySelector('#paper-status').dataset.state === 'done' && `+
				`[...document.querySelectorAll('#paper figure[data-plot]')].every((f) => f.dataset.ready === 'true')`, 3*time.Minute)
			t.Logf("Paper view, family %s: %s", fam.Name, eval[string](ctx, t, `document.querySelector('#paper-status').textContent`))
			if href := eval[string](ctx, t, `location.search`); href != "?view=paper&family="+fam.Name {
				t.Errorf("the Paper view's URL is %q, want ?view=paper&family=%s", href, fam.Name)
			}
			native, err := api.Reproduce(context.Background(), api.ReproduceRequest{Family: fam.Name, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := api.WriteJSON(&want, native); err != nil {
				t.Fatal(err)
			}
			if got := eval[string](ctx, t, `window.compassLastPaper || ''`); got != want.String() {
				t.Errorf("family %s: the page's reproduction differs from the native engine's (%d vs %d bytes)", fam.Name, len(got), want.Len())
			}
			drawn := func(sel string) map[string]string {
				out := map[string]string{}
				for _, v := range eval[[]any](ctx, t, fmt.Sprintf(`[...document.querySelectorAll(%q)].map((e) => [e.dataset.figure, e.dataset.ours, e.dataset.paper])`, sel)) {
					p := v.([]any)
					out[p[0].(string)] = p[1].(string) + " paper " + p[2].(string)
				}
				return out
			}
			plotted := drawn(`figure[data-plot=paper-ratios] g[data-figure]`)
			table := drawn(`figure[data-plot=paper-figures] tr[data-figure]`)
			ratios := 0
			for _, f := range native.Figures {
				w := fmt.Sprint(f.Ours) + " paper " + f.Paper
				if got := table[f.ID]; !sameOurs(got, f.Ours, f.Paper) {
					t.Errorf("family %s, figure %s: the table shows %q, the engine %s", fam.Name, f.ID, got, w)
				}
				if f.Unit == "x" && !strings.HasPrefix(f.ID, "replacement-") {
					ratios++
					if got := plotted[f.ID]; !sameOurs(got, f.Ours, f.Paper) {
						t.Errorf("family %s, ratio %s: the plot draws %q, the engine %s", fam.Name, f.ID, got, w)
					}
				}
			}
			if ratios < 6 || len(plotted) != ratios {
				t.Errorf("family %s: %d ratios drawn, the engine has %d (want the six per-network ratios at least)", fam.Name, len(plotted), ratios)
			}
		}
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			artefacts := filepath.Join(r.root, "out", "e2e")
			os.MkdirAll(artefacts, 0o755)
			os.WriteFile(filepath.Join(artefacts, "paper.png"), shot, 0o644)
			t.Logf("screenshot: %s", filepath.Join(artefacts, "paper.png"))
			for _, p := range []string{"paper-ratios", "paper-breakdown", "paper-replacement"} {
				if img, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("figure[data-plot="+p+"]"))); err == nil {
					os.WriteFile(filepath.Join(artefacts, p+".png"), img, 0o644)
				}
			}
		}
		checkStructure(ctx, t, "the Paper view")
		// A link opens the Paper view on its family without running the
		// playground; a family the engine lacks is named, not swapped silently.
		r.open(t, "/?view=paper&family=nonesuch")
		waitFor(ctx, t, "the linked Paper view", `document.querySelector('#paper-status').dataset.state === 'done'`, 3*time.Minute)
		if got := eval[[]any](ctx, t, `[document.body.dataset.state, document.querySelector('#paper-status').textContent, location.search]`); got[0] != "idle" ||
			!strings.Contains(got[1].(string), "nonesuch") || got[2] != "?view=paper&family="+meta.PaperFamilies[0].Name {
			t.Errorf("?view=paper&family=nonesuch: page state %v, status %q, URL %v; want idle, the bad family named, the default family in the URL", got[0], got[1], got[2])
		}
		// Cancel stops a computation and keeps the figures drawn; the
		// playground comes back with its form.
		eval[bool](ctx, t, `(document.querySelector('#paper-run').click(), document.querySelector('#paper-cancel').click(), true)`)
		waitFor(ctx, t, "the cancel", `document.querySelector('#paper-status').dataset.state === 'cancelled'`, 10*time.Second)
		if n := eval[int](ctx, t, `document.querySelectorAll('figure[data-plot=paper-ratios] g[data-figure]').length`); n == 0 {
			t.Error("after Cancel the ratios plot is empty")
		}
		click(ctx, t, "[data-view=playground]")
		if !eval[bool](ctx, t, `!document.querySelector('#inputs').hidden && document.querySelector('#paper').hidden`) {
			t.Error("back in the playground, the form is hidden or the Paper view shown")
		}
		if errs := eval[[]any](ctx, t, `window.__errors`); len(errs) > 0 {
			t.Errorf("script errors: %v", errs)
		}
	})
}

// sameOurs reports whether a drawn "OURS paper PAPER" is the engine's
// figure: the number parses to ours exactly and the paper's text is its.
func sameOurs(drawn string, ours float64, paper string) bool {
	num, text, ok := strings.Cut(drawn, " paper ")
	if !ok || text != paper {
		return false
	}
	var v float64
	if _, err := fmt.Sscan(num, &v); err != nil {
		return false
	}
	return v == ours
}
