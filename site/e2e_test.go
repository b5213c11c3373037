package site

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/compass-go/compass/engine/api"
)

// findChromium locates Debian's chromium (scripts/test.sh installs it).
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH: run the tests through scripts/test.sh, which installs Debian's chromium (apt-get install -y chromium)")
}

// requestLog records every request the browser makes, through a proxy that
// forwards only to the page's own server.
type requestLog struct {
	mu      sync.Mutex
	origin  string // host:port of the page's server
	foreign []string
	count   int
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.count++
	if r.Method == http.MethodConnect || r.URL.Host != l.origin {
		l.foreign = append(l.foreign, r.Method+" "+r.URL.String()+r.Host)
		l.mu.Unlock()
		http.Error(w, "blocked by the test: the page must not leave its origin", http.StatusForbidden)
		return
	}
	l.mu.Unlock()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	res, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	w.Write(buf.Bytes())
}

// chromiumServiceHosts are the hosts Chromium's own background services
// call even on about:blank (sign-in, component updates, network time,
// optimisation hints, autofill, Safe Browsing's check of downloads)
// whatever the flags: the proxy blocks them,
// and the test does not count them against the page.
var chromiumServiceHosts = []string{"accounts.google.com", "update.googleapis.com", "clients2.google.com",
	"optimizationguide-pa.googleapis.com", "content-autofill.googleapis.com", "sb-ssl.google.com", "safebrowsing.googleapis.com"}

func chromiumService(request string) bool {
	for _, h := range chromiumServiceHosts {
		if strings.Contains(request, "//"+h+":") || strings.Contains(request, "//"+h+"/") {
			return true
		}
	}
	return false
}

const longTaskObserver = `
window.__longTasks = [];
try {
  new PerformanceObserver(list => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({type: 'longtask', buffered: true});
} catch (e) { window.__longTasks = ['unsupported: ' + e]; }
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', e => window.__errors.push(String(e.reason)));
`

// waitFor polls a JavaScript condition until it is true.
func waitFor(ctx context.Context, t *testing.T, what, expr string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#status')||{}).textContent + ' [' + ((document.querySelector('#status')||{dataset:{}}).dataset.state) + ']'`))
		t.Fatalf("waiting for %s: %v (status: %s)", what, err, state)
	}
}

