// Package middleware holds the gRPC interceptors every call goes through,
// over gRPC and REST alike: panic recovery, the call log, and bearer-token
// authentication (also checked from a call's headers alone, before its
// message is read), and the chaining that REST's in-process calls use.
package middleware

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// RecoveryOption turns a panic in a handler into INTERNAL and logs its stack.
func RecoveryOption(log *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		method, _ := grpc.Method(ctx)
		log.Error("panic in gRPC handler", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
}

// logLevel: successes at debug (an access log with --log-level=debug),
// client errors at info, server errors at error.
func logLevel(code codes.Code) slog.Level {
	switch code {
	case codes.OK:
		return slog.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func LogCall(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	level := logLevel(code)
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Duration("duration", time.Since(start)),
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String("peer", p.Addr.String()))
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("x-request-id"); len(v) > 0 {
			attrs = append(attrs, slog.String("request_id", v[0]))
		}
		if v := md.Get("x-forwarded-for"); len(v) > 0 {
			attrs = append(attrs, slog.String("forwarded_for", v[0]))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", status.Convert(err).Message()))
	}
	log.LogAttrs(ctx, level, "grpc call", attrs...)
}

func UnaryLogging(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		LogCall(ctx, log, info.FullMethod, start, err)
		return resp, err
	}
}

func StreamLogging(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		LogCall(ss.Context(), log, info.FullMethod, start, err)
		return err
	}
}

// Auth checks bearer tokens. With no tokens configured it lets everything
// through.
type Auth struct {
	hashes     atomic.Pointer[[][32]byte]
	openHealth bool
}

func (a *Auth) SetTokens(tokens []string) {
	h := make([][32]byte, len(tokens))
	for i, t := range tokens {
		h[i] = sha256.Sum256([]byte(t))
	}
	a.hashes.Store(&h)
}

func (a *Auth) Enabled() bool {
	h := a.hashes.Load()
	return h != nil && len(*h) > 0
}

// check reports whether the Authorization value carries an accepted token.
func (a *Auth) Check(authorization string) error {
	h := a.hashes.Load()
	if h == nil || len(*h) == 0 {
		return nil
	}
	if authorization == "" {
		return unauthenticated(pb.ErrorReason_MISSING_TOKEN, "missing bearer token: send the header \"authorization: Bearer <token>\"")
	}
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return unauthenticated(pb.ErrorReason_INVALID_TOKEN, "malformed authorization header: want \"Bearer <token>\"")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, want := range *h {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 {
		return unauthenticated(pb.ErrorReason_INVALID_TOKEN, "invalid bearer token")
	}
	return nil
}

func unauthenticated(reason pb.ErrorReason, msg string) error {
	return pb.NewStatus(codes.Unauthenticated, reason, "", msg, nil).Err()
}

func (a *Auth) open(method string) bool {
	return a.openHealth && (strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection."))
}

func (a *Auth) checkContext(ctx context.Context, method string) error {
	if !a.Enabled() || a.open(method) {
		return nil
	}
	var value string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			value = v[0]
		}
	}
	return a.Check(value)
}

// tap refuses a call without an accepted token from its headers alone.
func (a *Auth) Tap(info *tap.Info) error {
	if !a.Enabled() || a.open(info.FullMethodName) {
		return nil
	}
	var value string
	if v := info.Header.Get("authorization"); len(v) > 0 {
		value = v[0]
	}
	return a.Check(value)
}

func (a *Auth) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.checkContext(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func (a *Auth) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.checkContext(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// NewAuth is an Auth that accepts no token until SetTokens; with
// openHealth, health checks and reflection need none.
func NewAuth(openHealth bool) *Auth { return &Auth{openHealth: openHealth} }

// ReadTokens reads a token file: one token a line, blank lines and lines
// starting with '#' ignored.
func ReadTokens(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	var tokens []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tokens = append(tokens, line)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("token file %s has no token", path)
	}
	return tokens, nil
}

// ChainUnary makes one interceptor of several, the first outermost, as
// grpc.ChainUnaryInterceptor does for a gRPC server: REST's in-process
// calls go through the same chain.
func ChainUnary(ints ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		h := handler
		for i := len(ints) - 1; i >= 0; i-- {
			ic, next := ints[i], h
			h = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, next) }
		}
		return h(ctx, req)
	}
}

// ChainStream is ChainUnary for streams.
func ChainStream(ints ...grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		h := handler
		for i := len(ints) - 1; i >= 0; i-- {
			ic, next := ints[i], h
			h = func(srv any, ss grpc.ServerStream) error { return ic(srv, ss, info, next) }
		}
		return h(srv, ss)
	}
}

// Limiter bounds the calls in flight over the whole server: past max, a
// new call is refused from its headers (Tap, or Full for REST) with
// UNAVAILABLE OVERLOADED and a retry hint, before its message is read.
type Limiter struct {
	max int64
	n   atomic.Int64
}

// NewLimiter is a Limiter of max calls; nil (no bound) for max <= 0.
func NewLimiter(max int) *Limiter {
	if max <= 0 {
		return nil
	}
	return &Limiter{max: int64(max)}
}

// Full reports whether no call may start now.
func (l *Limiter) Full() bool { return l != nil && l.n.Load() >= l.max }

// Overloaded is the error of a call refused by Full.
func (l *Limiter) Overloaded() error {
	st := pb.NewStatus(codes.Unavailable, pb.ErrorReason_OVERLOADED, "",
		fmt.Sprintf("the server is overloaded: %d calls in flight (--max-inflight-calls); retry after %s", l.max, RetryAfter), nil)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryAfter)}); err == nil {
		st = d
	}
	return st.Err()
}

// RetryAfter is the retry hint of an overloaded server.
const RetryAfter = time.Second

// Unary counts the unary calls in flight.
func (l *Limiter) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if l == nil {
			return handler(ctx, req)
		}
		l.n.Add(1)
		defer l.n.Add(-1)
		return handler(ctx, req)
	}
}

// Stream counts the streams in flight.
func (l *Limiter) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if l == nil {
			return handler(srv, ss)
		}
		l.n.Add(1)
		defer l.n.Add(-1)
		return handler(srv, ss)
	}
}

// Tap refuses a call when the server is full (health checks pass: probes
// must see a busy server alive).
func (l *Limiter) Tap(info *tap.Info) error {
	if l.Full() && !strings.HasPrefix(info.FullMethodName, "/grpc.health.v1.Health/") {
		return l.Overloaded()
	}
	return nil
}
