package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/doctagger/doctagger/internal/buildinfo"
	"github.com/doctagger/doctagger/internal/envflag"
	"github.com/doctagger/doctagger/server"
	"github.com/doctagger/doctagger/web"
)

var (
	errHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
)

// Each flag has an environment twin (envflag.Name): --grpc-addr is
// DOCTAGGER_GRPC_ADDR. A flag given on the command line wins over its twin.

// envTokens holds the accepted tokens: a twin without a flag.
var envTokens = envflag.Name("auth-tokens")

// parseFlags maps flags and environment variables one-to-one onto server.Config.
// --version prints to stdout and returns errVersion.
func parseFlags(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("taggerd", flag.ContinueOnError)
	fs.SetOutput(stderr)

	str := func(p *string, name, usage string) { fs.StringVar(p, name, *p, usage) }
	num := func(p *int, name, usage string) { fs.IntVar(p, name, *p, usage) }
	dur := func(p *time.Duration, name, usage string) { fs.DurationVar(p, name, *p, usage) }
	boolean := func(p *bool, name, usage string) { fs.BoolVar(p, name, *p, usage) }

	str(&cfg.GRPCAddr, "grpc-addr", "gRPC listen address")
	str(&cfg.HTTPAddr, "http-addr", "HTTP (REST, /metrics, /healthz, /readyz, /openapi.json) listen address; empty disables HTTP")
	str(&cfg.RulesPath, "rules", "rules file (YAML); empty means the embedded default rules")
	boolean(&cfg.WatchRules, "watch-rules", "reload the rules file when it changes (SIGHUP always reloads)")
	dur(&cfg.RulesSettle, "rules-settle", "reload a changed rules file once it has had no change this long (a file written in place may be valid half-way)")
	num(&cfg.MaxDocumentBytes, "max-document-bytes", "largest document text, in bytes")
	num(&cfg.MaxBatchDocuments, "max-batch-documents", "most documents in one BatchTagDocuments")
	num(&cfg.MaxMessageBytes, "max-message-bytes", "largest gRPC message received or sent, in bytes")
	num(&cfg.StreamMaxInFlight, "stream-max-in-flight", "documents of one stream held at once (received, not yet answered)")
	dur(&cfg.StreamIdleTimeout, "stream-idle-timeout", "end a stream idle this long; over REST also the longest wait for each piece of a request body (0: never)")
	dur(&cfg.RESTBodyTimeout, "rest-body-timeout", "longest time to read a whole unary REST request body (408 after it; 0: no bound)")
	num(&cfg.MaxConnections, "max-connections", "connections accepted at once on each of the gRPC and HTTP ports; more wait to be accepted (0: no bound)")
	num(&cfg.StreamWindow, "stream-window", "gRPC flow-control window of a stream, in bytes (64 KiB at least): larger carries one stream faster, and costs that much memory per stream that stops reading")
	num(&cfg.MaxConcurrentStreams, "max-concurrent-streams", "calls (unary or streams) open at once on one gRPC connection (0: no bound)")
	num(&cfg.MaxInflightCalls, "max-inflight-calls", "calls in flight over the whole server, gRPC and REST; past it new calls are refused with UNAVAILABLE and a retry hint (0: no bound)")
	fs.Int64Var(&cfg.MaxInflightBytes, "max-inflight-bytes", cfg.MaxInflightBytes, "document text held at once over every call and stream; a request that finds no room within a second is shed with UNAVAILABLE and a retry hint (0: no bound)")
	dur(&cfg.MaxConnectionAge, "max-connection-age", "ask clients to reconnect (GOAWAY) after a connection is this old, to rebalance over replicas; calls in flight finish (0: never)")
	dur(&cfg.ShutdownGrace, "shutdown-grace", "time for calls and streams in flight to finish on SIGTERM/SIGINT")
	str(&cfg.TLSCertFile, "tls-cert", "TLS certificate file (PEM) for gRPC and HTTP; with --tls-key enables TLS")
	str(&cfg.TLSKeyFile, "tls-key", "TLS private key file (PEM)")
	str(&cfg.ClientCAFile, "client-ca", "CA certificates (PEM) for mutual TLS: clients must present a certificate they signed")
	str(&cfg.AuthTokenFile, "auth-token-file", "file of accepted bearer tokens, one a line, \"name: token\" to name the caller (logs, spans, metrics, quotas); enables authentication (re-read on SIGHUP)")
	str(&cfg.QuotaFile, "quota-file", "YAML file of per-caller quotas (default: and callers: by token name, with documents_per_second, burst, streams); re-read on SIGHUP")
	fs.Float64Var(&cfg.Quota.DocumentsPerSecond, "quota-documents-per-second", cfg.Quota.DocumentsPerSecond, "documents a second each caller may send, over all its calls (unary calls past it: RESOURCE_EXHAUSTED QUOTA_EXCEEDED / 429 with a retry hint; streams are slowed down) (0: no limit)")
	num(&cfg.Quota.Burst, "quota-burst", "documents a caller may send at once above its rate (0: one second's worth)")
	num(&cfg.Quota.Streams, "quota-streams", "streams each caller may have open at once (0: no limit)")
	boolean(&cfg.AccessLog, "access-log", "log every call at info level (method, caller, code, documents, bytes, duration, request id); off: successes at debug")
	boolean(&cfg.OpenHealth, "open-health", "leave gRPC health, reflection, /healthz and /readyz open when authentication is on")
	boolean(&cfg.OpenMetrics, "open-metrics", "leave /metrics open when authentication is on")
	boolean(&cfg.OpenDocs, "open-docs", "leave /openapi.json and /swagger.json open when authentication is on")
	playground := true
	boolean(&playground, "playground", "serve the web playground at / on the HTTP port")
	boolean(&cfg.Pprof, "pprof", "serve Go profiles at /debug/pprof/ on the HTTP port (needs the token when authentication is on)")
	logFormat, logLevel := "text", "info"
	str(&logFormat, "log-format", "log format: text or json")
	str(&logLevel, "log-level", "log level: debug (logs every call), info, warn or error")
	showVersion := false
	fs.BoolVar(&showVersion, "version", false, "print the version, commit and Go version, and exit")

	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: taggerd [flags]\n\nServes the doctagger tagging API over gRPC and REST.\n"+
			"Every flag can also be set by the environment variable shown; the flag wins.\n"+
			"SIGHUP reloads the rules, the token file, the quota file and the TLS certificate; SIGTERM/SIGINT shut down gracefully.\n"+
			"Tracing (OpenTelemetry) is off unless OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT is set; see docs/service.md.\n\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "version" {
				fmt.Fprintf(stderr, "  --version\n      %s\n", f.Usage)
				return
			}
			fmt.Fprintf(stderr, "  --%s (env %s, default %q)\n      %s\n", f.Name, envflag.Name(f.Name), f.DefValue, f.Usage)
		})
		fmt.Fprintf(stderr, "  (env %s)\n      accepted bearer tokens, comma-separated; enables authentication (no flag, to keep tokens out of ps)\n", envTokens)
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelp
		}
		return cfg, err
	}
	if showVersion {
		fmt.Fprintln(stdout, buildinfo.Read().String("taggerd"))
		return cfg, errVersion
	}
	// The environment twins of the flags not given (the flag wins).
	if err := envflag.Apply(envflag.Std(fs), lookupEnv, envflag.Options{Only: func(name string) bool { return name != "version" }}); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q (see --help)", fs.Args())
	}
	if v, ok := lookupEnv(envTokens); ok {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				cfg.AuthTokens = append(cfg.AuthTokens, t)
			}
		}
		// Set but empty (a Secret whose key is empty, say) would quietly
		// turn authentication off: refuse instead. Unset it to run open.
		if len(cfg.AuthTokens) == 0 {
			return cfg, fmt.Errorf("%s is set but holds no token: authentication would be off; unset it to run without authentication", envTokens)
		}
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return cfg, fmt.Errorf("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch logFormat {
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, opts))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(stderr, opts))
	default:
		return cfg, fmt.Errorf("--log-format: want text or json, got %q", logFormat)
	}
	if playground {
		cfg.UI = web.Handler()
	}
	return cfg, nil
}
