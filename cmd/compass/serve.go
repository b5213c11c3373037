package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

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
	res, err := buildSite(*out)
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

func buildSite(out string) (*site.BuildResult, error) {
	root, err := site.FindRoot(".")
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	return site.Build(root, out, "dev")
}

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", `Usage: compass serve [--addr 127.0.0.1:8080] [--out DIR] [--build=true]

Builds the playground (see compass build) and serves it; open the printed URL.
Everything runs in the browser: no request leaves the page's origin.`, stdout, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback by default)")
	out := fs.String("out", filepath.Join("out", "web"), "site directory (relative to the repository root)")
	build := fs.Bool("build", true, "build before serving (false: serve an existing build)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir := *out
	if *build {
		res, err := buildSite(*out)
		if err != nil {
			return err
		}
		dir = res.Dir
		if w := res.File("compass.wasm"); w != nil {
			fmt.Fprintf(stdout, "built compass.wasm: %s bytes, %s gzip, %s brotli\n", thousands(w.Bytes), thousands(w.GzipBytes), thousands(w.BrotliByte))
		}
	} else if root, err := site.FindRoot("."); err == nil && !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "compass.wasm")); err != nil {
		return fmt.Errorf("%s holds no build (compass.wasm): run without --build=false", dir)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "COMPASS-Go playground: http://%s/  (Ctrl-C stops)\n", ln.Addr())
	srv := &http.Server{Handler: site.Handler(dir), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
