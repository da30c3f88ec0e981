package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/tap"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/gateway"
	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/internal/service"
	"github.com/doctagger/doctagger/internal/wire"
)

// forceStopAfter is how long shutdown waits, after the grace period, for
// streams to send their last results before closing connections.
const forceStopAfter = 5 * time.Second

// Server is the doctagger service: gRPC, REST (grpc-gateway), NDJSON
// streaming, health and metrics. Create it with New and start it with Run.
type Server struct {
	cfg       Config
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *service.Metrics
	rules     *service.Rules
	auth      *middleware.Auth
	limiter   *middleware.Limiter
	quotas    *middleware.Quotas
	cert      atomic.Pointer[tls.Certificate]
	clientCAs *x509.CertPool

	grpc    *grpc.Server
	svc     *service.Service
	unary   grpc.UnaryServerInterceptor  // the interceptors of gRPC calls, chained, for REST's
	stream  grpc.StreamServerInterceptor // (see gateway)
	health  *health.Server
	drain   chan struct{}
	ready   chan struct{}
	serving atomic.Bool
	// stopping is closed when shutdown begins; it ends health watches.
	stopping chan struct{}

	mu       sync.Mutex
	grpcAddr net.Addr
	httpAddr net.Addr
}

// New checks the configuration, loads the rules (failing on a bad rules
// file) and builds the server. It does not listen yet: see Run.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, reg: cfg.Registry, drain: make(chan struct{}), ready: make(chan struct{}), stopping: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	// Lines logged with a call's context carry its request id and caller.
	s.log = slog.New(middleware.ContextHandler{Handler: s.log.Handler()})
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.metrics = service.NewMetrics(s.reg)
	registerBuildInfo(s.reg)
	var err error
	if s.rules, err = service.NewRules(cfg.RulesPath, s.log, s.metrics); err != nil {
		return nil, fmt.Errorf("loading the rules: %w", err)
	}
	s.auth = middleware.NewAuth(cfg.OpenHealth)
	s.limiter = middleware.NewLimiter(cfg.MaxInflightCalls)
	if err := s.loadTokens(); err != nil {
		return nil, err
	}
	quotas, err := s.quotaConfig()
	if err != nil {
		return nil, err
	}
	s.quotas = middleware.NewQuotas(quotas, s.reg)
	if err := s.loadTLS(); err != nil {
		return nil, err
	}

	grpcMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	s.reg.MustRegister(grpcMetrics)
	// Interceptor order: the limiter's count, recovery, the call (request
	// id, counts, span attributes, per-caller metrics), logging, metrics,
	// auth (names the caller), quotas, recovery. Recovery twice: innermost,
	// so that a handler's panic reaches logging and metrics as INTERNAL;
	// outermost, for the interceptors. REST calls go through the same
	// chains (inProcess).
	calls := &middleware.Calls{Metrics: middleware.NewCallMetrics(s.reg)}
	logging := middleware.Logging{Log: s.log, AccessLog: cfg.AccessLog}
	unary := []grpc.UnaryServerInterceptor{
		s.limiter.Unary(),
		recovery.UnaryServerInterceptor(middleware.RecoveryOption(s.log)),
		calls.Unary(),
		logging.Unary(),
		grpcMetrics.UnaryServerInterceptor(),
		s.auth.Unary(),
		s.quotas.Unary(),
		recovery.UnaryServerInterceptor(middleware.RecoveryOption(s.log)),
	}
	stream := []grpc.StreamServerInterceptor{
		s.limiter.Stream(),
		recovery.StreamServerInterceptor(middleware.RecoveryOption(s.log)),
		calls.Stream(),
		logging.Stream(),
		grpcMetrics.StreamServerInterceptor(),
		s.auth.Stream(),
		s.quotas.Stream(),
		recovery.StreamServerInterceptor(middleware.RecoveryOption(s.log)),
	}
	s.grpc = grpc.NewServer(append(s.tracingOptions(),
		// The codec holds requests to --max-message-bytes and fails one over
		// it alone (in a stream, the others are answered); grpc-go's own
		// limit, which ends the call, is twice that.
		grpc.ForceServerCodecV2(wire.NewLenientCodec(cfg.MaxMessageBytes)),
		grpc.MaxRecvMsgSize(2*cfg.MaxMessageBytes),
		grpc.MaxSendMsgSize(cfg.MaxMessageBytes),
		grpc.MaxConcurrentStreams(uint32(cfg.MaxConcurrentStreams)),
		// Fixed flow-control windows (--stream-window): with grpc-go's
		// default (BDP estimation) a stream's window grows to 16 MiB, and a
		// client that sends without waiting for results makes the server
		// buffer that much per stream, whatever the handler reads (1,000
		// such streams took 2 GB; with 256 KiB windows, 630 MB). 64 KiB, the
		// least HTTP/2 allows and the default, bounds it to 64 MiB for the
		// 1,024 calls of --max-inflight-calls, at about a quarter of one
		// stream's speed on loopback.
		grpc.InitialWindowSize(int32(cfg.StreamWindow)),
		grpc.InitialConnWindowSize(int32(max(cfg.StreamWindow, 1<<20))),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		// MaxConnectionAgeGrace stays at its default, infinity: a long
		// stream is never cut, it just gets no company on its connection.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: cfg.MaxConnectionAge}),
		// The token is checked before grpc-go reads a call's message, which
		// it inflates (gzip) and decodes before any interceptor runs; the
		// auth interceptors check again, and log and count the calls.
		grpc.InTapHandle(s.tapAuth),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	)...)
	s.svc = service.New(service.Limits{
		MaxDocumentBytes:  cfg.MaxDocumentBytes,
		MaxBatchDocuments: cfg.MaxBatchDocuments,
		MaxMessageBytes:   cfg.MaxMessageBytes,
		StreamMaxInFlight: cfg.StreamMaxInFlight,
		StreamIdleTimeout: cfg.StreamIdleTimeout,
		MaxInflightBytes:  cfg.MaxInflightBytes,
	}, s.rules, s.metrics, s.log, s.drain)
	pb.RegisterTaggerServiceServer(s.grpc, s.svc)
	s.unary, s.stream = middleware.ChainUnary(unary...), middleware.ChainStream(stream...)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, healthService{Server: s.health, stopping: s.stopping})
	reflection.Register(s.grpc)
	grpcMetrics.InitializeMetrics(s.grpc)
	return s, nil
}

