// Package site builds and serves the COMPASS-Go playground: the static page
// (index.html and the files beside this one), the engine compiled to
// WebAssembly, and Go's wasm_exec.js loader, precompressed with gzip and
// brotli. The `compass serve` and `compass build` commands and the browser
// tests use it; the page's own code is the JavaScript in this directory
// (see README.md here).
package site

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/andybalholm/brotli"
)

// File is one file of the built site, with its compressed sizes.
type File struct {
	Path       string // relative to the output directory, with forward slashes
	Bytes      int64
	GzipBytes  int64
	BrotliByte int64
}

// BuildResult lists what Build wrote.
type BuildResult struct {
	Dir   string
	Files []File
}

// File returns the entry for path, or nil.
func (r *BuildResult) File(path string) *File {
	for i := range r.Files {
		if r.Files[i].Path == path {
			return &r.Files[i]
		}
	}
	return nil
}

// FindRoot walks up from dir to the repository root (the directory holding
// go.mod and index.html).
func FindRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if exists(filepath.Join(d, "go.mod")) && exists(filepath.Join(d, "index.html")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no COMPASS-Go repository (go.mod and index.html) above %s: run from inside the repository", dir)
		}
		d = parent
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// compressible lists the extensions worth precompressing.
var compressible = map[string]bool{".wasm": true, ".js": true, ".css": true, ".html": true, ".json": true, ".svg": true, ".md": true}

// Build writes the playground into out: index.html and site/ from the
// repository at root (Go sources and tests excluded), compass.wasm built
// with -ldflags "-s -w", and wasm_exec.js from $(go env GOROOT)/lib/wasm;
// then a .gz and a .br beside every compressible file. Build outputs are
// never committed (out/ is ignored).
func Build(root, out, version string) (*BuildResult, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return nil, err
	}
	if err := copyFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), filepath.Join(out, "wasm_exec.js")); err != nil {
		return nil, fmt.Errorf("copying wasm_exec.js from GOROOT: %w", err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version,
		"-o", filepath.Join(out, "compass.wasm"), "./wasm")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the WebAssembly module: %v\n%s", err, msg)
	}
	if err := copyFile(filepath.Join(root, "index.html"), filepath.Join(out, "index.html")); err != nil {
		return nil, err
	}
	err = filepath.WalkDir(filepath.Join(root, "site"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			return nil
		}
		return copyFile(p, filepath.Join(out, rel))
	})
	if err != nil {
		return nil, err
	}
	res := &BuildResult{Dir: out}
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(p)
		if ext == ".gz" || ext == ".br" {
			return nil
		}
		rel, _ := filepath.Rel(out, p)
		f := File{Path: filepath.ToSlash(rel)}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Bytes = int64(len(data))
		if compressible[ext] {
			if f.GzipBytes, err = writeCompressed(p+".gz", data, gzipWriter); err != nil {
				return err
			}
			if f.BrotliByte, err = writeCompressed(p+".br", data, brotliWriter); err != nil {
				return err
			}
		}
		res.Files = append(res.Files, f)
		return nil
	})
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	return res, err
}

func goEnv(key string) (string, error) {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w (is the Go toolchain on PATH?)", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

func gzipWriter(w io.Writer) io.WriteCloser {
	z, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	return z
}

func brotliWriter(w io.Writer) io.WriteCloser {
	return brotli.NewWriterLevel(w, brotli.BestCompression)
}

func writeCompressed(path string, data []byte, mk func(io.Writer) io.WriteCloser) (int64, error) {
	var buf bytes.Buffer
	z := mk(&buf)
	if _, err := z.Write(data); err != nil {
		return 0, err
	}
	if err := z.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), os.WriteFile(path, buf.Bytes(), 0o644)
}
