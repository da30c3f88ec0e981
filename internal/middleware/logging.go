package middleware

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// AccessLogMessage is the message of a call's log line.
const AccessLogMessage = "finished call"

// LogLevel is the level of a call's log line: successes at info with the
// access log on (else debug), client errors at info, server errors at
// error.
func LogLevel(code codes.Code, accessLog bool) slog.Level {
	switch code {
	case codes.OK:
		if accessLog {
			return slog.LevelInfo
		}
		return slog.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Logging is the call log: go-grpc-middleware's logging interceptor, one
// line per call when it ends (AccessLogMessage), with the method, code,
// duration and peer it gives and, from the call (Calls), the request id,
// transport, caller, documents, bytes and tags.
type Logging struct {
	Log       *slog.Logger
	AccessLog bool // successes at info (else debug)
}

func (l Logging) options() []logging.Option {
	return []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(code codes.Code) logging.Level { return logging.Level(LogLevel(code, l.AccessLog)) }),
		logging.WithDisableLoggingFields(logging.SystemTag[0], logging.ComponentFieldKey, logging.MethodTypeFieldKey),
		logging.WithDurationField(func(d time.Duration) logging.Fields { return durationField(d) }),
	}
}

// appendCallFields appends to f the call's fields of its log line. The
// logger adds them, once, when the line is written and its level is on
// (the counts and the caller are known by then): the library's
// WithFieldsFromContextAndCallMeta would build them at the start of the
// call as well as at its end, whatever the level.
func appendCallFields(f []any, ctx context.Context, call *Call) []any {
	f = append(f, "request_id", call.RequestID, "transport", call.Transport)
	if name := call.Caller(); name != "" {
		f = append(f, "caller", name)
	}
	if n := call.Documents.Load(); n > 0 {
		f = append(f, "documents", n, "bytes", call.Bytes.Load(), "tags", call.Tags.Load())
	}
	if v := metadata.ValueFromIncomingContext(ctx, "x-forwarded-for"); len(v) > 0 {
		f = append(f, "forwarded_for", v[0])
	}
	return f
}

// maxCallFields is the most appendCallFields appends.
const maxCallFields = 14

func (l Logging) logger() logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, level logging.Level, msg string, fields ...any) {
		lvl := slog.Level(level)
		call := CallOf(ctx)
		if lvl == slog.LevelInfo && call != nil && strings.HasPrefix(call.Method, "/grpc.health.v1.Health/") {
			lvl = slog.LevelDebug // probes every few seconds: not access worth logging
		}
		if !l.Log.Enabled(ctx, lvl) {
			return
		}
		if call != nil {
			// The call's fields first, as the library puts those of
			// WithFieldsFromContextAndCallMeta.
			fields = append(appendCallFields(make([]any, 0, maxCallFields+len(fields)), ctx, call), fields...)
		}
		l.Log.Log(ctx, lvl, msg, fields...)
	})
}

// Unary is the call log of unary calls.
func (l Logging) Unary() grpc.UnaryServerInterceptor {
	return logging.UnaryServerInterceptor(l.logger(), l.options()...)
}

// Stream is the call log of streams.
func (l Logging) Stream() grpc.StreamServerInterceptor {
	return logging.StreamServerInterceptor(l.logger(), l.options()...)
}

// LogRefused logs a call refused before the interceptors (from its
// headers: no token, a full server) as the call log does, with the same
// fields; md is its metadata.
func LogRefused(ctx context.Context, log *slog.Logger, method string, md metadata.MD, transport string, err error) {
	code := status.Code(err)
	level := LogLevel(code, false)
	if !log.Enabled(ctx, level) {
		return
	}
	cm := interceptors.NewServerCallMeta(method, nil, nil)
	attrs := []slog.Attr{
		slog.String(logging.ServiceFieldKey, cm.Service),
		slog.String(logging.MethodFieldKey, cm.Method),
	}
	if v := md.Get(RequestIDHeader); len(v) > 0 && v[0] != "" {
		attrs = append(attrs, slog.String("request_id", v[0]))
	}
	attrs = append(attrs, slog.String("transport", transport))
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String("peer.address", p.Addr.String()))
	}
	if v := md.Get("x-forwarded-for"); len(v) > 0 {
		attrs = append(attrs, slog.String("forwarded_for", v[0]))
	}
	attrs = append(attrs, slog.String("grpc.code", code.String()), slog.String("grpc.error", err.Error()),
		slog.Duration("duration", 0))
	log.LogAttrs(ctx, level, AccessLogMessage, attrs...)
}
