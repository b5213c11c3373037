package site

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/compass-go/compass/engine/httpapi"
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

// pageProbe runs in every document before the page's scripts. It records
// uncaught errors and the largest number of elements one mutation batch
// (one render step) added to the document: a structural measure that does
// not depend on the machine's speed.
const pageProbe = `
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', e => window.__errors.push(String(e.reason)));
window.__maxAdded = 0;
window.__maxAddedAt = '';
// The document's own parse is not a render step: count from DOMContentLoaded.
document.addEventListener('DOMContentLoaded', () => new MutationObserver(recs => {
  let n = 0, most = 0, where = '';
  for (const r of recs) {
    let k = 0;
    for (const a of r.addedNodes) if (a.nodeType === 1) k += 1 + a.getElementsByTagName('*').length;
    n += k;
    if (k > most) {
      most = k;
      const f = r.target.closest && r.target.closest('[data-plot]');
      where = f ? f.dataset.plot : (r.target.id || r.target.nodeName);
    }
  }
  if (n > window.__maxAdded) { window.__maxAdded = n; window.__maxAddedAt = where; }
}).observe(document, {childList: true, subtree: true}));
`

// timingProbe records main-thread long tasks and long animation frames.
// Only the benchmark (scripts/bench-page.sh) installs it: task lengths
// depend on the machine and its load, so no test reads them.
const timingProbe = `
window.__longTasks = [];
try {
  new PerformanceObserver(list => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({type: 'longtask', buffered: true});
} catch (e) { window.__longTasks = ['unsupported: ' + e]; }
// Long animation frames name the scripts that ran in them (Chromium 123+):
// the benchmark reports what the longest one spent its time on.
window.__loaf = [];
try {
  new PerformanceObserver(list => { for (const e of list.getEntries()) window.__loaf.push({d: e.duration, block: e.blockingDuration,
    render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
    scripts: (e.scripts || []).map(x => [x.invoker, Math.round(x.duration), Math.round(x.forcedStyleAndLayoutDuration || 0)])}); })
    .observe({type: 'long-animation-frame', buffered: true});
} catch (e) { /* not supported: the benchmark says so */ }
`

// rig is a built playground served on loopback, with the HTTP API under
// /v1/ on the same port as `compass serve` has it, and a headless Chromium
// whose traffic goes through a proxy that refuses every other host.
type rig struct {
	root, out string
	built     *BuildResult
	srv       *httptest.Server
	reqs      *requestLog
	ctx       context.Context // the browser tab
	pageReqs  struct {
		sync.Mutex
		urls []string
	}
	// hostPage is what /e2e-host serves: a page of "another site" that
	// embeds the widget, on the page's origin so that the test can measure
	// the iframe's document (a cross-origin frame's document is closed to it).
	hostPage struct {
		sync.Mutex
		html string
	}
}

// startRig builds the site into a temporary directory and starts the
// browser; everything stops when the test ends.
func startRig(tb testing.TB, timeout time.Duration) *rig {
	tb.Helper()
	chrome, err := findChromium()
	if err != nil {
		tb.Fatal(err)
	}
	r := &rig{}
	if r.root, err = FindRoot("."); err != nil {
		tb.Fatal(err)
	}
	r.out = tb.TempDir()
	if r.built, err = Build(r.root, r.out, "e2e"); err != nil {
		tb.Fatal(err)
	}
	apiHandler, err := httpapi.New(httpapi.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiHandler)
	mux.HandleFunc("/e2e-host", func(w http.ResponseWriter, _ *http.Request) {
		r.hostPage.Lock()
		defer r.hostPage.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(r.hostPage.html))
	})
	mux.Handle("/", Handler(r.out))
	r.srv = httptest.NewServer(mux)
	tb.Cleanup(r.srv.Close)
	u, _ := url.Parse(r.srv.URL)
	r.reqs = &requestLog{origin: u.Host}
	proxy := httptest.NewServer(r.reqs)
	tb.Cleanup(proxy.Close)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tb.Cleanup(cancel)
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
		chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(1280, 1800))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	tb.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	tb.Cleanup(bcancel)
	probe := pageProbe
	if _, bench := tb.(*testing.B); bench {
		probe = timingProbe + probe
	}
	if _, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe}); err != nil {
		tb.Fatal(err)
	}
	// Every request the page (and its workers) makes, as DevTools reports
	// it. The proxy blocks everything that is not the page's server; this
	// log attributes requests to the page, where the proxy would also see
	// the browser's own background services.
	requests := chromedp.Events(bctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			r.pageReqs.Lock()
			r.pageReqs.urls = append(r.pageReqs.urls, ev.Request.URL)
			r.pageReqs.Unlock()
		}
	}()
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		tb.Fatal(err)
	}
	r.ctx = bctx
	return r
}

// open navigates the tab to a path of the page's server ("/?model=...").
func (r *rig) open(tb testing.TB, path string) {
	tb.Helper()
	if err := chromedp.Do(r.ctx, chromedp.Navigate(r.srv.URL+path)); err != nil {
		tb.Fatal(err)
	}
}

// waitFor polls a JavaScript condition until it is true.
func waitFor(ctx context.Context, tb testing.TB, what, expr string, timeout time.Duration) {
	tb.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#status')||{}).textContent + ' [' + ((document.querySelector('#status')||{dataset:{}}).dataset.state) + ']'`))
		tb.Fatalf("waiting for %s: %v (status: %s)", what, err, state)
	}
}

func eval[T any](ctx context.Context, tb testing.TB, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// setField sets an input's value as a user would and fires its events.
func setField(ctx context.Context, tb testing.TB, sel, value string) {
	tb.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
	  e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value; })()`, sel, value)
	if got := eval[string](ctx, tb, js); got != value {
		tb.Fatalf("%s: value %q after setting %q (is the option missing?)", sel, got, value)
	}
}

// click clicks an element with the mouse as a user would, once it is
// enabled and the page has stopped scrolling. The page scrolls smoothly
// (to the results after a Run, to a scenario's plot); a click whose
// target moves between DevTools measuring it and pressing the mouse lands
// elsewhere and is lost, which made the test intermittent. The scroll is
// at rest when its position is unchanged over several animation frames
// (frames, not milliseconds: nothing here depends on the machine's speed).
func click(ctx context.Context, tb testing.TB, sel string) {
	tb.Helper()
	waitFor(ctx, tb, sel+" to be enabled", fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && !e.disabled; })()`, sel), 2*time.Minute)
	waitScrollRest(ctx, tb)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		tb.Fatalf("clicking %s: %v", sel, err)
	}
}

// waitScrollRest waits until the window's scroll position has been the
// same for 5 animation frames in a row.
func waitScrollRest(ctx context.Context, tb testing.TB) {
	tb.Helper()
	const restJS = `new Promise((resolve) => {
	  let last = -1, same = 0, frames = 0;
	  const step = () => {
	    const y = window.scrollY;
	    same = y === last ? same + 1 : 0;
	    last = y;
	    if (same >= 5) return resolve(true);
	    if (++frames > 3000) return resolve(false);
	    requestAnimationFrame(step);
	  };
	  requestAnimationFrame(step);
	})`
	at, err := chromedp.Run(ctx, chromedp.Evaluate[bool](restJS, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("waiting for the page to stop scrolling: %v", err)
	}
	if !at {
		tb.Fatal("the page kept scrolling for 3000 animation frames")
	}
}
