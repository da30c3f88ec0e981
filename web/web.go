// Package web is the doctagger playground: a small page, served by taggerd at
// "/" on the HTTP port (server.Config.UI), to paste a text, tag it through the
// REST mirror and see each theme's score and its evidence highlighted in the
// text. The files are embedded; there is no build step and the page loads
// nothing from the network but the server's own /v1/ routes.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the playground: the page at "/" and its assets. Anything
// else is 404. It is meant for server.Config.UI.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/", "/app.js", "/style.css", "/favicon.svg":
		case "/index.html":
			http.Redirect(w, r, "/", http.StatusMovedPermanently)
			return
		default:
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		// The page talks only to its own origin; scripts and styles are files.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
