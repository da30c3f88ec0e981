package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/internal/service"
)

// Config is the whole configuration of a Server. Every field has a flag and
// an environment variable in cmd/taggerd; DefaultConfig gives the defaults.
type Config struct {
	// GRPCAddr is the gRPC listen address (":9090").
	GRPCAddr string
	// HTTPAddr is the REST/metrics/health listen address (":8080"); empty
	// disables HTTP.
	HTTPAddr string

	// RulesPath is a rules file; empty means the embedded default rules.
	RulesPath string
	// WatchRules reloads the rules when RulesPath changes on disk.
	WatchRules bool

	// RulesSettle is how long the rules file must stay unchanged before a
	// change is reloaded (WatchRules): a file written in place in several
	// pieces can be valid half-way.
	RulesSettle time.Duration
	// MaxDocumentBytes is the largest document text accepted.
	MaxDocumentBytes int
	// MaxBatchDocuments is the most documents in one BatchTagDocuments.
	MaxBatchDocuments int
	// MaxMessageBytes is the largest gRPC message received or sent.
	MaxMessageBytes int
	// StreamMaxInFlight is how many documents of one stream the server holds
	// at once (received, not yet answered); a slow reader stalls the stream
	// at this bound instead of growing the server's memory.
	StreamMaxInFlight int
	// StreamIdleTimeout ends a stream that sent nothing and has nothing in
	// flight for this long (0: never). Over REST it also bounds each write
	// of the NDJSON stream and the wait for each piece of a request body.
	StreamIdleTimeout time.Duration
	// RESTBodyTimeout bounds the reading of a whole unary REST request body:
	// a client sending a byte now and then, under StreamIdleTimeout, would
	// otherwise hold its handler for ever (HTTP 408 BODY_TIMEOUT; 0: no bound).
	RESTBodyTimeout time.Duration
	// MaxConcurrentStreams bounds the calls (unary or streams) open at once
	// on one gRPC connection; a client opens more only as others end.
	MaxConcurrentStreams int
	// MaxConnections bounds the connections accepted at once, on each of
	// the gRPC and HTTP ports; more wait to be accepted (0: no bound). Each
	// gRPC connection may hold up to 1 MiB its client sent and the server
	// has not read yet (fixed flow-control windows), so this bounds that
	// memory too.
	MaxConnections int
	// StreamWindow is the gRPC flow-control window of a stream, in bytes
	// (at least 64 KiB): what the server may hold of what a client sent
	// and the handler has not read yet. A larger window carries one stream
	// faster (far clients, few streams) and costs that much memory per
	// stream that stops reading.
	StreamWindow int
	// MaxInflightCalls bounds the calls in flight over the whole server,
	// gRPC and REST; past it a new call is refused from its headers with
	// UNAVAILABLE (REST 503) OVERLOADED and a retry hint (0: no bound).
	MaxInflightCalls int
	// MaxInflightBytes bounds the document text the server holds at once
	// over every call and stream; a request that finds no room within a
	// second is shed the same way, a stream ending like a drained one
	// (0: no bound). With MaxMessageBytes it is what bounds memory.
	MaxInflightBytes int64
	// MaxConnectionAge, when set, makes the server ask each client
	// connection to go away (GOAWAY) after about this long (±10%), so that
	// clients behind an L4 load balancer reconnect and spread over new
	// replicas. Calls and streams already on the connection are never cut:
	// they finish on it. 0: connections live as long as their clients want.
	MaxConnectionAge time.Duration
	// ShutdownGrace is how long requests and streams in flight may take to
	// finish after shutdown starts; then streams stop reading, answer what
	// they took, and end with UNAVAILABLE.
	ShutdownGrace time.Duration

	// TLSCertFile and TLSKeyFile enable TLS on both gRPC and HTTP.
	TLSCertFile string
	TLSKeyFile  string
	// ClientCAFile enables mutual TLS: clients must present a certificate
	// signed by one of these CAs.
	ClientCAFile string

	// AuthTokens are accepted bearer tokens; with AuthTokenFile (one token a
	// line, '#' comments, re-read on Reload) they enable authentication.
	AuthTokens    []string
	AuthTokenFile string
	// OpenHealth leaves gRPC health, reflection, /healthz and /readyz open
	// when authentication is on; OpenMetrics does the same for /metrics.
	OpenHealth  bool
	OpenMetrics bool
	// OpenDocs leaves the API's descriptions, /openapi.json and
	// /swagger.json, open when authentication is on.
	OpenDocs bool

	// Pprof serves net/http/pprof at /debug/pprof/ on the HTTP port (behind
	// the bearer token when authentication is on, like closed metrics).
	Pprof bool

	// AuthTokens and the token file may name their callers ("name: token";
	// a plain token is "token-N", or "env-token-N" in AuthTokens): the
	// name is in the call log, the span and the metrics, and picks the
	// caller's quota.

	// Quota is every caller's quota (documents a second, streams open at
	// once; 0: no limit), unless QuotaFile names its own. Without
	// authentication there is one caller, "anonymous".
	Quota middleware.Quota
	// QuotaFile is a YAML file of quotas ("default:" and "callers:" by
	// name), re-read on Reload.
	QuotaFile string

	// AccessLog logs every call at info level (method, caller, code,
	// documents, bytes, duration, request id); off, successes are logged
	// at debug.
	AccessLog bool
	// TracerProvider, when set, traces every call (gRPC through its stats
	// handler, REST through otelhttp and a span for its in-process call);
	// nil: no tracing. cmd/taggerd makes one from the OTEL_* environment.
	TracerProvider trace.TracerProvider

	// Logger receives structured logs; nil means text logs on stderr.
	Logger *slog.Logger
	// Registry receives the metrics; nil means a new registry with the Go
	// and process collectors.
	Registry *prometheus.Registry
	// UI, when set, is served at "/" on the HTTP port (everything that is not
	// /v1/, /openapi.json, /healthz, /readyz or /metrics).
	UI http.Handler
}