func (s *Server) loadTLS() error {
	if s.cfg.TLSCertFile == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("loading the TLS certificate: %w", err)
	}
	s.cert.Store(&cert)
	if s.cfg.ClientCAFile != "" && s.clientCAs == nil {
		pem, err := os.ReadFile(s.cfg.ClientCAFile)
		if err != nil {
			return fmt.Errorf("reading the client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate found in the client CA file %s", s.cfg.ClientCAFile)
		}
		s.clientCAs = pool
	}
	return nil
}

func (s *Server) tlsConfig(protos ...string) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: protos,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cert.Load(), nil
		},
	}
	if s.clientCAs != nil {
		c.ClientCAs = s.clientCAs
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// Reload reloads the rules (compiled off the request path, swapped in
// atomically; on error the old rules keep serving), the token file and the
// TLS certificate. taggerd calls it on SIGHUP.
func (s *Server) Reload() error {
	var errs []error
	if err := s.rules.Reload("reload requested"); err != nil {
		errs = append(errs, fmt.Errorf("rules: %w", err))
	}
	if s.cfg.AuthTokenFile != "" {
		if err := s.loadTokens(); err != nil {
			s.log.Error("token file reload failed; the previous tokens stay valid", "err", err)
			errs = append(errs, err)
		}
	}
	if s.cfg.QuotaFile != "" {
		if q, err := s.quotaConfig(); err != nil {
			s.log.Error("quota file reload failed; the previous quotas stay in force", "err", err)
			errs = append(errs, err)
		} else {
			s.quotas.Set(q)
		}
	}
	if err := s.loadTLS(); err != nil {
		s.log.Error("TLS certificate reload failed; the previous certificate stays in use", "err", err)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Ready is closed once the server listens; GRPCAddr and HTTPAddr are then set.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// GRPCAddr is the gRPC listen address (after Ready).
func (s *Server) GRPCAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grpcAddr
}

// HTTPAddr is the HTTP listen address (after Ready), nil without HTTP.
func (s *Server) HTTPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr
}

// limitConnections bounds the connections l accepts at once
// (--max-connections); a client past it waits to be accepted.
func (s *Server) limitConnections(l net.Listener) net.Listener {
	if s.cfg.MaxConnections <= 0 {
		return l
	}
	return netutil.LimitListener(l, s.cfg.MaxConnections)
}

// Registry is the metrics registry served at /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Run listens and serves until ctx ends, then shuts down gracefully: health
// turns NOT_SERVING, listeners close, calls and streams in flight get
// ShutdownGrace to finish, then streams stop reading and answer what they
// took, and after a last few seconds connections are closed.
func (s *Server) Run(ctx context.Context) error {
	gl, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listen: %w", err)
	}
	grpcAddr := gl.Addr()
	gl = s.limitConnections(gl)
	if s.cert.Load() != nil {
		gl = tls.NewListener(gl, s.tlsConfig("h2"))
	}
	var hl net.Listener
	if s.cfg.HTTPAddr != "" {
		if hl, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
			gl.Close()
			return fmt.Errorf("HTTP listen: %w", err)
		}
		hl = s.limitConnections(hl)
	}
	s.mu.Lock()
	s.grpcAddr = grpcAddr
	if hl != nil {
		s.httpAddr = hl.Addr()
	}
	s.mu.Unlock()

	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(gl) }()

	var httpSrv *http.Server
	if hl != nil {
		gw, err := gateway.New(ctx, gateway.Config{
			Service:           s.svc,
			Unary:             s.unary,
			Stream:            s.stream,
			Auth:              s.auth,
			Log:               s.log,
			MaxMessageBytes:   s.cfg.MaxMessageBytes,
			MaxDocumentBytes:  s.cfg.MaxDocumentBytes,
			StreamIdleTimeout: s.cfg.StreamIdleTimeout,
			BodyTimeout:       s.cfg.RESTBodyTimeout,
			Limiter:           s.limiter,
			TracerProvider:    s.cfg.TracerProvider,
			Propagator:        Propagator,
		})
		if err != nil {
			s.grpc.Stop()
			hl.Close()
			return err
		}
		httpSrv = &http.Server{
			Handler:           s.httpHandler(gw),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		if s.cert.Load() != nil {
			httpSrv.TLSConfig = s.tlsConfig("h2", "http/1.1")
			go func() { errc <- httpSrv.ServeTLS(hl, "", "") }()
		} else {
			go func() { errc <- httpSrv.Serve(hl) }()
		}
	}

	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	if s.cfg.RulesPath != "" && s.cfg.WatchRules {
		go func() {
			if err := s.rules.Watch(watchCtx, s.cfg.RulesSettle); err != nil {
				s.log.Error("cannot watch the rules file; reload with SIGHUP", "err", err)
			}
		}()
	}

	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(pb.TaggerService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	s.serving.Store(true)
	close(s.ready)
	attrs := []any{"grpc", grpcAddr.String(), "tls", s.cert.Load() != nil, "mtls", s.clientCAs != nil,
		"auth", s.auth.Enabled(), "rules", s.rules.Source(), "version", s.rules.Current().Tagger.Version()}
	if s.auth.Enabled() {
		attrs = append(attrs, "open_without_token", s.openWithoutToken())
	}
	if hl != nil {
		attrs = append(attrs, "http", hl.Addr().String())
	}
	s.log.Info("taggerd serving", attrs...)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = err
			s.log.Error("server failed; shutting down", "err", err)
		}
	}
	s.shutdown(httpSrv)
	return runErr
}

