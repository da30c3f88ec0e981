package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/gateway"
)

// httpHandler puts the HTTP port together: health, metrics, profiles, the
// API's descriptions, the REST routes (gateway) and the playground.
func (s *Server) httpHandler(gw *gateway.Gateway) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", gw.Authorize(s.cfg.OpenHealth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", gw.Authorize(s.cfg.OpenHealth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.serving.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		fmt.Fprintf(w, "ready %s\n", s.rules.Current().Tagger.Version())
	})))
	mux.Handle("GET /metrics", gw.Authorize(s.cfg.OpenMetrics,
		promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})))
	if s.cfg.Pprof {
		mux.Handle("/debug/pprof/", gw.Authorize(false, http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/cmdline", gw.Authorize(false, http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("/debug/pprof/profile", gw.Authorize(false, http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/symbol", gw.Authorize(false, http.HandlerFunc(pprof.Symbol)))
		mux.Handle("/debug/pprof/trace", gw.Authorize(false, http.HandlerFunc(pprof.Trace)))
	}
	// The REST API's description: OpenAPI 3 for client generators, and
	// the Swagger 2 document protoc-gen-openapiv2 makes, for older tools.
	mux.Handle("GET /openapi.json", gw.Authorize(s.cfg.OpenDocs, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(pb.OpenAPI3)
	})))
	mux.Handle("GET /swagger.json", gw.Authorize(s.cfg.OpenDocs, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(pb.OpenAPI)
	})))
	mux.Handle("/v1/", gw.Handler())
	if s.cfg.UI != nil {
		mux.Handle("/", s.cfg.UI)
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			gateway.WriteError(w, gateway.NotFound(r))
		})
	}
	return withRequestID(mux)
}

// withRequestID gives every request an X-Request-Id (the client's, or a new
// one), which the call log carries, and echoes it in the response.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		h.ServeHTTP(w, r)
	})
}
