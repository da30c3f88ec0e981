package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesThePage(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		method, path string
		code         int
		ctype        string
	}{
		{"GET", "/", 200, "text/html"},
		{"HEAD", "/", 200, "text/html"},
		{"GET", "/app.js", 200, "javascript"},
		{"GET", "/style.css", 200, "text/css"},
		{"GET", "/favicon.svg", 200, "image/svg+xml"},
		{"GET", "/index.html", 301, ""},
		{"GET", "/nope", 404, ""},
		{"GET", "/static/app.js", 404, ""},
		{"POST", "/", 405, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.path, rec.Code, tc.code)
		}
		if tc.ctype != "" && !strings.Contains(rec.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", tc.method, tc.path, rec.Header().Get("Content-Type"), tc.ctype)
		}
		if tc.code == 200 && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s %s: no CSP", tc.method, tc.path)
		}
	}
}

// The page must load nothing from the network but its own origin, and must
// not put text into the page as HTML.
func TestStaticFilesAreSelfContained(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/app.js", "/style.css", "/favicon.svg"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		s := string(body)
		for _, bad := range []string{"http://", "https://", "//cdn", "@import", "url("} {
			if strings.Contains(s, bad) && !(path == "/favicon.svg" && bad == "http://") {
				t.Errorf("%s contains %q", path, bad)
			}
		}
		if path == "/app.js" {
			for _, bad := range []string{".innerHTML =", ".outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
				if strings.Contains(s, bad) {
					t.Errorf("app.js uses %s", bad)
				}
			}
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Result().StatusCode != http.StatusOK {
		t.Fatal(rec.Code)
	}
}
