package server

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/doctagger/doctagger/internal/buildinfo"
	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/internal/telemetry"
)

// Propagator is how trace context comes in with a call: W3C traceparent
// and baggage, over gRPC and REST.
var Propagator = telemetry.Propagator

// tracingOptions is the gRPC server's stats handler for tracing, when a
// tracer provider is configured.
func (s *Server) tracingOptions() []grpc.ServerOption {
	if s.cfg.TracerProvider == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(s.cfg.TracerProvider),
		otelgrpc.WithPropagators(Propagator),
		// Health checks would be most of the spans, and tell nothing.
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
			return !strings.HasPrefix(info.FullMethodName, "/grpc.health.v1.Health/")
		}),
	))}
}

// registerBuildInfo exports doctagger_build_info{version,revision,go_version} 1.
func registerBuildInfo(reg prometheus.Registerer) {
	in := buildinfo.Read()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "doctagger_build_info",
		Help: "The build of taggerd (value 1): version, VCS revision and Go version.",
	}, []string{"version", "revision", "go_version"})
	g.WithLabelValues(in.Version, in.Commit, in.GoVersion).Set(1)
	reg.MustRegister(g)
}

// quotaConfig is the quota configuration: the defaults of the flags, and
// the quota file's when there is one.
func (s *Server) quotaConfig() (middleware.QuotaConfig, error) {
	if s.cfg.QuotaFile == "" {
		return middleware.QuotaConfig{Default: s.cfg.Quota}, nil
	}
	return middleware.ReadQuotaFile(s.cfg.QuotaFile, s.cfg.Quota)
}

// loadTokens reads the accepted tokens: AuthTokens (named env-token-N
// unless "name: token") and the token file.
func (s *Server) loadTokens() error {
	var tokens []middleware.Token
	for i, t := range s.cfg.AuthTokens {
		tok, err := middleware.ParseToken(t, i+1)
		if err != nil {
			return fmt.Errorf("auth token %d: %w", i+1, err)
		}
		if tok.Token == strings.TrimSpace(t) { // not "name: token"
			tok.Name = fmt.Sprintf("env-token-%d", i+1)
		}
		tokens = append(tokens, tok)
	}
	if s.cfg.AuthTokenFile != "" {
		fromFile, err := middleware.ReadTokens(s.cfg.AuthTokenFile)
		if err != nil {
			return err
		}
		tokens = append(tokens, fromFile...)
	}
	s.auth.SetTokens(tokens)
	return nil
}
