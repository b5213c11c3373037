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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

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
	Dir    string
	Files  []File
	Cached int // compressed files taken from the cache

	pending  []pendingBrotli // brotli variants left for FinishBrotli
	cacheDir string
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

// BuildOptions are Build's settings.
type BuildOptions struct {
	Version string // set into the wasm module (main.version)
	// Log, if set, receives a line for each step as it starts and ends,
	// so a first build (minutes: the engine compiled for WebAssembly) is
	// not silent.
	Log io.Writer
	// CacheDir holds compressed files by the SHA-256 of their content, so
	// an unchanged file is not compressed again (brotli at its best
	// compression takes seconds per MB). Empty: no cache.
	CacheDir string
	// BrotliLater leaves the brotli variants the cache lacks to
	// BuildResult.FinishBrotli, so a server can start at once after an
	// edit and serve gzip until they are ready.
	BrotliLater bool
}

// DefaultCacheDir is the compressed-file cache under the user's cache
// directory ($XDG_CACHE_HOME or ~/.cache on Linux): compass-go/compressed.
// It is "" when the system has no user cache directory.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "compass-go", "compressed")
}

// Build writes the playground into out: index.html and site/ from the
// repository at root (Go sources and tests excluded), compass.wasm built
// with -ldflags "-s -w", and wasm_exec.js from $(go env GOROOT)/lib/wasm;
// then a .gz and a .br beside every compressible file, taken from
// DefaultCacheDir when the same bytes were compressed before. Build
// outputs are never committed (out/ is ignored).
func Build(root, out, version string) (*BuildResult, error) {
	return BuildWith(root, out, BuildOptions{Version: version, CacheDir: DefaultCacheDir()})
}

// BuildWith is Build with options.
func BuildWith(root, out string, opt BuildOptions) (*BuildResult, error) {
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}
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
	logf("building compass.wasm (go build for GOOS=js GOARCH=wasm; a first build compiles the whole engine and takes minutes, later ones seconds)...")
	start := time.Now()
	cmd := exec.Command("go", wasmBuildArgs(opt.Version, filepath.Join(out, "compass.wasm"))...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the WebAssembly module: %v\n%s", err, msg)
	}
	logf("  built in %.1f s", time.Since(start).Seconds())
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
	logf("compressing with gzip and brotli (cached by content in %s)...", cacheName(opt.CacheDir))
	start = time.Now()
	res, err := precompress(out, opt.CacheDir, opt.BrotliLater)
	if err != nil {
		return nil, err
	}
	logf("  %d files compressed in %.1f s, %d from the cache", len(res.Files), time.Since(start).Seconds(), res.Cached)
	if n := len(res.pending); n > 0 {
		logf("  %d brotli variants left for later (gzip is served until they are ready)", n)
	}
	return res, nil
}

func cacheName(dir string) string {
	if dir == "" {
		return "no cache"
	}
	return dir
}

// Precompress writes a .gz and a .br beside every compressible file under
// dir (gzip and brotli at their best compression), taking each from
// cacheDir when the same content was compressed before and storing it
// there otherwise ("" : no cache). Cache entries unused for
// cacheMaxAge are removed.
func Precompress(dir, cacheDir string) (*BuildResult, error) {
	return precompress(dir, cacheDir, false)
}

// pendingBrotli is a brotli variant FinishBrotli still has to write.
type pendingBrotli struct {
	path, key string
	file      int // index into BuildResult.Files
}

func precompress(dir, cacheDir string, brotliLater bool) (*BuildResult, error) {
	res := &BuildResult{Dir: dir, cacheDir: cacheDir}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(p)
		if ext == ".gz" || ext == ".br" || ext == ".tmp" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		f := File{Path: filepath.ToSlash(rel)}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Bytes = int64(len(data))
		if compressible[ext] {
			sum := sha256.Sum256(data)
			key := hex.EncodeToString(sum[:])
			for _, c := range []struct {
				suffix string
				mk     func(io.Writer) io.WriteCloser
				size   *int64
			}{{".gz", gzipWriter, &f.GzipBytes}, {".br", brotliWriter, &f.BrotliByte}} {
				if brotliLater && c.suffix == ".br" && !cached(cacheDir, key+c.suffix) {
					// An old variant must not be served for the new file.
					if err := os.Remove(p + c.suffix); err != nil && !os.IsNotExist(err) {
						return err
					}
					res.pending = append(res.pending, pendingBrotli{p, key + c.suffix, len(res.Files)})
					continue
				}
				hit, n, err := compressCached(p+c.suffix, data, c.mk, cacheDir, key+c.suffix)
				if err != nil {
					return err
				}
				*c.size = n
				if hit {
					res.Cached++
				}
			}
		}
		res.Files = append(res.Files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	pruneCache(cacheDir)
	return res, nil
}

// cached reports whether the cache holds the entry key.
func cached(cacheDir, key string) bool {
	if cacheDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(cacheDir, key))
	return err == nil
}

