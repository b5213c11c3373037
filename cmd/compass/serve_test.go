package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeBuild is a built site without the real WebAssembly module, for
// serving with --build=false.
func fakeBuild(t *testing.T) string {
	dir := t.TempDir()
	for name, body := range map[string]string{"index.html": "<!doctype html><title>t</title>", "compass.wasm": "\x00asm"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var urlLine = regexp.MustCompile(`http://(\S+)/`)

// startServe runs serve with args until the test ends and returns its
// base URL, its stdout and stderr, and a function that stops it (as
// SIGINT does) and returns serve's error.
func startServe(t *testing.T, args ...string) (string, *syncBuffer, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, args, stdout, stderr) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop within 30 s of its signal")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	end := time.Now().Add(30 * time.Second)
	for {
		if m := urlLine.FindStringSubmatch(stdout.String()); m != nil {
			return "http://" + m[1], stdout, stderr, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before printing its URL: %v\n%s%s", err, stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("serve printed no URL in 30 s: %s", stdout)
		}
	}
}

func httpDo(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// cli runs the compass command line and returns what it prints.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("compass %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

func TestServeAPIMatchesCLI(t *testing.T) {
	base, stdout, stderr, stop := startServe(t, "--addr", "127.0.0.1:0", "--build=false", "--out", fakeBuild(t))
	if strings.Contains(stderr.String(), "warning") {
		t.Fatalf("a loopback address drew a warning: %s", stderr)
	}
	// The page and the API on one port, each reply with the security
	// headers.
	for _, path := range []string{"/", "/v1/health"} {
		res, _ := httpDo(t, "GET", base+path, "")
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "'wasm-unsafe-eval'") {
			t.Fatalf("GET %s: security headers missing: %v", path, res.Header)
		}
	}
	// The API's replies are the CLI's --json bytes.
	_, models := httpDo(t, "GET", base+"/v1/models", "")
	if want := cli(t, "models", "--json"); models != want {
		t.Fatal("GET /v1/models differs from compass models --json")
	}
	_, chips := httpDo(t, "GET", base+"/v1/chips", "")
	if want := cli(t, "chips", "--json"); chips != want {
		t.Fatal("GET /v1/chips differs from compass chips --json")
	}
	_, inspected := httpDo(t, "POST", base+"/v1/inspect", `{"model":"vgg16","chip":"L"}`)
	if want := cli(t, "inspect", "--model", "vgg16", "--chip", "L", "--json"); inspected != want {
		t.Fatal("POST /v1/inspect differs from compass inspect --json")
	}
	_, compiled := httpDo(t, "POST", base+"/v1/compile", `{"model":"resnet18","chip":"M","batch":1,"methods":["greedy","compass"],"seed":1}`)
	if want := cli(t, "compile", "--model", "resnet18", "--chip", "M", "--batch", "1", "--method", "greedy,compass", "--seed", "1", "--json"); compiled != want {
		t.Fatalf("POST /v1/compile differs from compass compile --json:\n%.300s\nwant\n%.300s", compiled, want)
	}
	_, simulated := httpDo(t, "POST", base+"/v1/simulate", `{"model":"squeezenet1_1","chip":"S","batch":2,"methods":["layerwise"],"seed":4}`)
	if want := cli(t, "simulate", "--model", "squeezenet1_1", "--chip", "S", "--batch", "2", "--method", "layerwise", "--seed", "4", "--json"); simulated != want {
		t.Fatal("POST /v1/simulate differs from compass simulate --json")
	}
	_, swept := httpDo(t, "POST", base+"/v1/sweep", `{"models":["squeezenet1_1"],"chips":["S","M"],"batches":[1,4],"methods":["greedy","optimal"],"objective":"latency","seed":1}`)
	if want := cli(t, "sweep", "--models", "squeezenet1_1", "--chips", "S,M", "--batches", "1,4", "--method", "greedy,optimal", "--seed", "1", "--json"); swept != want {
		t.Fatal("POST /v1/sweep differs from compass sweep --json")
	}
	res, body := httpDo(t, "POST", base+"/v1/compile", `{"model":"resnet18","chip":"M","batch":"x"}`)
	if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"field":"batch"`) {
		t.Fatalf("bad request: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	// SIGINT's path: a graceful stop, no error.
	if err := stop(); err != nil {
		t.Fatalf("graceful stop returned %v", err)
	}
	if !strings.Contains(stdout.String(), "stopping") {
		t.Fatalf("no stop message: %s", stdout)
	}
}

func TestServeWithoutAPI(t *testing.T) {
	base, _, _, _ := startServe(t, "--addr", "127.0.0.1:0", "--build=false", "--api=false", "--out", fakeBuild(t))
	if res, _ := httpDo(t, "GET", base+"/v1/health", ""); res.StatusCode != 404 {
		t.Fatalf("--api=false still serves the API: %d", res.StatusCode)
	}
}

func TestServeWarnsOffLoopback(t *testing.T) {
	_, _, stderr, _ := startServe(t, "--addr", "0.0.0.0:0", "--build=false", "--out", fakeBuild(t))
	if !strings.Contains(stderr.String(), "warning: listening on") || !strings.Contains(stderr.String(), "--addr 127.0.0.1") {
		t.Fatalf("no warning for a wildcard address: %q", stderr)
	}
	if w := exposureWarning(&net.TCPAddr{IP: net.IPv6loopback, Port: 1}); w != "" {
		t.Fatalf("warning for ::1: %s", w)
	}
	if w := exposureWarning(&net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 1}); w == "" {
		t.Fatal("no warning for a LAN address")
	}
}

func TestServeTimeouts(t *testing.T) {
	srv := newServer(http.NotFoundHandler(), 45*time.Second)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("unbounded read or idle: %+v", srv)
	}
	if srv.WriteTimeout <= 45*time.Second {
		t.Fatalf("write timeout %s would cut a reply the 45 s deadline allows", srv.WriteTimeout)
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--max-concurrent", "0"},
		{"--deadline", "-1s"},
		{"--max-body", "0"},
		{"--cors-origin", "docs.example"},
		{"--max-units", "-1"},
		{"--max-ga-work", "x"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"serve", "--build=false"}, args...), &stdout, &stderr); code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d (%s)", args, code, exitUsage, stderr.String())
		}
	}
}

// TestServeDefaultsMatchCLI checks that a field a request omits means what
// the CLI's flag means when not given: each route's minimal request and
// the command with no optional flags print the same bytes.
func TestServeDefaultsMatchCLI(t *testing.T) {
	base, _, _, _ := startServe(t, "--addr", "127.0.0.1:0", "--build=false", "--out", fakeBuild(t))
	for _, c := range []struct {
		path, body string
		args       []string
	}{
		{"/v1/inspect", `{"model":"resnet18"}`, []string{"inspect", "--model", "resnet18"}},
		{"/v1/compile", `{"model":"resnet18"}`, []string{"compile", "--model", "resnet18"}},
		{"/v1/simulate", `{"model":"squeezenet1_1"}`, []string{"simulate", "--model", "squeezenet1_1"}},
		// The sweep's grid cut to one configuration; its methods,
		// objective and seed are the defaults.
		{"/v1/sweep", `{"models":["squeezenet1_1"],"chips":["S"],"batches":[2]}`, []string{"sweep", "--models", "squeezenet1_1", "--chips", "S", "--batches", "2"}},
		// The whole default grid: the paper's.
		{"/v1/sweep", `{}`, []string{"sweep"}},
	} {
		res, got := httpDo(t, "POST", base+c.path, c.body)
		if res.StatusCode != 200 {
			t.Fatalf("POST %s %s: %d %s", c.path, c.body, res.StatusCode, got)
		}
		if want := cli(t, append(c.args, "--json")...); got != want {
			t.Fatalf("POST %s %s differs from compass %s --json:\n%.300s\nwant\n%.300s", c.path, c.body, strings.Join(c.args, " "), got, want)
		}
		for _, field := range []string{`"objective":""`, `"seed":0`} {
			if strings.Contains(got, field) {
				t.Fatalf("POST %s %s echoes %s", c.path, c.body, field)
			}
		}
	}
}

// TestServeLimitFlags checks that serve's limit flags bound the API's
// requests and that a refusal names the flag, as the server's limit.
func TestServeLimitFlags(t *testing.T) {
	base, _, _, _ := startServe(t, "--addr", "127.0.0.1:0", "--build=false", "--out", fakeBuild(t), "--max-units", "50", "--max-sweep-rows", "2")
	// resnet18 maps onto 84 units of chip M, squeezenet1_1 onto 27 of
	// chip L (compass inspect): one over the bound, one under.
	for _, c := range []struct{ path, body, flag string }{
		{"/v1/compile", `{"model":"resnet18"}`, "compass serve --max-units"},
		{"/v1/sweep", `{"models":["squeezenet1_1"],"chips":["S","M","L"],"batches":[1]}`, "compass serve --max-sweep-rows"},
		// A request cannot lift the server's limit.
		{"/v1/compile", `{"model":"resnet18","limits":{"max_units":100000}}`, "compass serve --max-units"},
	} {
		res, body := httpDo(t, "POST", base+c.path, c.body)
		if res.StatusCode != 422 || !strings.Contains(body, c.flag) || strings.Contains(body, "lift the limit with") {
			t.Fatalf("POST %s %s: %d %s, want a 422 naming %s", c.path, c.body, res.StatusCode, body, c.flag)
		}
	}
	if res, body := httpDo(t, "POST", base+"/v1/compile", `{"model":"squeezenet1_1","chip":"L","methods":["greedy"]}`); res.StatusCode != 200 {
		t.Fatalf("a request within the limits: %d %s", res.StatusCode, body)
	}
}

// A busy port is one line saying so and how to pick another, not the
// socket layer's message alone.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errOut := runCLI("serve", "--build=false", "--out", fakeBuild(t), "--addr", ln.Addr().String())
	if code != exitError || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, ln.Addr().String()+" is in use") || !strings.Contains(errOut, "--addr") {
		t.Errorf("serve on a busy port: exit %d, stderr %q", code, errOut)
	}
}
