package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// RequestIDHeader is the header (gRPC metadata, HTTP header) of a call's
// request id: the caller's if it sends one, else a new one; the answer
// carries it back.
const RequestIDHeader = "x-request-id"

// Transports of a call, as logs, spans and metrics name them.
const (
	TransportGRPC = "grpc"
	TransportREST = "rest"
)

// Call is what the interceptors learn of one call, for its access log
// line, its span and its metrics. Calls puts it in the context first; auth
// names the caller; the counts come from the messages.
type Call struct {
	RequestID string
	Transport string
	Method    string

	mu      sync.Mutex
	caller  string
	ruleset string

	Documents atomic.Int64 // documents received
	Bytes     atomic.Int64 // bytes of their text (and titles)
	Tags      atomic.Int64 // tags given in the results
}

// Caller is the caller's name, once authenticated ("" before).
func (c *Call) Caller() string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caller
}

func (c *Call) setCaller(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.caller = name
	c.mu.Unlock()
}

// Ruleset is the ruleset version of the call's last result.
func (c *Call) Ruleset() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ruleset
}

func (c *Call) setRuleset(v string) {
	c.mu.Lock()
	c.ruleset = v
	c.mu.Unlock()
}

type callKey struct{}

// CallOf is the call of ctx (nil outside the interceptors).
func CallOf(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

type transportKey struct{}

// WithTransport marks the calls made with ctx as coming over transport
// (REST's in-process calls; gRPC is the default).
func WithTransport(ctx context.Context, transport string) context.Context {
	return context.WithValue(ctx, transportKey{}, transport)
}

// NewRequestID is a new random request id (16 hex digits).
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID is the id a call's metadata carries, if it is a usable one.
func requestID(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDHeader); len(v) > 0 && v[0] != "" && len(v[0]) <= 128 {
		return v[0]
	}
	return ""
}

// CallMetrics are the per-call metrics the gRPC provider's lack: the
// transport (REST calls arrive through the same interceptors) and the
// caller.
type CallMetrics struct {
	calls   *prometheus.CounterVec
	docs    *prometheus.CounterVec
	callers *callerLabels
}

// MaxCallerLabels bounds the caller label: past this many distinct names,
// calls are counted as the caller "other".
const MaxCallerLabels = 64

// NewCallMetrics registers the per-call metrics with reg.
func NewCallMetrics(reg prometheus.Registerer) *CallMetrics {
	m := &CallMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doctagger_calls_total",
			Help: "Calls handled, by transport (grpc, rest), method, gRPC code and caller (the token's name; at most 64 names, then \"other\").",
		}, []string{"transport", "method", "code", "caller"}),
		docs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doctagger_caller_documents_total",
			Help: "Documents received, by transport and caller.",
		}, []string{"transport", "caller"}),
		callers: &callerLabels{seen: map[string]bool{}},
	}
	reg.MustRegister(m.calls, m.docs)
	return m
}

// callerLabels caps the values of the caller label.
type callerLabels struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (l *callerLabels) label(name string) string {
	if name == "" {
		return "unknown"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[name] {
		return name
	}
	if len(l.seen) >= MaxCallerLabels {
		return "other"
	}
	l.seen[name] = true
	return name
}

// Calls is the first interceptor of every call after the limiter: it gives
// the call its request id (sent back in the response headers), its Call in
// the context, counts its documents, bytes and tags from the messages, and
// when it ends sets them on the call's span and counts the call.
type Calls struct {
	Metrics *CallMetrics // nil: not counted
}

func (c *Calls) begin(ctx context.Context, method string) (context.Context, *Call) {
	call := &Call{RequestID: requestID(ctx), Transport: TransportGRPC, Method: method}
	if t, ok := ctx.Value(transportKey{}).(string); ok {
		call.Transport = t
	}
	if call.RequestID == "" {
		call.RequestID = NewRequestID()
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("request.id", call.RequestID), attribute.String("doctagger.transport", call.Transport))
	}
	return context.WithValue(ctx, callKey{}, call), call
}

