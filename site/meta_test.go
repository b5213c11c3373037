package site

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/compass-go/compass/engine/api"
	"github.com/compass-go/compass/engine/hw"
)

// TestPageFromTheEngineInChromium checks that what the page shows about
// the engine comes from it: the description the page runs on is the
// native engine's api.Meta byte for byte, the form's methods, objectives,
// GA settings and batch bound are that description's, and the batch
// comparison of an edited chip is the native sweep of that chip.
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
}