// FinishBrotli writes the brotli variants Build left for later (with
// BuildOptions.BrotliLater), each atomically, so a server serving the
// directory meanwhile sends gzip and then brotli, never half a file. It
// returns how many it wrote. It must not run while another goroutine reads
// the result's Files.
func (r *BuildResult) FinishBrotli() (int, error) {
	done := 0
	for _, pb := range r.pending {
		data, err := os.ReadFile(pb.path)
		if err != nil {
			return done, err
		}
		tmp := pb.path + ".br.tmp"
		_, n, err := compressCached(tmp, data, brotliWriter, r.cacheDir, pb.key)
		if err != nil {
			os.Remove(tmp)
			return done, err
		}
		if err := os.Rename(tmp, pb.path+".br"); err != nil {
			return done, err
		}
		r.Files[pb.file].BrotliByte = n
		done++
	}
	r.pending = nil
	return done, nil
}

// cacheMaxAge is how long an unused compressed file stays in the cache.
const cacheMaxAge = 14 * 24 * time.Hour

// compressCached writes data compressed to path, from the cache entry
// named key when it exists (hit), else compressing it and storing the
// entry. A cache that cannot be written is skipped: the build still
// succeeds.
func compressCached(path string, data []byte, mk func(io.Writer) io.WriteCloser, cacheDir, key string) (hit bool, n int64, err error) {
	if cacheDir != "" {
		entry := filepath.Join(cacheDir, key)
		if cached, err := os.ReadFile(entry); err == nil {
			now := time.Now()
			os.Chtimes(entry, now, now) // keep it from pruning
			return true, int64(len(cached)), os.WriteFile(path, cached, 0o644)
		}
	}
	var buf bytes.Buffer
	z := mk(&buf)
	if _, err := z.Write(data); err != nil {
		return false, 0, err
	}
	if err := z.Close(); err != nil {
		return false, 0, err
	}
	if cacheDir != "" && os.MkdirAll(cacheDir, 0o755) == nil {
		// Write then rename, so a concurrent build never reads half a file.
		if tmp, err := os.CreateTemp(cacheDir, key+".tmp*"); err == nil {
			_, werr := tmp.Write(buf.Bytes())
			cerr := tmp.Close()
			if werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(cacheDir, key)) != nil {
				os.Remove(tmp.Name())
			}
		}
	}
	return false, int64(buf.Len()), os.WriteFile(path, buf.Bytes(), 0o644)
}

// pruneCache removes cache entries unused for cacheMaxAge, so the cache
// holds about the builds of the last two weeks.
func pruneCache(cacheDir string) {
	if cacheDir == "" {
		return
	}
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !e.IsDir() && time.Since(info.ModTime()) > cacheMaxAge {
			os.Remove(filepath.Join(cacheDir, e.Name()))
		}
	}
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

// coldPackages are the packages of the page's WebAssembly module that run
// once per request, not in the searches' or the simulator's inner loops:
// the ONNX reader, the IR and its zoo, the hardware description, the
// facade, the instruction encoding, the reproduction of the paper's
// figures and its fitter (they gather the searches' results; the work is
// in estimate and partition), and the standard library's JSON, fmt,
// reflection and conversions. They are compiled without inlining (-l):
// inlined copies of their many small calls compress poorly, and without
// them the module is about 70 KB smaller after brotli (1,244,221 to
// 1,174,017 bytes on 2026-11-30), while a ResNet18-M-16 compile and
// simulation under Node took the same user CPU time within the noise
// (about 3%). Marking reproduce and calibrate cold took the module from
// 1,222,139 to 1,211,903 bytes on 2026-11-30. The packages the searches
// and the simulator run in (estimate, partition, schedule, sim, dram,
// mapping, layout, the runtime, math, slices, sort) keep inlining.
var coldPackages = []string{
	"github.com/compass-go/compass/engine/onnx",
	"github.com/compass-go/compass/engine/model/...",
	"github.com/compass-go/compass/engine/hw",
	"github.com/compass-go/compass/engine/api",
	"github.com/compass-go/compass/engine/isa",
	"github.com/compass-go/compass/engine/internal/reproduce",
	"github.com/compass-go/compass/engine/internal/calibrate",
	"github.com/compass-go/compass/wasm",
	"encoding/json", "fmt", "reflect", "strconv", "os", "syscall/js",
	"github.com/vmihailenco/...", "google.golang.org/...",
}

// wasmBuildArgs are the arguments of the go command that builds the page's
// module into out: stripped (-s -w), reproducible paths, the version
// stamped, and no inlining in coldPackages.
func wasmBuildArgs(version, out string) []string {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + version}
	for _, p := range coldPackages {
		args = append(args, "-gcflags="+p+"=-l")
	}
	return append(args, "-o", out, "./wasm")
}
