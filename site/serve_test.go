package site

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func writeSite(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"index.html":        "<!doctype html><title>x</title>",
		"compass.wasm":      "\x00asm-pretend",
		"compass.wasm.gz":   "", // filled below with real gzip
		"site/app.js":       "console.log(1)",
		"site/style.css":    "body{}",
		"site/nested/a.svg": "<svg/>",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.Create(filepath.Join(dir, "compass.wasm.gz"))
	z := gzip.NewWriter(f)
	z.Write([]byte("\x00asm-pretend"))
	z.Close()
	f.Close()
	return dir
}

func get(t *testing.T, h http.Handler, path, accept string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept-Encoding", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerTypesAndEncodings(t *testing.T) {
	h := Handler(writeSite(t))
	cases := []struct {
		path, accept, wantType, wantEnc string
		code                            int
	}{
		{"/", "", "text/html; charset=utf-8", "", 200},
		{"/compass.wasm", "gzip, deflate, br", "application/wasm", "gzip", 200}, // no .br on disk: gzip
		{"/compass.wasm", "identity", "application/wasm", "", 200},
		{"/compass.wasm", "gzip;q=0", "application/wasm", "", 200},
		{"/site/app.js", "", "text/javascript; charset=utf-8", "", 200},
		{"/site/style.css", "", "text/css; charset=utf-8", "", 200},
		{"/site/nested/a.svg", "", "image/svg+xml", "", 200},
		{"/missing.js", "", "", "", 404},
		{"/site/", "", "", "", 404}, // no listings
		{"/../../etc/passwd", "", "", "", 404},
	}
	for _, c := range cases {
		res := get(t, h, c.path, c.accept)
		if res.StatusCode != c.code {
			t.Errorf("%s: status %d, want %d", c.path, res.StatusCode, c.code)
			continue
		}
		if c.code != 200 {
			continue
		}
		if got := res.Header.Get("Content-Type"); got != c.wantType {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.wantType)
		}
		if got := res.Header.Get("Content-Encoding"); got != c.wantEnc {
			t.Errorf("%s (Accept-Encoding %q): Content-Encoding %q, want %q", c.path, c.accept, got, c.wantEnc)
		}
		if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: no Vary: Accept-Encoding", c.path)
		}
		body, _ := io.ReadAll(res.Body)
		if c.wantEnc == "gzip" {
			z, err := gzip.NewReader(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := io.ReadAll(z)
			if string(plain) != "\x00asm-pretend" {
				t.Errorf("%s: gzip body decodes to %q", c.path, plain)
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestAcceptsEncoding(t *testing.T) {
	cases := map[string]bool{"br": true, "gzip, br": true, "br;q=0": false, "BR": true, "brotli": false, "": false, "gzip;q=0.5, br;q=1": true}
	for header, want := range cases {
		if got := acceptsEncoding(header, "br"); got != want {
			t.Errorf("acceptsEncoding(%q, br) = %v", header, got)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := Handler(writeSite(t))
	for _, path := range []string{"/", "/compass.wasm", "/site/app.js", "/missing.js"} {
		res := get(t, h, path, "br")
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, " 'unsafe-eval'") {
			t.Errorf("%s: the policy allows JavaScript eval: %q", path, csp)
		}
	}
}

// readGzip and readBrotli decode a precompressed file.
func readGzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readBrotli(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(brotli.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrecompressCache(t *testing.T) {
	cache := t.TempDir()
	site := t.TempDir()
	files := map[string]string{"a.js": strings.Repeat("let x = 1;\n", 500), "b.wasm": strings.Repeat("\x00asm", 1000), "c.png": "not compressed"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(site, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first, err := Precompress(site, cache)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached != 0 || len(first.Files) != 3 {
		t.Fatalf("first run: %d cached, %d files", first.Cached, len(first.Files))
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 4 { // a.js and b.wasm, gzip and brotli each
		t.Fatalf("cache holds %d entries, want 4", len(entries))
	}
	// A second run over the same bytes (another output directory, as a
	// rebuild) takes every compressed file from the cache.
	again := t.TempDir()
	for name, body := range files {
		os.WriteFile(filepath.Join(again, name), []byte(body), 0o644)
	}
	second, err := Precompress(again, cache)
	if err != nil {
		t.Fatal(err)
	}
	if second.Cached != 4 {
		t.Fatalf("second run: %d from the cache, want 4", second.Cached)
	}
	for _, name := range []string{"a.js", "b.wasm"} {
		if got := readGzip(t, filepath.Join(again, name+".gz")); got != files[name] {
			t.Fatalf("%s.gz from the cache does not decode to the file", name)
		}
		if got := readBrotli(t, filepath.Join(again, name+".br")); got != files[name] {
			t.Fatalf("%s.br from the cache does not decode to the file", name)
		}
	}
	if _, err := os.Stat(filepath.Join(again, "c.png.gz")); err == nil {
		t.Fatal("a .png was compressed")
	}
	// Changed content misses the cache.
	os.WriteFile(filepath.Join(again, "a.js"), []byte("changed"), 0o644)
	third, err := Precompress(again, cache)
	if err != nil {
		t.Fatal(err)
	}
	if third.Cached != 2 || readBrotli(t, filepath.Join(again, "a.js.br")) != "changed" {
		t.Fatalf("changed file: %d from the cache (want 2: b.wasm only)", third.Cached)
	}
	// No cache directory: still compresses.
	if res, err := Precompress(t.TempDir(), ""); err != nil || res.Cached != 0 {
		t.Fatalf("no cache: %v", err)
	}
}

func TestBrotliLater(t *testing.T) {
	cache, dir := t.TempDir(), t.TempDir()
	js := strings.Repeat("const y = 2;\n", 400)
	os.WriteFile(filepath.Join(dir, "a.js"), []byte(js), 0o644)
	os.WriteFile(filepath.Join(dir, "a.js.br"), []byte("stale variant of an older a.js"), 0o644)
	res, err := precompress(dir, cache, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.pending) != 1 {
		t.Fatalf("%d brotli variants pending, want 1", len(res.pending))
	}
	if _, err := os.Stat(filepath.Join(dir, "a.js.br")); err == nil {
		t.Fatal("the stale .br is still there while its brotli is pending")
	}
	if readGzip(t, filepath.Join(dir, "a.js.gz")) != js {
		t.Fatal("gzip not written at once")
	}
	// Meanwhile the handler serves gzip to a client that takes brotli.
	if enc := get(t, Handler(dir), "/a.js", "br, gzip").Header.Get("Content-Encoding"); enc != "gzip" {
		t.Fatalf("while brotli is pending: Content-Encoding %q, want gzip", enc)
	}
	n, err := res.FinishBrotli()
	if err != nil || n != 1 {
		t.Fatalf("FinishBrotli: %d, %v", n, err)
	}
	if readBrotli(t, filepath.Join(dir, "a.js.br")) != js || res.File("a.js").BrotliByte == 0 {
		t.Fatal("the late brotli variant does not decode to the file, or its size is not recorded")
	}
	if enc := get(t, Handler(dir), "/a.js", "br, gzip").Header.Get("Content-Encoding"); enc != "br" {
		t.Fatalf("after FinishBrotli: Content-Encoding %q, want br", enc)
	}
	// The next build finds it in the cache: nothing pending.
	again, err := precompress(dir, cache, true)
	if err != nil || len(again.pending) != 0 || again.Cached != 2 {
		t.Fatalf("rebuild: %d pending, %d cached, %v", len(again.pending), again.Cached, err)
	}
}