func (s *Server) shutdown(httpSrv *http.Server) {
	start := time.Now()
	s.log.Info("shutting down: NOT_SERVING, draining", "grace", s.cfg.ShutdownGrace)
	s.serving.Store(false)
	s.health.Shutdown()
	close(s.stopping) // health watches end, so GracefulStop waits only for real calls

	// Calls and streams in flight, gRPC and REST, get the grace period;
	// then streams stop reading and answer what they took (drain), and
	// after a last few seconds connections are closed.
	var wg sync.WaitGroup
	wg.Go(s.grpc.GracefulStop)
	if httpSrv != nil {
		wg.Go(func() {
			if err := httpSrv.Shutdown(context.Background()); err != nil {
				s.log.Warn("HTTP shutdown", "err", err)
			}
		})
	}
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.cfg.ShutdownGrace):
		s.log.Warn("grace period over: streams stop reading and answer what they took")
		close(s.drain)
		select {
		case <-stopped:
		case <-time.After(forceStopAfter):
			s.log.Warn("forcing the server to stop")
			s.grpc.Stop()
			if httpSrv != nil {
				httpSrv.Close()
			}
			<-stopped
		}
	}
	s.log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
}

// tapAuth refuses, from its headers, a call without an accepted token, or
// when the server is full (--max-inflight-calls), before grpc-go reads its
// message (see New), and logs it as the interceptors log a call.
func (s *Server) tapAuth(ctx context.Context, info *tap.Info) (context.Context, error) {
	err := s.auth.Tap(info)
	if err == nil {
		err = s.limiter.Tap(info) // shed before the message is read
	}
	if err != nil {
		middleware.LogRefused(ctx, s.log, info.FullMethodName, info.Header, middleware.TransportGRPC, err)
	}
	return ctx, err
}

// openWithoutToken lists what answers without a token when authentication
// is on (--open-health, --open-metrics, --open-docs).
func (s *Server) openWithoutToken() []string {
	var open []string
	if s.cfg.OpenHealth {
		open = append(open, "grpc.health.v1.Health", "grpc.reflection", "/healthz", "/readyz")
	}
	if s.cfg.OpenMetrics {
		open = append(open, "/metrics")
	}
	if s.cfg.OpenDocs {
		open = append(open, "/openapi.json", "/swagger.json")
	}
	if s.cfg.UI != nil {
		open = append(open, "/ (the playground page; its calls need the token)")
	}
	return open
}