func eval[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// setField sets an input's value as a user would and fires its events.
func setField(ctx context.Context, t *testing.T, sel, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
	  e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; })()`, sel, value)
	if got := eval[string](ctx, t, js); got != value {
		t.Fatalf("%s: value %q after setting %q (is the option missing?)", sel, got, value)
	}
}

var plots = []string{"summary", "strip", "validity", "phases", "convergence", "batches", "chip", "energy", "timeline"}

func TestPlaygroundInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome, err := findChromium()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	built, err := Build(root, out, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	if w := built.File("compass.wasm"); w != nil {
		t.Logf("compass.wasm: %d bytes, %d gzip, %d brotli", w.Bytes, w.GzipBytes, w.BrotliByte)
	}
	srv := httptest.NewServer(Handler(out))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	reqs := &requestLog{origin: u.Host}
	proxy := httptest.NewServer(reqs)
	defer proxy.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		// Chromium's own services (autofill, updates, sign-in, time) call out
		// on their own; switch them off so that what the proxy sees is the
		// page's traffic. This replaces chromedp's disable-features list,
		// so it repeats its entries.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,AutofillServerCommunication,OptimizationHints,MediaRouter,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying"),
		chromedp.Flag("no-pings", true), chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("allow-browser-signin", "false"), chromedp.Flag("disable-sync", true),
		chromedp.Flag("safebrowsing-disable-download-protection", true),
		chromedp.ProxyServer(proxy.URL), chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1800))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if _, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: longTaskObserver}); err != nil {
		t.Fatal(err)
	}
	// Every request the page (and its workers) makes, as DevTools reports
	// it. The proxy blocks everything that is not the page's server; this
	// log attributes requests to the page, where the proxy would also see
	// the browser's own background services.
	var pageReqs struct {
		sync.Mutex
		urls []string
	}
	requests := chromedp.Events(bctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			pageReqs.Lock()
			pageReqs.urls = append(pageReqs.urls, ev.Request.URL)
			pageReqs.Unlock()
		}
	}()
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "the engine to load", `document.querySelector('#model') && document.querySelector('#model').options.length > 0 && document.querySelector('#run') && !document.querySelector('#run').disabled`, time.Minute)
	t.Logf("page load to engine ready: %s", time.Since(start).Round(time.Millisecond))

	// 1. ResNet18 on chip M at batch 16, every method, seed 1: the numbers
	// shown equal the native engine's JSON for the same request.
	setField(bctx, t, "#model", "resnet18")
	setField(bctx, t, "#chip", "M")
	setField(bctx, t, "#batch", "16")
	setField(bctx, t, "#objective", "latency")
	setField(bctx, t, "#seed", "1")
	eval[bool](bctx, t, `(() => { for (const c of document.querySelectorAll('input[name=method]')) { if (!c.checked) c.click(); } return true; })()`)
	eval[bool](bctx, t, `(window.__longTasks.length = 0, true)`)
	runStart := time.Now()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "the run to finish", `document.body.dataset.state === 'done'`, 3*time.Minute)
	inPage := time.Since(runStart)
	waitFor(bctx, t, "the batch comparison", `document.querySelector('figure[data-plot=batches]').dataset.ready === 'true'`, 3*time.Minute)
	waitFor(bctx, t, "the simulated timeline", `document.querySelector('figure[data-plot=timeline]').dataset.ready === 'true'`, 3*time.Minute)

	native, err := api.Compile(context.Background(), api.CompileRequest{Model: "resnet18", Chip: "M", Batch: 16,
		Methods: api.Methods(), Objective: "latency", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
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
	got := eval[string](bctx, t, `window.compassLastResult`)
	if got != want.String() {
		t.Errorf("the page's result JSON differs from the native engine's (%d vs %d bytes)", len(got), want.Len())
	}
	for _, r := range native.Results {
		for field, value := range map[string]float64{"throughput_per_s": r.ThroughputPerS, "energy_per_inference_j": r.EnergyPerInferenceJ,
			"edp_j_s": r.EDPJS, "partitions": float64(len(r.Partitions))} {
			sel := fmt.Sprintf(`#summary [data-method=%q] [data-field=%q]`, r.Method, field)
			shown := eval[string](bctx, t, fmt.Sprintf(`(document.querySelector(%q)||{}).getAttribute ? document.querySelector(%q).getAttribute('data-value') : 'missing'`, sel, sel))
			var v float64
			if _, err := fmt.Sscan(shown, &v); err != nil || v != value {
				t.Errorf("%s %s: page shows %q, native %v", r.Method, field, shown, value)
			}
		}
	}
	for _, p := range plots {
		n := eval[int](bctx, t, fmt.Sprintf(`(() => { const f = document.querySelector('figure[data-plot=%s]'); if (!f || f.dataset.ready !== 'true') return -1;
		  const caption = f.querySelector('figcaption'); if (!caption || caption.textContent.trim().length < 20) return -2;
		  return %q === 'summary' ? f.querySelectorAll('[data-method]').length : (f.querySelector('svg') ? f.querySelector('svg').querySelectorAll('*').length : 0); })()`, p, p))
		if n <= 0 {
			t.Errorf("plot %s: not ready or empty (%d)", p, n)
		}
	}
	// The chip view's local-memory gauges hold what the engine says the
	// shown partition's replicas keep and spill, core by core.
	shownMethod := eval[string](bctx, t, `document.querySelector('figure[data-plot=chip] select[data-control=method]').value`)
	shownPart := eval[int](bctx, t, `Number(document.querySelector('figure[data-plot=chip] select[data-control=partition]').value) || 0`)
	for _, r := range native.Results {
		if r.Method != shownMethod {
			continue
		}
		kept, spill := map[int]int64{}, map[int]int64{}
		for _, sl := range r.Partitions[shownPart].Placement {
			kept[sl.Core] += int64(sl.Count) * min(sl.BufferBytes, sl.ShareBytes)
			spill[sl.Core] += int64(sl.Count) * sl.SpillBytes
		}
		gauges := eval[[]any](bctx, t, `[...document.querySelectorAll('figure[data-plot=chip] rect[data-core]')].map((g) => [Number(g.dataset.core), Number(g.dataset.kept), Number(g.dataset.spill)])`)
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
	longTasks := eval[[]any](bctx, t, `window.__longTasks`)
	for _, d := range longTasks {
		if ms, ok := d.(float64); !ok || ms > 100 {
			t.Errorf("main-thread long task during the run: %v ms", d)
		}
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artefacts := filepath.Join(root, "out", "e2e")
	os.MkdirAll(artefacts, 0o755)
	if err := os.WriteFile(filepath.Join(artefacts, "playground.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", filepath.Join(artefacts, "playground.png"))
	for _, fig := range []string{"timeline", "chip"} {
		if img, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("figure[data-plot="+fig+"]"))); err == nil {
			os.WriteFile(filepath.Join(artefacts, fig+".png"), img, 0o644)
		}
	}

	// The program of the compass plan exports as msgpack and as a listing.
	for _, b := range []struct{ button, want string }{{"#export-program", "Program saved"}, {"#export-listing", "Listing saved"}} {
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(b.button))); err != nil {
			t.Fatal(err)
		}
		waitFor(bctx, t, b.button, fmt.Sprintf(`document.querySelector('#export-status').textContent.startsWith(%q)`, b.want), time.Minute)
	}

	// 2. A link with the state in the URL reproduces the run.
	link := eval[string](bctx, t, `location.href`)
	if !strings.Contains(link, "run=1") || !strings.Contains(link, "resnet18") {
		t.Fatalf("the URL does not hold the state: %s", link)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	linkStart := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "the linked run to finish", `document.body.dataset.state === 'done'`, 3*time.Minute)
	t.Logf("page load to first result (a link that runs ResNet18-M-16, all methods): %s", time.Since(linkStart).Round(time.Millisecond))
	if again := eval[string](bctx, t, `window.compassLastResult`); again != want.String() {
		t.Error("opening the link did not reproduce the run")
	}

	// 3. Cancel stops a run, and the page keeps working. The run is made
	// long on purpose (a GA of 100000 generations that never stops early).
	setField(bctx, t, "#model", "vgg16")
	setField(bctx, t, "#chip", "S")
	setField(bctx, t, "#batch", "16")
	setField(bctx, t, "#ga-generations", "100000")
	setField(bctx, t, "#ga-patience", "0")
	eval[bool](bctx, t, `(() => { for (const c of document.querySelectorAll('input[name=method]')) { if (c.checked !== (c.value === 'compass')) c.click(); } return true; })()`)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "the long run to report progress", `document.querySelector('#status').dataset.state === 'running' && document.querySelector('#progress').value > 0`, time.Minute)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#cancel"))); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "the cancel", `document.querySelector('#status').dataset.state === 'cancelled'`, 5*time.Second)
	setField(bctx, t, "#model", "squeezenet1_1")
	setField(bctx, t, "#batch", "2")
	setField(bctx, t, "#ga-generations", "300")
	setField(bctx, t, "#ga-patience", "40")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "a run after the cancel", `document.querySelector('#status').dataset.state === 'done'`, 2*time.Minute)

	// 4. A bad uploaded file shows a clear message and the page keeps working.
	bad := filepath.Join(t.TempDir(), "broken.onnx")
	os.WriteFile(bad, []byte("this is not a model"), 0o644)
	if err := chromedp.Do(bctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{bad})); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "the upload error", `document.querySelector('#status').dataset.state === 'error'`, 30*time.Second)
	if msg := eval[string](bctx, t, `document.querySelector('#status').textContent`); !strings.Contains(msg, "broken.onnx") {
		t.Errorf("the upload error does not name the file: %q", msg)
	}
	setField(bctx, t, "#model", "squeezenet1_1")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitFor(bctx, t, "a run after the bad upload", `document.querySelector('#status').dataset.state === 'done'`, 2*time.Minute)

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
		if err := chromedp.Do(bctx, chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{mlp})); err != nil {
			t.Fatal(err)
		}
		waitFor(bctx, t, "the ONNX model to load", `document.querySelector('#model').value === 'upload:mlp.onnx' && document.querySelector('#status').dataset.state === 'idle'`, 30*time.Second)
		setField(bctx, t, "#chip", "M")
		setField(bctx, t, "#batch", "1")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
			t.Fatal(err)
		}
		waitFor(bctx, t, "the uploaded model's run", `document.querySelector('#status').dataset.state === 'done'`, 2*time.Minute)
		native, err := api.Compile(context.Background(), api.CompileRequest{Model: mlp, Chip: "M", Batch: 1, Methods: []string{api.MethodCompass}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		got := eval[[]any](bctx, t, `(() => { const r = JSON.parse(window.compassLastResult); return [r.model, r.units, r.results.find(x => x.method === 'compass').throughput_per_s]; })()`)
		if got[0] != native.Model || got[1] != float64(native.Units) || got[2] != native.Results[0].ThroughputPerS {
			t.Errorf("the uploaded mlp.onnx compiled to %v in the page, natively to %s, %d units, %v/s", got, native.Model, native.Units, native.Results[0].ThroughputPerS)
		}
	}

	// 6. Nothing left the origin, and nothing threw.
	reqs.mu.Lock()
	if reqs.count == 0 {
		t.Error("the proxy saw no request: the page's traffic did not go through it")
	}
	for _, f := range reqs.foreign {
		if !chromiumService(f) {
			t.Errorf("a request left the page's origin: %s", f)
		}
	}
	reqs.mu.Unlock()
	// The browser's own services are told apart by host; the page's sources
	// must never name those hosts, so a page request could not hide there.
	for _, f := range built.Files {
		data, err := os.ReadFile(filepath.Join(out, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		for _, host := range chromiumServiceHosts {
			if bytes.Contains(data, []byte(host)) {
				t.Errorf("%s names %s", f.Path, host)
			}
		}
	}
	pageReqs.Lock()
	defer pageReqs.Unlock()
	if len(pageReqs.urls) == 0 {
		t.Error("DevTools logged no request of the page")
	}
	for _, u := range pageReqs.urls {
		if !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the page requested something outside its origin: %s", u)
		}
	}
	if errs := eval[[]any](bctx, t, `window.__errors`); len(errs) > 0 {
		t.Errorf("uncaught errors in the page: %v", errs)
	}
}