func (c *Calls) end(ctx context.Context, call *Call, err error) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		attrs := []attribute.KeyValue{
			attribute.String("doctagger.caller", call.Caller()),
			attribute.Int64("doctagger.documents", call.Documents.Load()),
			attribute.Int64("doctagger.bytes", call.Bytes.Load()),
			attribute.Int64("doctagger.tags", call.Tags.Load()),
		}
		if v := call.Ruleset(); v != "" {
			attrs = append(attrs, attribute.String("doctagger.ruleset_version", v))
		}
		span.SetAttributes(attrs...)
	}
	if c.Metrics != nil {
		caller := c.Metrics.callers.label(call.Caller())
		c.Metrics.calls.WithLabelValues(call.Transport, shortMethod(call.Method), status.Code(err).String(), caller).Inc()
		if n := call.Documents.Load(); n > 0 {
			c.Metrics.docs.WithLabelValues(call.Transport, caller).Add(float64(n))
		}
	}
}

// shortMethod is a full method's last part, as grpc_server_* label it.
func shortMethod(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

// Unary is the interceptor of unary calls.
func (c *Calls) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, call := c.begin(ctx, info.FullMethod)
		_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, call.RequestID))
		call.countRequest(req)
		resp, err := handler(ctx, req)
		if err == nil {
			call.countResponse(resp)
		}
		c.end(ctx, call, err)
		return resp, err
	}
}

// Stream is the interceptor of streams.
func (c *Calls) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, call := c.begin(ss.Context(), info.FullMethod)
		_ = ss.SetHeader(metadata.Pairs(RequestIDHeader, call.RequestID))
		err := handler(srv, &countingStream{ServerStream: ss, ctx: ctx, call: call})
		c.end(ctx, call, err)
		return err
	}
}

type countingStream struct {
	grpc.ServerStream
	ctx  context.Context
	call *Call
}

func (s *countingStream) Context() context.Context { return s.ctx }

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.call.countRequest(m)
	}
	return err
}

func (s *countingStream) SendMsg(m any) error {
	s.call.countResponse(m)
	return s.ServerStream.SendMsg(m)
}

func (c *Call) countRequest(req any) {
	switch r := req.(type) {
	case *pb.TagDocumentRequest:
		c.countDocs(r.GetDocument())
	case *pb.StreamTagDocumentsRequest:
		c.countDocs(r.GetDocument())
	case *pb.BatchTagDocumentsRequest:
		c.countDocs(r.GetDocuments()...)
	}
}

func (c *Call) countDocs(docs ...*pb.Document) {
	var n int
	for _, d := range docs {
		n += len(d.GetText()) + len(d.GetTitle())
	}
	c.Documents.Add(int64(len(docs)))
	c.Bytes.Add(int64(n))
}

func (c *Call) countResponse(resp any) {
	switch r := resp.(type) {
	case *pb.TagDocumentResponse:
		c.countResults(r.GetResult())
	case *pb.StreamTagDocumentsResponse:
		c.countResults(r.GetResult())
	case *pb.BatchTagDocumentsResponse:
		c.countResults(r.GetResults()...)
	}
}

func (c *Call) countResults(results ...*pb.DocumentResult) {
	var tags int
	version := ""
	for _, r := range results {
		tags += len(r.GetTags())
		if v := r.GetRulesetVersion(); v != "" {
			version = v
		}
	}
	c.Tags.Add(int64(tags))
	if version != "" && version != c.Ruleset() {
		c.setRuleset(version)
	}
}

// ContextHandler adds to every record logged with a call's context (the
// service's, the recovery's) the call's request id and caller.
type ContextHandler struct{ slog.Handler }

func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if call := CallOf(ctx); call != nil && !hasAttr(r, "request_id") {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", call.RequestID))
		if name := call.Caller(); name != "" {
			r.AddAttrs(slog.String("caller", name))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(attrs)}
}

func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}

func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// durationField is the access log's duration.
func durationField(d time.Duration) []any { return []any{"duration", d} }
