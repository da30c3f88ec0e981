package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
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
)

// recoveryOption turns a panic in a handler into INTERNAL and logs its stack.
func recoveryOption(log *slog.Logger) recovery.Option {
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

func logCall(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
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

func unaryLogging(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logCall(ctx, log, info.FullMethod, start, err)
		return resp, err
	}
}

func streamLogging(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logCall(ss.Context(), log, info.FullMethod, start, err)
		return err
	}
}

// auth checks bearer tokens. With no tokens configured it lets everything
// through.
type auth struct {
	hashes     atomic.Pointer[[][32]byte]
	openHealth bool
}

func (a *auth) setTokens(tokens []string) {
	h := make([][32]byte, len(tokens))
	for i, t := range tokens {
		h[i] = sha256.Sum256([]byte(t))
	}
	a.hashes.Store(&h)
}

func (a *auth) enabled() bool {
	h := a.hashes.Load()
	return h != nil && len(*h) > 0
}

// check reports whether the Authorization value carries an accepted token.
func (a *auth) check(authorization string) error {
	h := a.hashes.Load()
	if h == nil || len(*h) == 0 {
		return nil
	}
	if authorization == "" {
		return unauthenticated(reasonMissingToken, "missing bearer token: send the header \"authorization: Bearer <token>\"")
	}
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return unauthenticated(reasonInvalidToken, "malformed authorization header: want \"Bearer <token>\"")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, want := range *h {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 {
		return unauthenticated(reasonInvalidToken, "invalid bearer token")
	}
	return nil
}

func unauthenticated(reason, msg string) error {
	st := status.New(codes.Unauthenticated, msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain}); err == nil {
		st = d
	}
	return st.Err()
}

func (a *auth) open(method string) bool {
	return a.openHealth && (strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection."))
}

func (a *auth) checkContext(ctx context.Context, method string) error {
	if !a.enabled() || a.open(method) {
		return nil
	}
	var value string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			value = v[0]
		}
	}
	return a.check(value)
}

// tap refuses a call without an accepted token from its headers alone.
func (a *auth) tap(info *tap.Info) error {
	if !a.enabled() || a.open(info.FullMethodName) {
		return nil
	}
	var value string
	if v := info.Header.Get("authorization"); len(v) > 0 {
		value = v[0]
	}
	return a.check(value)
}

func (a *auth) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.checkContext(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func (a *auth) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.checkContext(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// tapAuth refuses, from its headers, a call without an accepted token
// before grpc-go reads its message (see New), and logs it as the
// interceptors log a call.
func (s *Server) tapAuth(ctx context.Context, info *tap.Info) (context.Context, error) {
	err := s.auth.tap(info)
	if err != nil {
		logCall(metadata.NewIncomingContext(ctx, info.Header), s.log, info.FullMethodName, time.Now(), err)
	}
	return ctx, err
}
