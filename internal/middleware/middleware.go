// Package middleware holds the gRPC interceptors every call goes through,
// over gRPC and REST alike: panic recovery, the call log, and bearer-token
// authentication (also checked from a call's headers alone, before its
// message is read), and the chaining that REST's in-process calls use.
package middleware

import (
	"context"
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
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// RecoveryOption turns a panic in a handler into INTERNAL and logs its stack.
func RecoveryOption(log *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		method, _ := grpc.Method(ctx)
		log.ErrorContext(ctx, "panic in gRPC handler", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
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