// DefaultConfig returns the defaults of every setting.
func DefaultConfig() Config {
	return Config{
		GRPCAddr:             ":9090",
		HTTPAddr:             ":8080",
		WatchRules:           true,
		RulesSettle:          2 * time.Second,
		MaxDocumentBytes:     1 << 20,
		MaxBatchDocuments:    256,
		MaxMessageBytes:      64 << 20,
		StreamMaxInFlight:    256,
		StreamIdleTimeout:    5 * time.Minute,
		RESTBodyTimeout:      time.Minute,
		MaxConcurrentStreams: 256,
		MaxConnections:       256,
		StreamWindow:         64 << 10,
		MaxInflightCalls:     1024,
		MaxInflightBytes:     256 << 20,
		ShutdownGrace:        15 * time.Second,
		OpenHealth:           true,
		OpenMetrics:          true,
		OpenDocs:             true,
		AccessLog:            true,
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.GRPCAddr == "" {
		errs = append(errs, errors.New("the gRPC address is empty"))
	}
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	for name, v := range map[string]int64{"max concurrent streams": int64(c.MaxConcurrentStreams), "max connections": int64(c.MaxConnections),
		"max inflight calls": int64(c.MaxInflightCalls), "max inflight bytes": c.MaxInflightBytes} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s must be 0 (no bound) or positive, got %d", name, v))
		}
	}
	if c.StreamWindow < 64<<10 || c.StreamWindow > 1<<30 {
		errs = append(errs, fmt.Errorf("the stream window must be from 65536 (64 KiB, HTTP/2's least) to 1073741824 bytes, got %d", c.StreamWindow))
	}
	positive("max document bytes", c.MaxDocumentBytes)
	positive("max batch documents", c.MaxBatchDocuments)
	positive("max message bytes", c.MaxMessageBytes)
	positive("stream max in flight", c.StreamMaxInFlight)
	if c.StreamIdleTimeout < 0 || c.ShutdownGrace < 0 || c.MaxConnectionAge < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	// A document at the size limit must still fit in one gRPC message, with
	// room for its id and the options; else it fails as RESOURCE_EXHAUSTED
	// for the whole message instead of with a per-document error.
	if c.MaxDocumentBytes > 0 && c.MaxMessageBytes < c.MaxDocumentBytes+service.MessageOverhead {
		errs = append(errs, fmt.Errorf("max message bytes (%d) must be at least max document bytes (%d) + %d, so that a document at the limit fits in a message",
			c.MaxMessageBytes, c.MaxDocumentBytes, service.MessageOverhead))
	}
	for i, t := range c.AuthTokens {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fmt.Errorf("auth token %d is empty: an empty token would accept a bare \"Bearer \" header", i+1))
		}
	}
	if q := c.Quota; q.DocumentsPerSecond < 0 || q.Burst < 0 || q.Streams < 0 {
		errs = append(errs, errors.New("quotas must be 0 (no limit) or positive"))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("TLS needs both a certificate and a key file"))
	}
	if c.ClientCAFile != "" && c.TLSCertFile == "" {
		errs = append(errs, errors.New("mutual TLS (client CA) needs TLS (certificate and key)"))
	}
	return errors.Join(errs...)
}
