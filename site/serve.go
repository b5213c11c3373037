package site

import (
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// contentTypes fixes the MIME types the page depends on, whatever the
// host's mime tables say: WebAssembly.instantiateStreaming requires
// application/wasm.
var contentTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".md":   "text/markdown; charset=utf-8",
}

// ContentSecurityPolicy is the policy the playground is served with: every
// resource from the page's own origin only, WebAssembly compiled by the
// worker ('wasm-unsafe-eval', no JavaScript eval), no plugins, and
// framing allowed (the ?embed=1 widget lives in iframes on other sites).
// style-src allows inline style attributes, which the page's rendered
// cards and SVG sprite use.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'"

// SetSecurityHeaders sets the headers every reply of `compass serve`
// carries: no MIME sniffing, and the page's Content-Security-Policy.
func SetSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
}

// Handler serves a built site from dir: the precompressed .br or .gz
// variant when the client accepts it (Vary: Accept-Encoding), the right
// MIME type, the security headers (SetSecurityHeaders), and no directory
// listings. It serves only files under dir.
func Handler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetSecurityHeaders(w.Header())
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(p, "/") {
			p += "index.html"
		}
		file := filepath.Join(dir, filepath.FromSlash(p))
		info, err := os.Stat(file)
		if err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		ext := filepath.Ext(file)
		ct, ok := contentTypes[ext]
		if !ok {
			ct = mime.TypeByExtension(ext)
		}
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("Cache-Control", "no-cache") // revalidate: a rebuilt wasm must be picked up
		accept := r.Header.Get("Accept-Encoding")
		for _, enc := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
			if acceptsEncoding(accept, enc.token) {
				if _, err := os.Stat(file + enc.ext); err == nil {
					w.Header().Set("Content-Encoding", enc.token)
					http.ServeFile(w, r, file+enc.ext)
					return
				}
			}
		}
		http.ServeFile(w, r, file)
	})
}

// acceptsEncoding reports whether an Accept-Encoding header allows token
// (present and not q=0).
func acceptsEncoding(header, token string) bool {
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(fields[0]), token) {
			continue
		}
		for _, f := range fields[1:] {
			if q := strings.TrimSpace(f); q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
		}
		return true
	}
	return false
}
