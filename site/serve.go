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

// Handler serves a built site from dir: the precompressed .br or .gz
// variant when the client accepts it (Vary: Accept-Encoding), the right
// MIME type, and no directory listings. It serves only files under dir.
func Handler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
