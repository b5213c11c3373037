package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/compass-go/compass/engine/httpapi"
	"github.com/compass-go/compass/site"
)

func cmdBuild(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("build", `Usage: compass build [--out DIR]

Builds the browser playground into DIR: the engine compiled to WebAssembly
(-ldflags "-s -w"), Go's wasm_exec.js, index.html and site/, each precompressed
with gzip and brotli. The result is a static site: copy DIR to any web server.`, stdout, stderr)
	out := fs.String("out", filepath.Join("out", "web"), "output directory (relative to the repository root)")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := buildSite(*out, stderr, false)
	if err != nil {
		return err
	}
	t := table{header: []string{"file", "bytes", "gzip", "brotli"}}
	for _, f := range res.Files {
		t.add(f.Path, thousands(f.Bytes), thousands(f.GzipBytes), thousands(f.BrotliByte))
	}
	fmt.Fprintf(stdout, "built %s\n", res.Dir)
	return t.write(stdout)
}

func buildSite(out string, log io.Writer, brotliLater bool) (*site.BuildResult, error) {
	root, err := site.FindRoot(".")
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	return site.BuildWith(root, out, site.BuildOptions{Version: "dev", Log: log, CacheDir: site.DefaultCacheDir(), BrotliLater: brotliLater})
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve builds the playground, then serves it and the HTTP API until ctx
// ends (SIGINT or SIGTERM), then shuts down gracefully: requests at work
// get shutdownGrace to finish.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", `Usage: compass serve [--addr 127.0.0.1:8080] [--out DIR] [--build=true] [--api=true]
       [--max-body BYTES] [--deadline 60s] [--max-concurrent N] [--max-batch B] [--max-sim-events N]
       [--cors-origin https://docs.example] [--max-units N] [--max-ga-work N] [other --max-* limits]

Builds the playground (see compass build) and serves it with the HTTP API on one
address; open the printed URL. The page runs everything in the browser; the API
(/v1/health, /v1/models, /v1/chips, POST /v1/inspect, /v1/compile, /v1/simulate,
/v1/sweep; docs/deploy.md) compiles on this machine for any client that can reach
the address, so keep it on loopback unless you mean to share it. The --max-* flags
are the engine's limits for API requests (as in compass compile); a request can
lower them, never lift them.`, stdout, stderr)
	def := httpapi.DefaultConfig()
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback by default; anything else is reachable from other machines)")
	out := fs.String("out", filepath.Join("out", "web"), "site directory (relative to the repository root)")
	build := fs.Bool("build", true, "build before serving (false: serve an existing build)")
	withAPI := fs.Bool("api", true, "serve the HTTP API under /v1/")
	maxBody := fs.Int64("max-body", def.MaxBodyBytes, "API: largest request body in bytes (413 beyond)")
	deadline := fs.Duration("deadline", def.Deadline, "API: deadline of one request's work (504 beyond; the search stops)")
	maxConc := fs.Int("max-concurrent", def.MaxConcurrent, "API: requests at work at once (503 beyond)")
	maxBatch := fs.Int("max-batch", def.MaxBatch, "API: largest batch a request may ask (422 beyond)")
	maxEvents := fs.Int64("max-sim-events", def.MaxSimEvents, "API: events one simulation may process (422 beyond)")
	// The engine's limits but --max-sim-events (above): a request's
	// "limits" can lower them, never lift them.
	var limitNames []string
	for _, f := range limitFlagTable {
		if f.name != "max-sim-events" {
			limitNames = append(limitNames, f.name)
		}
	}
	lf := addLimitFlags(fs, limitNames...)
	var origins []string
	fs.Func("cors-origin", "API: an origin (https://host[:port]) whose pages may call the API from a browser; repeat for more (default none)", func(v string) error {
		if v != "*" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return fmt.Errorf("%q is not an origin: write scheme://host[:port], e.g. https://docs.example", v)
		}
		origins = append(origins, strings.TrimRight(v, "/"))
		return nil
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"--max-body", *maxBody}, {"--deadline", int64(*deadline)}, {"--max-concurrent", int64(*maxConc)}, {"--max-batch", int64(*maxBatch)}, {"--max-sim-events", *maxEvents}} {
		if f.v <= 0 {
			return usagef("%s must be positive", f.name)
		}
	}
	lim, err := lf.limits()
	if err != nil {
		return err
	}
	apiCfg := httpapi.Config{MaxBodyBytes: *maxBody, Deadline: *deadline, MaxConcurrent: *maxConc, MaxBatch: *maxBatch,
		MaxSimEvents: *maxEvents, AllowOrigins: origins, Version: "dev"}
	if lim != nil {
		apiCfg.Limits = *lim
	}
	dir := *out
	var built *site.BuildResult
	if *build {
		res, err := buildSite(*out, stdout, true)
		if err != nil {
			return err
		}
		dir, built = res.Dir, res
		if w := res.File("compass.wasm"); w != nil {
			br := thousands(w.BrotliByte)
			if w.BrotliByte == 0 {
				br = "(later)"
			}
			fmt.Fprintf(stdout, "built compass.wasm: %s bytes, %s gzip, %s brotli\n", thousands(w.Bytes), thousands(w.GzipBytes), br)
		}
	} else if root, err := site.FindRoot("."); err == nil && !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "compass.wasm")); err != nil {
		return fmt.Errorf("%s holds no build (compass.wasm): run without --build=false", dir)
	}
	handler, err := serveHandler(dir, *withAPI, apiCfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s is in use (another compass serve, or another server): stop it, or serve on another port with --addr 127.0.0.1:8081", *addr)
	}
	if err != nil {
		return err
	}
	if warning := exposureWarning(ln.Addr()); warning != "" {
		fmt.Fprintln(stderr, warning)
	}
	what := "playground"
	if *withAPI {
		what = "playground and API (/v1/)"
	}
	fmt.Fprintf(stdout, "COMPASS-Go %s: http://%s/  (Ctrl-C stops)\n", what, ln.Addr())
	srv := newServer(handler, *deadline)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if built != nil {
		go func() {
			start := time.Now()
			if n, err := built.FinishBrotli(); err != nil {
				fmt.Fprintf(stderr, "brotli variants: %v (gzip is served instead)\n", err)
			} else if n > 0 {
				fmt.Fprintf(stdout, "brotli variants of %d files ready (%.1f s)\n", n, time.Since(start).Seconds())
			}
		}()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "stopping: letting requests at work finish...")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdownGrace is how long a stopping server waits for requests at work.
const shutdownGrace = 10 * time.Second

// serveHandler is the site at / and, with withAPI, the HTTP API under
// /v1/, every reply with the security headers.
func serveHandler(dir string, withAPI bool, cfg httpapi.Config) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/", site.Handler(dir))
	if withAPI {
		h, err := httpapi.New(cfg)
		if err != nil {
			return nil, err
		}
		mux.Handle("/v1/", h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site.SetSecurityHeaders(w.Header())
		mux.ServeHTTP(w, r)
	}), nil
}

// newServer bounds every phase of a connection: the headers, the whole
// request body, the reply (the API's deadline plus a margin to write it)
// and an idle keep-alive.
func newServer(h http.Handler, deadline time.Duration) *http.Server {
	return &http.Server{Handler: h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      deadline + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// exposureWarning is a warning when addr is not a loopback address: the
// API then compiles for anyone who can reach it.
func exposureWarning(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if ok && tcp.IP.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("warning: listening on %s, which other machines can reach: anyone who can connect may use the playground and run compiles through the API (no authentication; bounded only by --max-concurrent, --deadline and the other limits). Use --addr 127.0.0.1:PORT to keep it on this machine.", addr)
}
