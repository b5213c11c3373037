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
